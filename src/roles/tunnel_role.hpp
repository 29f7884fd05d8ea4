// Wires the tunnel role from the configuration: the tunnel_allocator actor
// (tokens in <data-dir>/tunnel.db), the SSH server (src/tunnel/) and the
// tunnel's HTTP API (src/http/tunnel_api).
#pragma once

#include "actors/actors.hpp"
#include "roles/config.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace fogbow {

namespace tunnel {
class ssh_server;
}
class tunnel_api;

class tunnel_role {
public:
  tunnel_role(caf::actor_system& sys, fogbow_config config,
              std::string data_dir);
  ~tunnel_role();

  /// Loads the tokens, starts the SSH server and the HTTP API; logs
  /// "tunnel: SSH on H:P, HTTP API on http://H:P". Throws
  /// std::runtime_error with a message for the operator.
  void start();

  /// Stops the HTTP API, the SSH server (closing every session) and the
  /// allocator. Idempotent.
  void stop();

  int ssh_port() const { return ssh_port_; }
  int http_port() const { return http_port_; }

private:
  caf::actor_system& sys_;
  fogbow_config config_;
  std::string data_dir_;
  tunnel_allocator_actor allocator_;
  supervisor_actor supervisor_;
  std::shared_ptr<tunnel::ssh_server> server_;
  std::unique_ptr<tunnel_api> api_;
  int ssh_port_ = 0;
  int http_port_ = 0;
};

/// For `--role=all`: when the manager has no [manager.tunnel] section but
/// this process runs the tunnel, the manager uses that tunnel.
void use_local_tunnel(fogbow_config& config, const tunnel_role& tunnel);

} // namespace fogbow
