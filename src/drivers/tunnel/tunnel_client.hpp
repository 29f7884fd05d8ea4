// The manager's side of the tunnel (tunnel_client_actor in actors.hpp):
// registers each compute order's token and secret with the tunnel's HTTP
// API, releases it, and reads the ports of instances. Blocking HTTP, so it
// is spawned detached (a thread of its own).
#pragma once

#include "actors/actors.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <memory>
#include <string>

namespace fogbow {

struct tunnel_client_config {
  std::string url;         ///< the tunnel's HTTP API, http://host:port
  std::string secret;      ///< the tunnel's manager_secret
  std::string public_host; ///< host part of ssh_public_address
  int timeout_ms = 5000;
};

/// The secret of an order's token: HMAC-SHA256(manager secret, order id),
/// hex. Derived, never stored: a restarted manager (or a create retried
/// after a crash) hands out the same credentials again.
std::string tunnel_secret_for(const std::string& manager_secret,
                              const std::string& order_id);

struct tunnel_client_state {
  static inline const char* name = "tunnel-client";
  tunnel_client_config config;
};

tunnel_client_actor::behavior_type
tunnel_client(tunnel_client_actor::stateful_pointer<tunnel_client_state> self,
              tunnel_client_config config);

} // namespace fogbow
