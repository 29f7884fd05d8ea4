// Requester side of federation: an order this member's cloud cannot serve
// is offered to other members, one at a time, until one serves it.
//
// Exactly one instance per order rests on three rules:
//   - an order is pending at one member at a time (`providing_member`), and
//     every member it was ever offered to is remembered (`offered_to`,
//     persisted) until it hears that the order is served elsewhere or
//     deleted (removeorder);
//   - providers are idempotent per (requesting member, order id), so
//     offering again after a timeout or a restart returns the same instance;
//   - a provider that holds an instance we do not want learns it when it
//     asks (instancebeingused) and removes it.
#include "actors/order_scheduler_impl.hpp"

#include "actors/errors.hpp"
#include "domain/requirements.hpp"
#include "util/log_safe.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace fogbow::scheduler {

namespace {

/// Backstop for proxy calls other than offers: the proxy's IQs have their
/// own, shorter deadline.
constexpr auto proxy_backstop = std::chrono::seconds(60);

const std::string& self_id(self_ptr self) {
  return self->state.config.member_id;
}

std::set<std::string> alive_members(const std::vector<member_info>& members) {
  std::set<std::string> out;
  for (auto& m : members)
    if (m.alive && !m.is_self)
      out.insert(m.id);
  return out;
}

bool is_alive(self_ptr self, const std::string& member) {
  for (auto& m : self->state.members)
    if (m.id == member)
      return m.alive;
  return false;
}

requirements::expression expression_of(const order& o) {
  // Validated when the order was posted; an unparsable text (never stored)
  // would restrict nothing.
  auto parsed = requirements::parse(o.requirements);
  if (auto e = std::get_if<requirements::expression>(&parsed))
    return *e;
  return {};
}

/// Alive members, other than this one, that this order may go to now.
std::vector<std::string> candidates_for(self_ptr self, const order& o) {
  auto& st = self->state;
  auto& validator = st.config.federation.validator;
  auto expr = expression_of(o);
  auto refused = st.refused.find(o.id);
  std::vector<std::string> out;
  for (auto& m : st.members) {
    if (m.is_self || !m.alive || m.id == self_id(self))
      continue;
    if (validator && !validator->can_receive_from(m.id))
      continue;
    if (!requirements::allows_member(expr, m.id))
      continue;
    if (refused != st.refused.end() && refused->second.count(m.id) > 0)
      continue;
    out.push_back(m.id);
  }
  return out;
}

void send_removeorder(self_ptr self, const std::string& member,
                      const std::string& order_id) {
  self
    ->request(self->state.config.federation.proxy, proxy_backstop,
              atom::erase_v, member, order_id)
    .then([](atom::ok) {},
          [member, order_id](const caf::error& e) {
            // The member reclaims it when we answer its probe "not used".
            log()->info("could not tell {} that order {} is withdrawn: {}",
                        log_safe(member), order_id, log_safe(message_of(e)));
          });
}

void offer(self_ptr self, order& o, const std::string& member,
           const order* payload = nullptr);

/// An offer ended: the next order waiting for a slot goes.
void offer_done(self_ptr self) {
  auto& st = self->state;
  --st.forwards_in_flight;
  while (st.forwards_in_flight < st.config.federation.max_forwards
         && !st.forward_backlog.empty()) {
    auto id = st.forward_backlog.front();
    st.forward_backlog.pop_front();
    auto it = st.orders.find(id);
    if (it != st.orders.end() && it->second.state == order_state::open)
      forward(self, it->second);
  }
}

void offer_answered(self_ptr self, const std::string& order_id,
                    const std::string& member, const std::string& local_id) {
  auto& st = self->state;
  offer_done(self);
  auto gid = global_instance_id(local_id, member);
  auto it = st.orders.find(order_id);
  if (it == st.orders.end() || it->second.state != order_state::pending
      || it->second.providing_member != member) {
    // The order moved on (deleted, or served elsewhere) while the member
    // worked on it: what it made for the order goes.
    if (it == st.orders.end() || it->second.instance_id != gid)
      send_removeorder(self, member, order_id);
    pump(self);
    return;
  }
  auto& o = it->second;
  o.instance_id = gid;
  o.fulfilled_at = now(self);
  observe_placement(self, o);
  st.refused.erase(order_id);
  instance inst;
  inst.id = local_id;
  inst.order_id = order_id;
  inst.kind = o.kind;
  inst.state = instance_state::spawning;
  inst.created_at = o.fulfilled_at;
  st.instances[order_id] = inst;
  release_offers(self, o, member);
  update(self, o, order_state::fulfilled);
  wake_awaiting(self);
  pump(self);
}

void offer_failed(self_ptr self, const std::string& order_id,
                  const std::string& member, const caf::error& e) {
  auto& st = self->state;
  offer_done(self);
  auto it = st.orders.find(order_id);
  if (it == st.orders.end() || it->second.state != order_state::pending
      || it->second.providing_member != member) {
    pump(self);
    return;
  }
  auto& o = it->second;
  log()->info("member {} did not serve order {}: {}", log_safe(member),
              order_id, log_safe(message_of(e)));
  o.last_error = member + ": " + message_of(e);
  if (o.kind == resource_kind::attachment) {
    // Only the member holding both instances can serve it: ask again later.
    o.providing_member.clear();
    update(self, o, order_state::open, o.last_error);
    st.waiting.insert(order_id);
    arm_retry(self);
  } else {
    st.refused[order_id].insert(member);
    forward(self, o);
  }
  pump(self);
}

void offer(self_ptr self, order& o, const std::string& member,
           const order* payload) {
  auto& st = self->state;
  o.providing_member = member;
  if (std::find(o.offered_to.begin(), o.offered_to.end(), member)
      == o.offered_to.end())
    o.offered_to.push_back(member);
  ++o.attempts;
  // Persisted before the offer leaves: after a crash, the member is told
  // when the order is served elsewhere or deleted.
  update(self, o, order_state::pending, o.last_error);
  ++st.forwards_in_flight;
  auto& fed = st.config.federation;
  auto id = o.id;
  self
    ->request(fed.proxy, fed.forward_timeout + std::chrono::seconds(5),
              atom::create_v, member, payload ? *payload : o)
    .then(
      [self, id, member](const std::string& local_id) {
        offer_answered(self, id, member, local_id);
      },
      [self, id, member](const caf::error& e) {
        offer_failed(self, id, member, e);
      });
}

/// Waits open for membership or capacity to change (or the back-off).
void wait_for_members(self_ptr self, order& o) {
  auto& st = self->state;
  // The round is over: the next one may try every member again.
  auto tried = st.refused.erase(o.id) > 0;
  auto why = tried ? "no member could serve it (last: " + o.last_error + ")"
                   : (o.last_error.empty()
                        ? std::string{"no member can serve it now"}
                        : o.last_error + "; no other member can serve it now");
  o.providing_member.clear();
  update(self, o, order_state::open, why);
  st.waiting.insert(o.id);
  arm_retry(self);
}

/// The refresh of one member's instances came back.
void apply_refresh(self_ptr self, const std::string& member,
                   const std::set<std::string>& asked,
                   const std::vector<instance>& found) {
  auto& st = self->state;
  std::map<std::string, const instance*> by_id;
  for (auto& inst : found)
    by_id[inst.id] = &inst;
  std::vector<std::pair<std::string, std::string>> gone; // order id, why
  bool changed = false;
  for (auto& [id, o] : st.orders) {
    if (!is_remote(self, o) || o.providing_member != member
        || o.state != order_state::fulfilled)
      continue;
    auto local = split_instance_id(o.instance_id);
    if (!local || asked.count(local->first) == 0)
      continue;
    auto hit = by_id.find(local->first);
    if (hit == by_id.end()) {
      gone.emplace_back(id, "member " + member + " no longer has the instance");
      continue;
    }
    if (hit->second->state == instance_state::failed) {
      // Failed there (preempted, crashed): it will not come back.
      gone.emplace_back(id, "member " + member + ": " + hit->second->fault);
      continue;
    }
    auto inst = *hit->second;
    inst.order_id = id;
    inst.kind = o.kind;
    auto& known = st.instances[id];
    changed = changed || known.state != inst.state;
    known = std::move(inst);
  }
  for (auto& [id, why] : gone)
    if (auto it = st.orders.find(id); it != st.orders.end()) {
      // Placed again, elsewhere first.
      st.refused[id].insert(member);
      instance_gone(self, it->second, why);
    }
  if (changed) {
    // An attachment may have waited for one of them to be running.
    wake_awaiting(self);
    pump(self);
  }
}

void mark_unknown(self_ptr self, const std::string& member) {
  auto& st = self->state;
  for (auto& [id, o] : st.orders)
    if (is_remote(self, o) && o.providing_member == member)
      if (auto it = st.instances.find(id); it != st.instances.end())
        it->second.state = instance_state::unknown;
}

/// A member left or went silent: offers pending there go elsewhere, and
/// persistent orders it served are placed again (it reclaims its stale
/// instances when it comes back and hears "not used").
void member_lost(self_ptr self, const std::string& member) {
  auto& st = self->state;
  log()->warn("member {} is gone: re-placing what it held", log_safe(member));
  mark_unknown(self, member);
  std::vector<std::string> pending, replace;
  for (auto& [id, o] : st.orders) {
    if (!is_remote(self, o) || o.providing_member != member)
      continue;
    if (o.state == order_state::pending)
      pending.push_back(id);
    else if (o.state == order_state::fulfilled
             && o.type == order_type::persistent)
      replace.push_back(id);
  }
  for (auto& id : pending) {
    auto& o = st.orders.at(id);
    st.refused[id].insert(member);
    o.last_error = member + " is gone";
    forward(self, o);
  }
  for (auto& id : replace)
    if (auto it = st.orders.find(id); it != st.orders.end())
      instance_gone(self, it->second, "member " + member + " is gone");
}

} // namespace

bool federated(self_ptr self) {
  return static_cast<bool>(self->state.config.federation.proxy);
}

bool is_served(self_ptr self, const order& o) {
  return !o.requesting_member.empty() && o.requesting_member != self_id(self);
}

bool is_remote(self_ptr self, const order& o) {
  return !is_served(self, o) && !o.providing_member.empty()
         && o.providing_member != self_id(self);
}

bool may_run_locally(self_ptr self, const order& o) {
  return is_served(self, o)
         || requirements::allows_member(expression_of(o), self_id(self));
}

void forward(self_ptr self, order& o) {
  auto& st = self->state;
  if (st.forwards_in_flight >= st.config.federation.max_forwards) {
    if (o.state != order_state::open)
      update(self, o, order_state::open, o.last_error);
    st.forward_backlog.push_back(o.id);
    return;
  }
  auto candidates = candidates_for(self, o);
  auto member = candidates.empty()
                  ? std::nullopt
                  : st.config.federation.picker->pick(candidates);
  if (!member) {
    wait_for_members(self, o);
    return;
  }
  offer(self, o, *member);
}

void reoffer(self_ptr self, order& o) {
  if (o.kind == resource_kind::attachment) {
    // Its instances' ids at the member are resolved when it is placed.
    update(self, o, order_state::open, o.last_error);
    enqueue(self, o);
    return;
  }
  offer(self, o, o.providing_member);
}

void offer_attachment(self_ptr self, order& o, const std::string& member,
                      const std::string& server_id,
                      const std::string& volume_id) {
  auto payload = o;
  payload.attach_compute = server_id;
  payload.attach_volume = volume_id;
  offer(self, o, member, &payload);
}

void release_offers(self_ptr self, order& o, const std::string& keep) {
  if (o.offered_to.empty())
    return;
  std::vector<std::string> kept;
  for (auto& m : o.offered_to) {
    if (m == keep)
      kept.push_back(m);
    else if (federated(self) && m != self_id(self))
      send_removeorder(self, m, o.id);
  }
  o.offered_to = std::move(kept);
}

void start_federation(self_ptr self) {
  if (!federated(self))
    return;
  auto& fed = self->state.config.federation;
  self->delayed_send(self, fed.monitor_interval, atom::monitor_v);
  self->delayed_send(self, fed.probe_interval, atom::probe_tick_v);
}

void on_members(self_ptr self, std::vector<member_info> members) {
  auto& st = self->state;
  auto before = alive_members(st.members);
  st.members = std::move(members);
  auto after = alive_members(st.members);
  if (before == after)
    return;
  for (auto& m : before)
    if (after.count(m) == 0)
      member_lost(self, m);
  // Someone new (or back): orders that found nobody try again, straight
  // to the members when the local cloud is known to be full.
  for (auto& id : st.waiting)
    if (auto it = st.orders.find(id); it != st.orders.end()) {
      st.refused.erase(id);
      enqueue(self, it->second);
    }
  st.waiting.clear();
  pump(self);
}

void monitor_remote(self_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.config.federation.monitor_interval,
                     atom::monitor_v);
  if (st.monitor_pending > 0)
    return; // the last round is still out: no pile-up behind a slow member
  std::map<std::string, std::set<std::string>> by_member;
  for (auto& [id, o] : st.orders)
    if (is_remote(self, o) && o.state == order_state::fulfilled)
      if (auto local = split_instance_id(o.instance_id))
        by_member[o.providing_member].insert(local->first);
  for (auto& entry : by_member) {
    // Named copies: the lambdas below outlive this loop.
    const std::string member = entry.first;
    const std::set<std::string> ids = entry.second;
    if (!is_alive(self, member)) {
      mark_unknown(self, member);
      continue;
    }
    ++st.monitor_pending;
    std::vector<std::string> list(ids.begin(), ids.end());
    self
      ->request(st.config.federation.proxy, proxy_backstop, atom::get_v, member,
                std::move(list))
      .then(
        [self, member, ids](const std::vector<instance>& found) {
          --self->state.monitor_pending;
          apply_refresh(self, member, ids, found);
        },
        [self, member](const caf::error& e) {
          --self->state.monitor_pending;
          log()->debug("cannot refresh the instances at {}: {}",
                       log_safe(member), log_safe(message_of(e)));
          mark_unknown(self, member);
        });
  }
}

caf::result<atom::ok> delete_remote_instance(self_ptr self, order& o) {
  auto rp = self->make_response_promise<atom::ok>();
  auto member = o.providing_member;
  auto gid = o.instance_id;
  auto order_id = o.id;
  auto local = split_instance_id(gid)->first;
  auto gone = [self, rp, order_id, gid]() mutable {
    auto it = self->state.orders.find(order_id);
    if (it != self->state.orders.end() && it->second.instance_id == gid)
      instance_gone(self, it->second, "instance deleted by its user");
    rp.deliver(atom::ok_v);
  };
  self
    ->request(self->state.config.federation.proxy, proxy_backstop,
              atom::erase_instance_v, member, local)
    .then([gone](atom::ok) mutable { gone(); },
          [gone, rp](const caf::error& e) mutable {
            if (code_of(e) == errc::not_found)
              gone();
            else
              rp.deliver(e);
          });
  return rp;
}

caf::result<quota_report> remote_quota(self_ptr self,
                                       const std::string& user_id,
                                       const std::string& member_id) {
  if (!federated(self) || !is_alive(self, member_id))
    return make_error(errc::not_found, "no member " + member_id);
  auto rp = self->make_response_promise<quota_report>();
  self
    ->request(self->state.config.federation.proxy, proxy_backstop,
              atom::quota_v, member_id, user_id, user_id)
    .then([rp](quota_report& q) mutable { rp.deliver(std::move(q)); },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

bool still_used(self_ptr self, const std::string& member,
                const std::string& order_id, const std::string& global_id) {
  auto wanted = [&](const order& o) {
    if (is_served(self, o) || o.state == order_state::deleted
        || is_terminal(o.state))
      return false;
    if (!global_id.empty() && o.instance_id == global_id)
      return o.providing_member == member;
    // Not served anywhere yet: what the member made for it may still be
    // handed over when the order is offered to it again.
    bool offered = std::find(o.offered_to.begin(), o.offered_to.end(), member)
                   != o.offered_to.end();
    return offered
           && (o.state == order_state::open || o.state == order_state::pending
               || o.state == order_state::spawning);
  };
  auto& orders = self->state.orders;
  if (!order_id.empty()) {
    auto it = orders.find(order_id);
    return it != orders.end() && wanted(it->second);
  }
  return std::any_of(orders.begin(), orders.end(), [&](auto& entry) {
    return entry.second.instance_id == global_id && wanted(entry.second);
  });
}

} // namespace fogbow::scheduler
