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
#include "openstack/openstack_resources_api.hpp"

#include <caf/typed_response_promise.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

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

/// What both drivers keep: instances by local id and what waits on them.
struct openstack_resource_state {
  struct waiter {
    std::string order_id;
    caf::typed_response_promise<instance> rp;
    millis deadline = 0;
  };
  struct erase_waiter {
    caf::typed_response_promise<atom::ok> rp;
    millis deadline = 0;
  };

  openstack_resource_driver_config cfg;
  std::vector<openstack_worker_actor> workers;
  size_t next_worker = 0;
  cloud_events_actor subscriber;
  std::map<std::string, instance> known;         ///< local id → last seen
  std::map<std::string, std::string> account_of; ///< local id → account
  std::map<std::string, millis> since; ///< local id → when we made it
  std::map<std::string, waiter> creating; ///< creates waiting for a state
  /// erases answered only once the instance is gone (detach).
  std::map<std::string, std::vector<erase_waiter>> erasing;
  std::set<std::string> deleting;  ///< removed by us, maybe still listed
  std::set<std::string> discarded; ///< failed creates we removed
  std::set<std::string> quota_blocked; ///< accounts that hit their quota
  bool poll_in_flight = false;
  std::int64_t last_poll_ms = 0;
  millis poll_armed_at = 0;
  std::string last_poll_error;
};

struct openstack_volume_driver_state : openstack_resource_state {
  static inline const char* name = "openstack-volume-driver";
  std::map<std::string, std::shared_ptr<openstack_volumes>> clouds;
  std::map<std::string, std::string> volume_status; ///< volume id → Cinder's
  std::map<std::string, volume_limits> blocked_limits;
};

struct openstack_network_driver_state : openstack_resource_state {
  static inline const char* name = "openstack-network-driver";
  std::map<std::string, std::shared_ptr<openstack_networks>> clouds;
  std::map<std::string, network_limits> blocked_limits;
};

openstack_driver_actor::behavior_type openstack_volume_driver(
  openstack_driver_actor::stateful_pointer<openstack_volume_driver_state> self,
  openstack_resource_driver_config cfg);

openstack_driver_actor::behavior_type openstack_network_driver(
  openstack_driver_actor::stateful_pointer<openstack_network_driver_state> self,
  openstack_resource_driver_config cfg);

} // namespace fogbow
