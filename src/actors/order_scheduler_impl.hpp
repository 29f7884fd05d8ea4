// Internals of the order scheduler, shared by its three translation units:
//   order_scheduler.cpp         the order state machine and local placement;
//   order_scheduler_remote.cpp  requester side of federation: offering
//                               orders to other members, watching what they
//                               serve us;
//   order_scheduler_served.cpp  provider side: serving other members'
//                               orders, asking them whether they still use
//                               what we serve.
// Nothing here is part of the scheduler's interface (actors.hpp is).
#pragma once

#include "actors/order_scheduler.hpp"

#include <caf/fwd.hpp>
#include <caf/result.hpp>

#include <caf/expected.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace fogbow::scheduler {

using self_ptr = order_scheduler_actor::stateful_pointer<order_scheduler_state>;

std::shared_ptr<spdlog::logger> log();
millis now(self_ptr self);

// -- the state machine (order_scheduler.cpp) -------------------------------

/// Fire-and-forget write; the store keeps the order of writes.
void persist(self_ptr self, const order& o);
/// Moves `o` to `to` (with the reason shown to its owner) and persists it.
void update(self_ptr self, order& o, order_state to, std::string why = {});
/// Makes an open order ready for an attempt.
void enqueue(self_ptr self, const order& o);
/// Takes an order out of every queue.
void dequeue(self_ptr self, const order& o);
/// Places ready orders while there is room in flight.
void pump(self_ptr self);
/// Arms the back-off timer (once).
void arm_retry(self_ptr self);
/// Drops the order from memory and from the store.
void forget(self_ptr self, const std::string& order_id);
/// What happens to an order whose instance is gone.
void instance_gone(self_ptr self, order& o, const std::string& why);
/// Attachment orders waiting for an instance try again.
void wake_awaiting(self_ptr self);
/// `o` just got its instance (fulfilled_at set): its placement latency.
void observe_placement(self_ptr self, const order& o);
/// A driver call for `operation` failed with `e`: the driver error count.
void count_driver_error(std::string_view operation, const caf::error& e);

// -- requester side (order_scheduler_remote.cpp) ---------------------------

/// This manager takes part in a federation.
bool federated(self_ptr self);
/// An order of another member that this manager serves.
bool is_served(self_ptr self, const order& o);
/// An order of ours that another member serves (or was offered).
bool is_remote(self_ptr self, const order& o);
/// The order's requirements allow this member's own cloud.
bool may_run_locally(self_ptr self, const order& o);
/// Offers an open order to the next eligible member (the picker's choice);
/// with none, the order waits open for membership or capacity to change.
void forward(self_ptr self, order& o);
/// Offers an attachment to the member that holds both its compute and its
/// volume (storagelink), naming them by that member's local ids.
void offer_attachment(self_ptr self, order& o, const std::string& member,
                      const std::string& server_id,
                      const std::string& volume_id);
/// After a restart: offers a pending order again to the member it was
/// pending at (providers are idempotent, so no second instance appears).
void reoffer(self_ptr self, order& o);
/// Tells every member the order was offered to, except `keep`, that it no
/// longer wants anything from them (removeorder); `offered_to` becomes
/// {keep} (or empty).
void release_offers(self_ptr self, order& o, const std::string& keep);
/// Starts the remote-instance monitor and the served-instance probes.
void start_federation(self_ptr self);
/// Reacts to a new member list: wakes waiting orders, re-places what dead
/// members held.
void on_members(self_ptr self, std::vector<member_info> members);
/// Refreshes the state of remote instances (one getinstance per member).
void monitor_remote(self_ptr self);
/// Removes a remote instance of a user.
caf::result<atom::ok> delete_remote_instance(self_ptr self, order& o);
/// A remote member's quota as seen by a user.
caf::result<quota_report> remote_quota(self_ptr self,
                                       const std::string& user_id,
                                       const std::string& member_id);
/// instancebeingused: does `member` hold something we still want?
bool still_used(self_ptr self, const std::string& member,
                const std::string& order_id, const std::string& global_id);

// -- provider side (order_scheduler_served.cpp) ----------------------------

caf::result<instance> serve(self_ptr self, order o, std::int32_t cap);
/// The instance of a served order exists: answer whoever waits for it.
void served_created(self_ptr self, const order& o, const instance& inst);
/// A served order could not be placed: refuse it and forget it.
void served_failed(self_ptr self, const std::string& order_id,
                   const caf::error& e);
std::vector<instance> served_instances(self_ptr self, const std::string& member,
                                       const std::vector<std::string>& ids);
caf::result<atom::ok> unserve(self_ptr self, const std::string& member,
                              const std::string& remote_order_id);
caf::result<atom::ok> unserve_instance(self_ptr self, const std::string& member,
                                       const std::string& local_id);
caf::result<quota_report> served_quota(self_ptr self, const std::string& member,
                                       const std::string& user_id);
/// Asks each requesting member about the instances served to it.
void probe_requesters(self_ptr self);
/// Deletes an order (user's DELETE, removeorder, reclaim): persists the
/// state `deleted`, calls `done` once that is committed (or failed), then
/// removes its instance.
/// The use of this member's cloud by the orders `counts` accepts (running
/// compute instances), with the cloud's capacity from the driver.
caf::result<quota_report>
cloud_quota(self_ptr self, const std::function<bool(const order&)>& counts);

void delete_order_now(self_ptr self, order& o,
                      const std::function<void(caf::expected<order>)>& done);

// -- prioritization (order_scheduler_preempt.cpp) --------------------------

/// The running instances a new order could take the place of, computed
/// once per pump (the set does not change while the pump runs).
using preemption_candidates = std::optional<std::vector<fed::running_order>>;
/// The prioritizer would have `o` take a running instance's place; fills
/// `candidates` on first use.
bool may_preempt(self_ptr self, const order& o,
                 preemption_candidates& candidates);
/// The cloud has no room for `o`: removes the running instance the
/// prioritizer names, if any. True when one is going for `o`, which then
/// waits open for the capacity it frees; false when `o` already preempted
/// once in this placement or nothing may be preempted for it.
bool preempt_for(self_ptr self, order& o);
/// `o` got an instance or is gone: a later placement may preempt again.
void placement_settled(self_ptr self, const std::string& order_id);
/// A served instance of `member` removed by preemption, as the member's
/// getinstance shows it (state failed, the reason as its fault).
std::optional<instance> preempted_view(self_ptr self, const std::string& member,
                                       const std::string& local_id);
/// The accounting's period: new debts; the capacity controller learns.
void on_balances(self_ptr self, fed::exchange_table balances,
                 fed::debt_table debts);

} // namespace fogbow::scheduler
