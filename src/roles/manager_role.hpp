// Wires the actors of the manager role from the configuration: store,
// cloud driver, order scheduler, and the REST API in front of them.
#pragma once

#include "actors/actors.hpp"
#include "roles/config.hpp"

#include <caf/fwd.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fogbow {

class rest_api;

class manager_role {
public:
  /// `roles` is what this process runs, reported by GET /v1/status.
  manager_role(caf::actor_system& sys, fogbow_config config,
               std::string data_dir, std::vector<std::string> roles);
  ~manager_role();

  /// Opens the store, reads the cloud's instances, spawns the scheduler
  /// and starts the REST API. Returns the HTTP port. Throws
  /// std::runtime_error with a message for the operator when it cannot.
  int start();

  /// Stops the REST API, then the actors. Idempotent.
  void stop();

  /// Federation: call before start() to run a member registry
  /// over this bridge; GET /v1/members then lists the federation.
  void enable_federation(xmpp_bridge_actor bridge);

private:
  cloud_driver_actor spawn_openstack_driver();

  caf::actor_system& sys_;
  fogbow_config config_;
  std::string data_dir_;
  std::vector<std::string> roles_;
  store_actor store_;
  cloud_driver_actor driver_; ///< the router, once start() wired it
  /// Drivers of volumes/attachments and networks, by kind; the compute
  /// driver is driver_ before the router wraps it.
  std::map<resource_kind, cloud_driver_actor> resource_drivers_;
  order_scheduler_actor scheduler_;
  tunnel_client_actor tunnel_; ///< null unless [manager.tunnel]
  std::unique_ptr<rest_api> api_;
  xmpp_bridge_actor bridge_;          ///< null: no federation
  member_registry_actor registry_;
};

} // namespace fogbow
