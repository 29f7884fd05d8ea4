// Provider side of federation: orders of other members, served by this
// member's cloud. A served order is an ordinary order owned by (requesting
// member, its user), with the id `<its order id>@<requesting member>`, so a
// member can neither see nor touch another member's or a local user's
// orders, and offering the same order twice finds the first one.
//
// A served order is tried once: no room means a refusal at once (the
// requester moves on to another member), never a late answer. It ends with
// its instance; the requester learns that through getinstance.
#include "actors/order_scheduler_impl.hpp"

#include "actors/errors.hpp"
#include "util/log_safe.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace fogbow::scheduler {

namespace {

constexpr auto probe_backstop = std::chrono::seconds(60);

/// The instance as the requesting member sees it: the provider's local
/// ids; `order_id` is ours (the federation server looks up tunnel ports by
/// it and never sends it).
instance served_view(const order& o, instance inst) {
  inst.order_id = o.id;
  inst.kind = o.kind;
  return inst;
}

/// Compute instances the member holds or is getting here.
std::int32_t served_count(self_ptr self, const std::string& member) {
  std::int32_t n = 0;
  for (auto& [id, o] : self->state.orders)
    if (is_served(self, o) && o.requesting_member == member
        && o.kind == resource_kind::compute && o.state != order_state::deleted
        && !is_terminal(o.state))
      ++n;
  return n;
}

/// The requester's own order id: the part before the first '@'.
std::string remote_order_id(const order& o) {
  return o.id.substr(0, o.id.find('@'));
}

order* find_served(self_ptr self, const std::string& member,
                   const std::string& local_id) {
  auto gid = global_instance_id(local_id, self->state.config.member_id);
  for (auto& [id, o] : self->state.orders)
    if (is_served(self, o) && o.requesting_member == member
        && o.instance_id == gid)
      return &o;
  return nullptr;
}

/// Removes what is served for an order no one wants any more.
void reclaim(self_ptr self, const std::string& order_id,
             const std::string& why) {
  auto it = self->state.orders.find(order_id);
  if (it == self->state.orders.end()
      || it->second.state == order_state::deleted)
    return;
  log()->info("reclaiming order {} of {}: {}",
              log_safe(remote_order_id(it->second)),
              log_safe(it->second.requesting_member), log_safe(why));
  delete_order_now(self, it->second, {});
}

void probe_answered(self_ptr self, const std::string& order_id,
                    const std::string& requester, bool used) {
  self->state.unreachable_since.erase(requester);
  if (!used)
    reclaim(self, order_id, "the requester no longer uses it");
}

void probe_failed(self_ptr self, const std::string& order_id,
                  const std::string& requester, const caf::error& e) {
  if (code_of(e) == errc::not_found) {
    probe_answered(self, order_id, requester, false);
    return;
  }
  auto& st = self->state;
  auto t = now(self);
  auto since = st.unreachable_since.emplace(requester, t).first->second;
  auto grace = st.config.federation.requester_grace.count();
  if (t - since >= grace)
    reclaim(self, order_id,
            "the requester has been unreachable for "
              + std::to_string((t - since) / 1000) + " s");
}

/// Starts serving a new order once it is committed.
void admit(self_ptr self, const std::string& order_id) {
  auto& st = self->state;
  auto it = st.orders.find(order_id);
  self
    ->request(st.store, st.config.store_timeout, atom::put_v,
              std::vector<order>{it->second})
    .then(
      [self, order_id](atom::ok) {
        auto i = self->state.orders.find(order_id);
        if (i == self->state.orders.end())
          return;
        enqueue(self, i->second);
        pump(self);
      },
      [self, order_id](const caf::error& e) {
        served_failed(self, order_id, e);
      });
}

} // namespace

caf::result<instance> serve(self_ptr self, order o, std::int32_t cap) {
  auto& st = self->state;
  if (auto it = st.orders.find(o.id); it != st.orders.end()) {
    auto& existing = it->second;
    if (!is_served(self, existing)
        || existing.requesting_member != o.requesting_member)
      return make_error(errc::invalid_argument, "order id in use");
    if (existing.state == order_state::fulfilled)
      if (auto inst = st.instances.find(existing.id);
          inst != st.instances.end())
        return served_view(existing, inst->second);
    if (existing.state == order_state::deleted || is_terminal(existing.state))
      return make_error(errc::no_capacity, "order " + remote_order_id(existing)
                                             + " is being removed here");
    auto rp = self->make_response_promise<instance>();
    st.serve_waiters[existing.id].push_back(rp);
    return rp;
  }
  if (cap >= 0 && o.kind == resource_kind::compute
      && served_count(self, o.requesting_member) >= cap)
    return make_error(errc::no_capacity,
                      o.requesting_member + " holds its share here ("
                        + std::to_string(cap) + " instances)");
  if (st.blocked.count(o.kind) > 0)
    return make_error(errc::no_capacity, "no room here now");
  auto t = now(self);
  o.state = order_state::open;
  o.batch_id = o.requesting_member;
  o.providing_member.clear();
  o.instance_id.clear();
  o.offered_to.clear();
  o.created_at = o.updated_at = t;
  o.fulfilled_at = 0;
  o.attempts = 0;
  o.last_error.clear();
  auto rp = self->make_response_promise<instance>();
  st.serve_waiters[o.id].push_back(rp);
  // Known at once, so that the same offer arriving again waits for this
  // one; placed once committed.
  auto id = o.id;
  st.orders.emplace(id, std::move(o));
  admit(self, id);
  return rp;
}

void served_created(self_ptr self, const order& o, const instance& inst) {
  auto& st = self->state;
  auto w = st.serve_waiters.find(o.id);
  if (w == st.serve_waiters.end())
    return;
  for (auto& rp : w->second)
    rp.deliver(served_view(o, inst));
  st.serve_waiters.erase(w);
}

void served_failed(self_ptr self, const std::string& order_id,
                   const caf::error& e) {
  auto& st = self->state;
  if (auto w = st.serve_waiters.find(order_id); w != st.serve_waiters.end()) {
    for (auto& rp : w->second)
      rp.deliver(e);
    st.serve_waiters.erase(w);
  }
  forget(self, order_id);
}

std::vector<instance> served_instances(self_ptr self, const std::string& member,
                                       const std::vector<std::string>& ids) {
  std::vector<instance> out;
  for (auto& id : ids) {
    if (auto o = find_served(self, member, id)) {
      if (auto inst = self->state.instances.find(o->id);
          inst != self->state.instances.end())
        out.push_back(served_view(*o, inst->second));
    } else if (auto gone = preempted_view(self, member, id)) {
      out.push_back(std::move(*gone));
    }
  }
  return out;
}

caf::result<atom::ok> unserve(self_ptr self, const std::string& member,
                              const std::string& remote_order_id) {
  auto it = self->state.orders.find(remote_order_id + "@" + member);
  if (it == self->state.orders.end()
      || it->second.state == order_state::deleted)
    return atom::ok_v;
  auto rp = self->make_response_promise<atom::ok>();
  delete_order_now(self, it->second, [rp](caf::expected<order> x) mutable {
    if (x)
      rp.deliver(atom::ok_v);
    else
      rp.deliver(std::move(x.error()));
  });
  return rp;
}

caf::result<atom::ok> unserve_instance(self_ptr self, const std::string& member,
                                       const std::string& local_id) {
  auto o = find_served(self, member, local_id);
  if (!o)
    return make_error(errc::not_found, "no instance " + local_id);
  auto rp = self->make_response_promise<atom::ok>();
  delete_order_now(self, *o, [rp](caf::expected<order> x) mutable {
    if (x)
      rp.deliver(atom::ok_v);
    else
      rp.deliver(std::move(x.error()));
  });
  return rp;
}

caf::result<quota_report> served_quota(self_ptr self, const std::string& member,
                                       const std::string& user_id) {
  return cloud_quota(self, [self, &member, &user_id](const order& o) {
    return is_served(self, o) && o.requesting_member == member
           && o.user_id == user_id;
  });
}

void probe_requesters(self_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.config.federation.probe_interval,
                     atom::probe_tick_v);
  for (auto& [id, o] : st.orders) {
    if (!is_served(self, o) || o.state != order_state::fulfilled)
      continue;
    auto requester = o.requesting_member;
    auto order_id = id;
    self
      ->request(st.config.federation.proxy, probe_backstop, atom::probe_v,
                requester, remote_order_id(o), o.instance_id)
      .then([self, order_id, requester](
              bool used) { probe_answered(self, order_id, requester, used); },
            [self, order_id, requester](const caf::error& e) {
              probe_failed(self, order_id, requester, e);
            });
  }
}

} // namespace fogbow::scheduler
