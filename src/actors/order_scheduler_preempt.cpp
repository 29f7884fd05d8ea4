// Prioritization: when the cloud has no room for an order, the prioritizer
// (federation/prioritization.hpp) may name a running compute instance to
// take the place of. That instance is removed like a deletion; the order
// waits open for the capacity it frees (the driver's capacity event wakes
// it). A served victim's requester learns the reason at its next
// getinstance and places a persistent order again elsewhere; a local
// victim's order reacts as to a lost instance.
#include "actors/order_scheduler_impl.hpp"

#include "actors/errors.hpp"
#include "util/log_safe.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace fogbow::scheduler {

namespace {

/// Tombstones kept for requesters that have not asked yet.
constexpr std::size_t max_preempted_kept = 4096;

std::vector<fed::running_order> preemptible(self_ptr self) {
  auto& st = self->state;
  std::vector<fed::running_order> out;
  for (auto& [id, o] : st.orders)
    if (o.kind == resource_kind::compute && o.state == order_state::fulfilled
        && !is_remote(self, o) && st.instances.count(id) > 0
        && !o.instance_id.empty())
      out.push_back(
        {id, is_served(self, o) ? o.requesting_member : "", o.fulfilled_at});
  return out;
}

void remember_preempted(self_ptr self, const order& victim,
                        const std::string& why) {
  auto& st = self->state;
  auto local = local_instance_id(victim.instance_id, st.config.member_id);
  if (!local)
    return;
  if (st.preempted.emplace(*local, std::pair{victim.requesting_member, why})
        .second)
    st.preempted_order.push_back(*local);
  while (st.preempted_order.size() > max_preempted_kept) {
    st.preempted.erase(st.preempted_order.front());
    st.preempted_order.pop_front();
  }
}

void remove_victim(self_ptr self, order& victim, const std::string& why) {
  if (is_served(self, victim)) {
    remember_preempted(self, victim, why);
    delete_order_now(self, victim, {});
    return;
  }
  // Our own order: it loses its instance as if the cloud had lost it.
  auto id = victim.id;
  auto gid = victim.instance_id;
  auto local = local_instance_id(gid, self->state.config.member_id);
  self
    ->request(self->state.driver, self->state.config.driver_timeout,
              atom::erase_v, *local)
    .then(
      [self, id, gid, why](atom::ok) {
        auto it = self->state.orders.find(id);
        if (it != self->state.orders.end() && it->second.instance_id == gid)
          instance_gone(self, it->second, why);
      },
      [id](const caf::error& e) {
        log()->warn("could not preempt the instance of order {}: {}", id,
                    message_of(e));
      });
}

std::string requester_of(self_ptr self, const order& o) {
  return is_served(self, o) ? o.requesting_member : std::string{};
}

std::optional<std::string> victim_for(self_ptr self, const order& o,
                                      preemption_candidates& candidates) {
  auto& st = self->state;
  auto& prioritizer = st.config.federation.prioritizer;
  if (!prioritizer || o.kind != resource_kind::compute
      || st.preempting.count(o.id) > 0)
    return std::nullopt;
  if (!candidates)
    candidates = preemptible(self);
  return prioritizer->take_from(requester_of(self, o), *candidates, st.debts);
}

} // namespace

bool may_preempt(self_ptr self, const order& o,
                 preemption_candidates& candidates) {
  return victim_for(self, o, candidates).has_value();
}

bool preempt_for(self_ptr self, order& o) {
  auto& st = self->state;
  preemption_candidates candidates;
  auto victim_id = victim_for(self, o, candidates);
  if (!victim_id)
    return false;
  auto requester = requester_of(self, o);
  auto it = st.orders.find(*victim_id);
  if (it == st.orders.end())
    return false;
  auto& victim = it->second;
  auto beneficiary = requester.empty() ? std::string{"a local order"}
                                       : "an order of " + requester;
  auto why = "preempted by " + st.config.member_id + " for " + beneficiary;
  log()->info(
    "preempting order {} of {} for order {} of {}", log_safe(victim.id),
    is_served(self, victim) ? log_safe(victim.requesting_member)
                            : std::string{"this member"},
    log_safe(o.id), requester.empty() ? "this member" : log_safe(requester));
  st.preempting.insert(o.id);
  update(self, o, order_state::open, "waiting for a preempted instance to go");
  st.waiting.insert(o.id);
  remove_victim(self, victim, why);
  return true;
}

void placement_settled(self_ptr self, const std::string& order_id) {
  self->state.preempting.erase(order_id);
}

std::optional<instance> preempted_view(self_ptr self, const std::string& member,
                                       const std::string& local_id) {
  auto& st = self->state;
  auto it = st.preempted.find(local_id);
  if (it == st.preempted.end() || it->second.first != member)
    return std::nullopt;
  instance inst;
  inst.id = local_id;
  inst.kind = resource_kind::compute;
  inst.state = instance_state::failed;
  inst.fault = it->second.second;
  return inst;
}

void on_balances(self_ptr self, fed::exchange_table balances,
                 fed::debt_table debts) {
  auto& st = self->state;
  st.debts = std::move(debts);
  auto capacity = st.config.federation.capacity;
  if (!capacity)
    return;
  self->request(st.driver, st.config.driver_timeout, atom::resources_v)
    .then(
      [capacity, balances = std::move(balances)](const cloud_resources& res) {
        if (res.instances_total > 0)
          capacity->update(balances, res.instances_total);
      },
      [](const caf::error& e) {
        log()->warn("capacity controller not updated: {}", message_of(e));
      });
}

} // namespace fogbow::scheduler
