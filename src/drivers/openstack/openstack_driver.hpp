// The `openstack` cloud driver actor: Nova servers behind the
// cloud_driver_actor interface.
//
// The driver itself never blocks: it is an ordinary event-based actor that
// hands every HTTP call to a small pool of detached worker actors (one
// thread each) and continues when the worker replies. So neither the
// scheduler nor the driver's own mailbox waits on the network.
//
// create: picks the smallest flavor satisfying the order, resolves the
// image (by id or name), POSTs the server (name "fogbow-<order id>",
// metadata fogbow-order-id / fogbow-member, user data base64, the
// configured network or "none"), then answers only when the server leaves
// BUILD: ACTIVE → the running instance; ERROR with "No valid host" → the
// server is deleted and the reply is errc::no_capacity; another ERROR →
// deleted, errc::cloud_error with Nova's fault. A server still building
// after build_timeout_ms is answered as spawning (later changes arrive as
// events). Quota exceeded (403) → errc::no_capacity.
//
// A poll timer lists this member's servers (one GET per account): fast
// (poll_interval_ms, but at least twice as long as the last listing took)
// while creates, deletions or a quota block are pending, slow
// (refresh_interval_ms) otherwise. Changes go to the
// subscriber as instance_changed (failed, lost, running again), and
// capacity_freed when a deleted server is really gone or the quota grew.
// A delete the cloud fails (no answer, 5xx) is tried again with back-off
// (from a second, doubling, up to a minute) until the server is gone.
// The listing is reconciled by the loop the volume and network drivers
// share (reconcile.hpp); what is particular to servers is compute_policy.cpp.
#pragma once

#include "actors/actors.hpp"
#include "domain/mapper.hpp"
#include "drivers/openstack/reconcile.hpp"
#include "openstack/openstack_api.hpp"

#include <caf/typed_response_promise.hpp>

#include <map>
#include <memory>
#include <string>

namespace fogbow {

struct openstack_driver_config {
  std::string member_id;
  openstack_endpoint_config endpoint;
  /// account name → credentials.
  std::map<std::string, openstack_account> accounts;
  /// account name → Keystone session to use, shared with the volume and
  /// network drivers (one token per account for all of them); accounts
  /// missing here get a session of their own.
  std::map<std::string, std::shared_ptr<keystone_session>> sessions;
  /// Chooses the account of each request.
  std::shared_ptr<const mapper_plugin> mapper;
  std::string network_id;    ///< empty: servers get "networks": "none"
  std::string default_image; ///< used when an order names no image
  int workers = 4;
  std::int64_t poll_interval_ms = 1000;
  std::int64_t refresh_interval_ms = 10000;
  std::int64_t build_timeout_ms = 600000;
};

/// The compute driver: the shared reconcile bookkeeping over Nova.
struct openstack_driver_state
    : openstack_support::cloud_driver_state<openstack_cloud, cloud_resources> {
  static inline const char* name = "openstack-driver";
  openstack_driver_config cfg;
};

/// The worker: runs openstack_tasks on its own thread. Spawn detached.
openstack_worker_actor::behavior_type openstack_worker();

openstack_driver_actor::behavior_type openstack_driver(
  openstack_driver_actor::stateful_pointer<openstack_driver_state> self,
  openstack_driver_config cfg);

} // namespace fogbow
