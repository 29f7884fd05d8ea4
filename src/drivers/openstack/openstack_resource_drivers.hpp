// The `openstack` volume and network drivers: Cinder volumes with their
// Nova attachments, and Neutron networks, each behind the
// cloud_driver_actor interface (plus the poll atom: openstack_driver_actor).
// manager_role puts them into the cloud_router next to the compute driver.
//
// Same style as openstack_driver: the actors never block; every HTTP call
// runs on detached worker actors (openstack_worker), and a poll timer lists
// the member's resources, fast while something is pending, slow otherwise.
// The Keystone sessions are shared with the compute driver (one token per
// account for all drivers).
//
// openstack_volume_driver serves resource_kind::volume AND ::attachment:
//   create(volume): idempotent per order id (a known volume, or one Cinder
//     lists under the name "fogbow-<order id>", is returned); answers when
//     the volume leaves `creating`: available → running; error → the volume
//     is deleted and the answer is cloud_error; Cinder 413 → no_capacity
//     (the account is then watched through Cinder's /limits and
//     capacity_freed is sent when it has room again).
//   create(attachment): spec.server_id/volume_id are local ids; writes the
//     volume metadata fogbow-attachment-order=<order id> (so a listing
//     after a restart names the order), attaches through Nova and answers
//     when Cinder shows the volume in-use on that server. Already attached
//     there → returned as it is; attached elsewhere → conflict.
//   erase("<server>:<volume>") detaches and answers once Cinder no longer
//     shows the attachment (404 → not_found); erase(volume id) deletes the
//     volume (attached or busy → conflict with Cinder's message).
//   list(): the member's volumes and the attachments that carry an order.
//   Events: volumes that vanish (lost) or turn error (failed), attachments
//     that disappear (e.g. the server was deleted: Nova detached it).
// openstack_network_driver serves resource_kind::network: create makes
//   network "fogbow-<order id>" (description fogbow-member=<member>) and
//   its IPv4 subnet (a network left without subnet by a crash gets it),
//   and answers when Neutron says ACTIVE; erase deletes it (subnets go with
//   it); vanished networks are reported lost. Neutron's 409 OverQuota →
//   no_capacity, and the account's quota (/v2.0/quotas/{project}/details)
//   is watched until it has room again (capacity_freed).
// A service missing from the catalog (or switched off in the config)
// makes create fail with errc::unsupported and a clear message; list()
// then answers an empty list.
#pragma once

#include "actors/actors.hpp"
#include "domain/mapper.hpp"
#include "drivers/openstack/reconcile.hpp"
#include "openstack/openstack_resources_api.hpp"

#include <caf/typed_response_promise.hpp>

#include <map>
#include <memory>
#include <string>

namespace fogbow {

/// Settings of either driver. `sessions` (account name → session) are the
/// ones the compute driver uses too.
struct openstack_resource_driver_config {
  std::string member_id;
  std::map<std::string, std::shared_ptr<keystone_session>> sessions;
  std::shared_ptr<const mapper_plugin> mapper;
  bool enabled = true; ///< false: every create is errc::unsupported
  int workers = 2;
  std::int64_t poll_interval_ms = 1000;
  std::int64_t refresh_interval_ms = 10000;
  std::int64_t build_timeout_ms = 600000;
  std::int64_t detach_timeout_ms = 120000; ///< erase of an attachment
};

/// The volume driver: the shared reconcile bookkeeping over Cinder (and
/// Nova's attachments), plus Cinder's status of each volume last listed.
struct openstack_volume_driver_state
    : openstack_support::cloud_driver_state<openstack_volumes, volume_limits> {
  static inline const char* name = "openstack-volume-driver";
  openstack_resource_driver_config cfg;
  std::map<std::string, std::string> volume_status; ///< volume id → Cinder's
};

/// The network driver: the shared reconcile bookkeeping over Neutron.
struct openstack_network_driver_state
    : openstack_support::cloud_driver_state<openstack_networks,
                                            network_limits> {
  static inline const char* name = "openstack-network-driver";
  openstack_resource_driver_config cfg;
};

openstack_driver_actor::behavior_type openstack_volume_driver(
  openstack_driver_actor::stateful_pointer<openstack_volume_driver_state> self,
  openstack_resource_driver_config cfg);

openstack_driver_actor::behavior_type openstack_network_driver(
  openstack_driver_actor::stateful_pointer<openstack_network_driver_state> self,
  openstack_resource_driver_config cfg);

} // namespace fogbow
