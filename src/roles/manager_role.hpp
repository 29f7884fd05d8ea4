// Wires the actors of the manager role from the configuration: store,
// cloud driver, order scheduler, and the REST API in front of them.
#pragma once

#include "actors/actors.hpp"
#include "roles/config.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fogbow {

class rest_api;
class test_fault_injector;
struct supervisor_config;

class manager_role {
public:
  /// `roles` is what this process runs, reported by GET /v1/status.
  manager_role(caf::actor_system& sys, fogbow_config config,
               std::string data_dir, std::vector<std::string> roles);
  ~manager_role();

  /// Opens the store, reads the cloud's instances, spawns the scheduler
  /// and the supervisor that watches them (docs/supervision.md), and starts
  /// the REST API. Returns the HTTP port. Throws
  /// std::runtime_error with a message for the operator when it cannot.
  int start();

  /// Stops the REST API, then the supervisor and every actor with it.
  /// Idempotent.
  void stop();

  /// Federation: call before start() to run a member registry
  /// over this bridge; GET /v1/members then lists the federation.
  void enable_federation(xmpp_bridge_actor bridge);

private:
  /// The cloud router and every driver under it (router first, then the
  /// compute driver); sets router_. Also how a restart rebuilds them.
  std::vector<caf::actor> spawn_drivers();
  /// Every stored order; throws when the store cannot be read.
  std::vector<order> load_orders();
  /// Lists the cloud's instances and spawns a scheduler on them and
  /// `orders` (just loaded). Also how a restart rebuilds it.
  order_scheduler_actor spawn_scheduler(std::vector<order> orders);
  /// The accounting, on `orders` (stored now); told every later change.
  void start_accounting(const std::vector<order>& orders);
  /// Registry, member proxy and federation server (with a bridge).
  void start_federation();
  federation_scheduling scheduler_federation() const;
  supervisor_config supervision(std::vector<caf::actor> drivers,
                                const order_scheduler_actor& scheduler);
  cloud_driver_actor spawn_openstack_driver();

  caf::actor_system& sys_;
  fogbow_config config_;
  std::string data_dir_;
  std::vector<std::string> roles_;
  store_actor store_;
  accounting_actor accounting_;
  /// The accounting's latest exchange table, read by the nof member picker.
  std::shared_ptr<fed::exchange_board> exchanges_;
  /// What the scheduler talks to. Written by start() and then only by the
  /// supervisor's restarts (one thread at a time).
  cloud_driver_actor router_;
  /// Drivers of volumes/attachments and networks, by kind.
  std::map<resource_kind, cloud_driver_actor> resource_drivers_;
  caf::actor scheduler_front_; ///< forwarder to the current scheduler
  supervisor_actor supervisor_;
  std::unique_ptr<test_fault_injector> faults_; ///< FOGBOW_TEST_FAULTS=1 only
  tunnel_client_actor tunnel_; ///< null unless [manager.tunnel]
  std::unique_ptr<rest_api> api_;
  xmpp_bridge_actor bridge_; ///< null: no federation
  member_registry_actor registry_;
  member_proxy_actor proxy_;           ///< null: no federation
  federation_server_actor fed_server_; ///< null: no federation
  /// Shared by the scheduler (which feeds it the accounting's periods) and
  /// the federation server (which reads the caps).
  std::shared_ptr<fed::capacity_controller> capacity_;
};

} // namespace fogbow
