// The order scheduler: the order state machine of one manager.
//
// Event-driven, no polling loop. An order is tried the moment it is created,
// and again when capacity frees (the driver says so), when its validity
// window opens, or when the back-off timer fires after the cloud said "no
// room". Internal state changes are written to the store in the order they
// happen (the store's mailbox keeps that order); user-visible
// acknowledgements (create, delete) wait for the commit.
//
// Crash safety rests on two rules: the driver creates at most one instance
// per order id, and on start the scheduler reconciles the stored orders with
// the driver's instances (adopts, replaces, or removes leaks).
#pragma once

#include "actors/actors.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fogbow {

struct order_scheduler_state {
  static inline const char* name = "order-scheduler";

  order_scheduler_config config;
  store_actor store;
  cloud_driver_actor driver;

  std::map<std::string, order> orders;                 ///< by order id
  std::unordered_map<std::string, instance> instances; ///< by order id
  /// Failures reported for an order whose create reply has not arrived yet
  /// (driver events and replies travel separately), by order id.
  std::unordered_map<std::string, instance> early_failures;

  /// Open orders ready for an attempt, oldest first.
  std::set<std::pair<millis, std::string>> ready;
  /// Open orders whose last attempt failed for another reason than
  /// capacity; they go back to `ready` when the back-off timer fires or
  /// capacity frees.
  std::set<std::string> waiting;
  /// Deleted orders whose instance removal failed; retried with `waiting`.
  std::set<std::string> removals;
  /// Attachment orders waiting for their compute to run and their volume
  /// to be ready; tried again whenever an instance becomes usable.
  std::set<std::string> awaiting;
  /// Open orders of a kind no driver serves: not retried (a restart with
  /// another configuration tries them again).
  std::set<std::string> parked;
  std::int32_t in_flight = 0;
  /// Kinds whose cloud had no room (its quota): their orders wait for a
  /// capacity event or the back-off timer; other kinds go on.
  std::set<resource_kind> blocked;
  bool retry_armed = false;
  std::int64_t backoff_ms = 0;

  /// Validity boundaries still ahead: (time, order id).
  std::multimap<millis, std::string> validity_events;
  millis validity_timer_at = 0; ///< 0 = no timer armed

  millis started_at = 0;

  // -- federation, requester side --------------------------------------
  /// The member list as the registry last sent it.
  std::vector<member_info> members;
  /// Members that refused (or did not answer) an order in its current
  /// round of offers, by order id; the round ends when no member is left.
  std::map<std::string, std::set<std::string>> refused;
  std::int32_t forwards_in_flight = 0;
  /// Orders waiting for a free offer slot (`max_forwards`), oldest first.
  std::deque<std::string> forward_backlog;
  std::int32_t monitor_pending = 0; ///< refresh answers still awaited

  // -- federation, provider side ---------------------------------------
  /// Requests of members waiting for a served order's instance, by order id.
  std::map<std::string, std::vector<caf::typed_response_promise<instance>>>
    serve_waiters;
  /// Requesting members that did not answer a probe, and since when.
  std::map<std::string, millis> unreachable_since;

  // -- prioritization ----------------------------------------------------
  /// What this member owes each other one, from the accounting's last
  /// period (empty until then: everyone is owed 0).
  fed::debt_table debts;
  /// Orders for which an instance was preempted and is being removed:
  /// each order preempts at most once per placement.
  std::set<std::string> preempting;
  /// Served instances removed by preemption: local id -> (the member it
  /// was served to, the reason), so that the member's next getinstance
  /// learns why; oldest first in `preempted_order`, a bounded number.
  std::map<std::string, std::pair<std::string, std::string>> preempted;
  std::deque<std::string> preempted_order;
};

/// Spawned with what the store and the driver hold at start (read by the
/// role before spawning), so that no request can see a half-loaded state.
order_scheduler_actor::behavior_type order_scheduler(
  order_scheduler_actor::stateful_pointer<order_scheduler_state> self,
  store_actor store, cloud_driver_actor driver, order_scheduler_config config,
  std::vector<order> stored_orders, std::vector<instance> cloud_instances);

} // namespace fogbow
