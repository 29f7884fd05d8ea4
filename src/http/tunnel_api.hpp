// The HTTP API of the tunnel role, with the Java FRT's paths (so that its
// agents keep working) plus authentication:
//
//   POST   /token/{id}          manager: create/return the token's port;
//                               a JSON body {"secret": "..."} sets the
//                               family's secret. Instance (its own secret):
//                               allocate a named port `{base}-{name}`.
//                               → 200 "port:sshPort"
//   POST   /token/{id}/key      instance: body = its OpenSSH public key line
//                               → 200 "port:sshPort"
//   GET    /token/{id}          → 200 "port" | 404 "404 Port Not Found"
//   GET    /token/{id}/all      → 200 {"ssh": port, "<name>": port, ...}
//   DELETE /token/{id}/{port}   → 200 "OK" | 405 "Token can not delete this
//   port" DELETE /token/{id}          manager: delete the family (extension)
//   GET    /hostkey             → base64 of the host key (no auth)
//   GET    /informations        manager: [{"token","port","ssh-server-port"}]
//
// Credentials: `X-Auth-Token: <secret>` or HTTP Basic (the password is the
// secret; `curl http://ID:SECRET@host/...`). The manager's shared secret
// may do everything; a token's secret only its own family's tokens.
#pragma once

#include "actors/actors.hpp"
#include "http/http_server.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace fogbow {

struct tunnel_api_config {
  std::string bind_address = "127.0.0.1";
  int port = 2223;            ///< 0: any free port
  std::string manager_secret; ///< empty: no manager access at all
  int ssh_port = 0;           ///< reported in "port:sshPort"
  std::string host_key;       ///< "ssh-ed25519 AAAA..."
  /// Checks and normalizes an OpenSSH public key line; nullopt if invalid.
  std::function<std::optional<std::string>(const std::string&)> parse_key;
  std::chrono::milliseconds actor_timeout{5000};
  int threads = 8;
  int listen_backlog = 1024; ///< connections queued before accept
  /// Deadlines, connection limits and TLS.
  http_transport_config transport;
  bool metrics = true; ///< GET /metrics, open to anyone; false: 404
};

class tunnel_api {
public:
  tunnel_api(caf::actor_system& sys, tunnel_allocator_actor allocator,
             tunnel_api_config cfg);
  ~tunnel_api();
  tunnel_api(const tunnel_api&) = delete;
  tunnel_api& operator=(const tunnel_api&) = delete;

  /// Binds and serves on a thread of its own; returns the port.
  int start();
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace fogbow
