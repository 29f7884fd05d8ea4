// The actor interfaces of Fogbow, all in one place (after VAST's
// actors.hpp). Every component of a role is one of these typed actors; they
// talk only through the messages listed here. Errors travel as caf::error
// built with fogbow::make_error (actors/errors.hpp).
//
// Domain values travel by value inside one process only; the federation
// protocol between sites goes over XMPP with its own encoding, never
// through CAF serialization. That is why the domain structs are allowed as
// "unsafe" (not serializable) message types instead of getting inspectors.
#pragma once

#include "actors/atoms.hpp"
#include "domain/order.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::order)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<fogbow::order>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::instance)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<fogbow::instance>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::instance_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::cloud_resources)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::quota_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<fogbow::member_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::status_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<std::function<void()>>)

namespace fogbow {

/// The STORE actor interface: owns the manager's single SQLite connection.
/// Every reply is sent only after the transaction committed, so whoever
/// acknowledges a user on the strength of it never loses an accepted order.
using store_actor = caf::typed_actor<
  /// Inserts or replaces these orders in one transaction.
  caf::replies_to<atom::put, std::vector<order>>::with<atom::ok>,
  /// Removes the order with this id (no error if it is already gone).
  caf::replies_to<atom::erase, std::string>::with<atom::ok>,
  /// Every stored order, oldest first.
  caf::replies_to<atom::load>::with<std::vector<order>>>;

/// The CLOUD EVENTS interface: what a cloud driver pushes to its
/// subscriber without being asked.
using cloud_events_actor = caf::typed_actor<
  /// An instance changed state by itself: it crashed (failed) or vanished
  /// (lost). The instance carries the order id it was created for.
  caf::reacts_to<atom::instance_changed, instance>,
  /// Capacity became free: an instance was removed or the quota raised.
  caf::reacts_to<atom::capacity_freed>>;

/// The CLOUD DRIVER interface, one actor per configured cloud. Instance
/// ids are the cloud's local ids. Errors: errc::no_capacity,
/// errc::no_matching_flavor, errc::not_found, errc::cloud_error.
using cloud_driver_actor = caf::typed_actor<
  /// Creates an instance for `spec.order_id`. Idempotent per order id: when
  /// an instance for that order exists already, it is returned instead of
  /// creating a second one (this is what makes crash recovery safe).
  caf::replies_to<atom::create, instance_spec>::with<instance>,
  /// One instance.
  caf::replies_to<atom::get, std::string>::with<instance>,
  /// Removes an instance and everything it runs.
  caf::replies_to<atom::erase, std::string>::with<atom::ok>,
  /// Every instance this driver manages, including failed ones.
  caf::replies_to<atom::list>::with<std::vector<instance>>,
  /// Capacity and use.
  caf::replies_to<atom::resources>::with<cloud_resources>,
  /// Changes the totals (vcpu, memory, instances) of the capacity; the
  /// `*_used` fields of the argument are ignored.
  caf::replies_to<atom::set_capacity, cloud_resources>::with<atom::ok>,
  /// Sends this actor every cloud event from now on (one subscriber).
  caf::reacts_to<atom::subscribe, cloud_events_actor>>;

/// The ORDER SCHEDULER interface: the order state machine of one manager.
/// Calls carry the id of the authenticated user; an order or instance of
/// another user is reported as errc::not_found.
using order_scheduler_actor = cloud_events_actor::extend<
  /// Creates `count` orders from a validated template (id, owner, batch
  /// and timestamps are filled in here), persists them, replies with them,
  /// and then tries to place each at once.
  caf::replies_to<atom::create, order, std::int32_t>::with<std::vector<order>>,
  /// The user's orders, oldest first.
  caf::replies_to<atom::list, std::string>::with<std::vector<order>>,
  /// One order of the user: (user id, order id).
  caf::replies_to<atom::get, std::string, std::string>::with<order>,
  /// Deletes an order of the user and removes its instance: (user id,
  /// order id). Replies with the order as it is now (state `deleted`).
  caf::replies_to<atom::erase, std::string, std::string>::with<order>,
  /// The user's compute instances; `id` is the global instance id.
  caf::replies_to<atom::instances, std::string>::with<std::vector<instance>>,
  /// One instance of the user: (user id, global instance id).
  caf::replies_to<atom::instance, std::string, std::string>::with<instance>,
  /// Removes an instance of the user; its order reacts as to a lost
  /// instance (persistent: replaced, one-time: closed).
  caf::replies_to<atom::erase_instance, std::string, std::string>::with<atom::ok>,
  /// Quota of a member as seen by a user: (user id, member id).
  caf::replies_to<atom::quota, std::string, std::string>::with<quota_report>,
  /// The members this manager knows (itself, until federation exists).
  caf::replies_to<atom::members>::with<std::vector<member_info>>,
  /// Health and counters.
  caf::replies_to<atom::status>::with<status_report>,
  /// Internal: the retry back-off timer fired.
  caf::reacts_to<atom::retry>,
  /// Internal: a validity boundary (valid_from/valid_until) was reached.
  caf::reacts_to<atom::validity>>;

/// Settings of the order scheduler, filled in by src/roles/.
struct order_scheduler_config {
  std::string member_id;        ///< this manager's member id
  std::int32_t max_in_flight = 64; ///< placements sent to the driver at once
  std::int64_t retry_initial_ms = 1000; ///< first back-off after "no room"
  std::int64_t retry_max_ms = 60000;    ///< back-off ceiling
  /// The wall clock; tests replace it to move through validity windows.
  std::function<millis()> clock = now_millis;
};

// -- openstack driver (issue 5) ----------------------------------------------

/// A blocking job for an OpenStack worker; it stores its own result.
using openstack_task = std::shared_ptr<std::function<void()>>;

/// The OPENSTACK WORKER interface: a detached actor (its own thread) that
/// runs blocking HTTP calls for the openstack driver, so that neither the
/// driver nor the scheduler ever waits on the network.
using openstack_worker_actor = caf::typed_actor<
  /// Runs the task on this worker's thread; replies when it is done.
  caf::replies_to<atom::run, openstack_task>::with<atom::ok>>;

/// The OPENSTACK DRIVER interface: a cloud driver plus its own poll timer
/// (server state changes, deletions completing, quota headroom).
using openstack_driver_actor = cloud_driver_actor::extend<
  /// Internal: time to list the servers again.
  caf::reacts_to<atom::poll>>;

// Behaviours and states live in one header per actor (src/actors/<name>.hpp,
// src/drivers/<driver>/), so that this file stays cheap to include.

} // namespace fogbow
