// A cloud driver decorator for managers that use a tunnel: before an
// instance is created it registers the order's token and secret with the
// tunnel (tunnel_client) and wraps the user data into a cloud-init MIME
// message whose first part is the tunnel agent; after an instance is
// erased it releases the token. Everything else goes to the inner driver.
#pragma once

#include "actors/actors.hpp"
#include "drivers/tunnel/tunnel_agent.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <string>

namespace fogbow {

struct tunnel_driver_state {
  static inline const char* name = "tunnel-driver";
  cloud_driver_actor inner;
  tunnel_client_actor client;
  tunnel_agent_settings agent;
  std::map<std::string, std::string> order_of; ///< instance id → order id
};

cloud_driver_actor::behavior_type
tunnel_driver(cloud_driver_actor::stateful_pointer<tunnel_driver_state> self,
              cloud_driver_actor inner, tunnel_client_actor client,
              tunnel_agent_settings agent);

} // namespace fogbow
