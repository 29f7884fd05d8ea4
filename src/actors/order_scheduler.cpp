#include "actors/order_scheduler_impl.hpp"

#include "actors/errors.hpp"
#include "domain/requirements.hpp"
#include "metrics/metrics.hpp"
#include "util/log_safe.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>

namespace fogbow::scheduler {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = [] {
    auto existing = spdlog::get("scheduler");
    return existing ? existing : spdlog::default_logger()->clone("scheduler");
  }();
  return logger;
}

millis now(self_ptr self) {
  return self->state.config.clock();
}

void observe_placement(self_ptr self, const order& o) {
  if (o.fulfilled_at < o.created_at)
    return; // a clock that went back says nothing about this order
  auto where = is_served(self, o)   ? metrics::place::served
               : is_remote(self, o) ? metrics::place::remote
                                    : metrics::place::local;
  metrics::observe_placement(
    where, static_cast<double>(o.fulfilled_at - o.created_at) / 1000.0);
}

void count_driver_error(std::string_view operation, const caf::error& e) {
  auto code = code_of(e);
  std::string_view name = code != errc::none               ? to_string(code)
                          : e == caf::sec::request_timeout ? "timeout"
                                                           : "internal";
  metrics::count_driver_error(operation, name);
}

/// Fire-and-forget write. The store handles writes in arrival order, so
/// the last state written is the last state decided.
void persist(self_ptr self, const order& o) {
  auto id = o.id;
  self
    ->request(self->state.store, self->state.config.store_timeout, atom::put_v,
              std::vector<order>{o})
    .then([](atom::ok) {},
          [id](const caf::error& e) {
            log()->error("could not store order {}: {}", id, message_of(e));
          });
}

/// Removes a cloud instance no order wants (fire-and-forget: a failure
/// leaves a leak that the next start's reconcile removes).
void discard_instance(self_ptr self, const std::string& local_id) {
  self
    ->request(self->state.driver, self->state.config.driver_timeout,
              atom::erase_v, local_id)
    .then([](atom::ok) {},
          [local_id](const caf::error& e) {
            count_driver_error("delete", e);
            log()->warn("could not remove instance {}: {}", local_id,
                        message_of(e));
          });
}

void enqueue(self_ptr self, const order& o) {
  self->state.ready.emplace(o.created_at, o.id);
}

void dequeue(self_ptr self, const order& o) {
  self->state.ready.erase({o.created_at, o.id});
  self->state.waiting.erase(o.id);
  self->state.awaiting.erase(o.id);
  self->state.parked.erase(o.id);
}

/// Attachment orders waiting for an instance to become usable try again.
void wake_awaiting(self_ptr self) {
  auto& st = self->state;
  for (auto& id : st.awaiting)
    if (auto it = st.orders.find(id); it != st.orders.end())
      enqueue(self, it->second);
  st.awaiting.clear();
}

/// A local user's order (orders served for other members belong to no
/// local user, whatever their user id).
bool owned_by(self_ptr self, const order& o, const std::string& user_id) {
  return o.user_id == user_id && !is_served(self, o);
}

/// Both orders belong to the same user of the same member.
bool same_owner(self_ptr self, const order& a, const order& b) {
  auto member = [&](const order& x) {
    return x.requesting_member.empty() ? self->state.config.member_id
                                       : x.requesting_member;
  };
  return a.user_id == b.user_id && member(a) == member(b);
}

/// The order of the owner of `att` and of this kind that `ref` names, by
/// order id or by global instance id; nullptr when there is none.
order* find_reference(self_ptr self, const order& att, resource_kind kind,
                      const std::string& ref) {
  auto& orders = self->state.orders;
  if (auto it = orders.find(ref); it != orders.end()) {
    auto& o = it->second;
    return same_owner(self, o, att) && o.kind == kind ? &o : nullptr;
  }
  for (auto& [id, o] : orders)
    if (o.kind == kind && same_owner(self, o, att) && o.instance_id == ref)
      return &o;
  return nullptr;
}

/// True when the attachment order `att` names `target` (by either id).
bool refers_to(const order& att, const order& target) {
  auto names = [&](const std::string& ref) {
    return ref == target.id
           || (!target.instance_id.empty() && ref == target.instance_id);
  };
  return att.kind == resource_kind::attachment
         && (names(att.attach_compute) || names(att.attach_volume));
}

void update(self_ptr self, order& o, order_state to, std::string why) {
  o.state = to;
  o.updated_at = now(self);
  o.last_error = std::move(why);
  persist(self, o);
  if (to == order_state::fulfilled || is_terminal(to))
    placement_settled(self, o.id);
  // An attachment waiting for this order will now never be placed: let it
  // find out (and fail) on its next attempt. Callers pump.
  if (is_terminal(to))
    wake_awaiting(self);
}

void forget(self_ptr self, const std::string& order_id) {
  auto& st = self->state;
  auto it = st.orders.find(order_id);
  if (it != st.orders.end()) {
    dequeue(self, it->second);
    st.orders.erase(it);
  }
  st.instances.erase(order_id);
  st.removals.erase(order_id);
  st.refused.erase(order_id);
  placement_settled(self, order_id);
  if (auto w = st.serve_waiters.find(order_id); w != st.serve_waiters.end()) {
    for (auto& rp : w->second)
      rp.deliver(make_error(errc::no_capacity, "the order was withdrawn"));
    st.serve_waiters.erase(w);
  }
  self->request(st.store, st.config.store_timeout, atom::erase_v, order_id)
    .then([](atom::ok) {},
          [order_id](const caf::error& e) {
            log()->error("could not erase order {}: {}", order_id,
                         message_of(e));
          });
}

void add_validity_events(self_ptr self, const order& o) {
  auto& st = self->state;
  auto t = now(self);
  if (o.valid_from && *o.valid_from > t)
    st.validity_events.emplace(*o.valid_from, o.id);
  if (o.valid_until)
    st.validity_events.emplace(*o.valid_until, o.id);
}

void arm_validity_timer(self_ptr self) {
  auto& st = self->state;
  if (st.validity_events.empty())
    return;
  auto at = st.validity_events.begin()->first;
  if (st.validity_timer_at != 0 && st.validity_timer_at <= at)
    return;
  st.validity_timer_at = at;
  auto delay = std::max<millis>(0, at - now(self));
  self->delayed_send(self, std::chrono::milliseconds{delay}, atom::validity_v);
}

/// What happens to an order whose instance is gone (removed by the user,
/// crashed, or no longer known to the cloud).
void instance_gone(self_ptr self, order& o, const std::string& why) {
  auto& st = self->state;
  st.instances.erase(o.id);
  o.instance_id.clear();
  // A served order ends with its instance: the requester hears "not found"
  // and decides itself what comes next.
  if (o.state == order_state::deleted || is_served(self, o)) {
    forget(self, o.id);
    return;
  }
  if (o.type == order_type::persistent && !is_expired_at(o, now(self))) {
    o.attempts = 0;
    o.providing_member.clear();
    update(self, o, order_state::open, why);
    enqueue(self, o);
    pump(self);
  } else {
    update(self, o, order_state::closed, why);
    pump(self);
  }
}

/// Removes the cloud instance of `o`, then runs `then` (also when the
/// cloud no longer knows the instance).
template <class F>
void remove_instance(self_ptr self, const order& o, F then) {
  auto local = local_instance_id(o.instance_id, self->state.config.member_id);
  if (!local) {
    then();
    return;
  }
  auto order_id = o.id;
  self
    ->request(self->state.driver, self->state.config.driver_timeout,
              atom::erase_v, *local)
    .then([then](atom::ok) mutable { then(); },
          [self, then, order_id](const caf::error& e) mutable {
            if (code_of(e) == errc::not_found) {
              then();
              return;
            }
            count_driver_error("delete", e);
            log()->warn("could not remove the instance of order {}: {}",
                        order_id, message_of(e));
            self->state.removals.insert(order_id);
            arm_retry(self);
          });
}

/// Removes the failed instance of `o` (the driver keeps failed instances
/// listed until erased), then lets the order react to its loss.
void drop_failed_instance(self_ptr self, const order& o,
                          const std::string& fault) {
  remove_instance(self, o, [self, id = o.id, gid = o.instance_id, fault] {
    auto i = self->state.orders.find(id);
    if (i != self->state.orders.end() && i->second.instance_id == gid)
      instance_gone(self, i->second, "instance failed: " + fault);
  });
}

void finish_deletion(self_ptr self, const std::string& order_id) {
  auto it = self->state.orders.find(order_id);
  if (it == self->state.orders.end())
    return;
  auto& o = it->second;
  // Every member it was offered to removes what it holds for it; one that
  // misses the message reclaims it when we answer its probe "not used".
  release_offers(self, o, "");
  if (is_remote(self, o)) {
    forget(self, order_id);
    return;
  }
  remove_instance(self, o, [self, order_id] { forget(self, order_id); });
}

void on_created(self_ptr self, const std::string& order_id, instance inst) {
  auto& st = self->state;
  --st.in_flight;
  auto it = st.orders.find(order_id);
  if (it == st.orders.end()) {
    // Cannot happen while orders are only forgotten after their instance
    // is gone; remove the instance rather than leak it.
    discard_instance(self, inst.id);
    pump(self);
    return;
  }
  auto& o = it->second;
  o.instance_id = global_instance_id(inst.id, st.config.member_id);
  o.providing_member = st.config.member_id;
  auto early = st.early_failures.find(order_id);
  if (early != st.early_failures.end()) {
    if (early->second.id == inst.id)
      inst = early->second;
    st.early_failures.erase(early);
  }
  auto failed =
    inst.state == instance_state::failed || inst.state == instance_state::lost;
  auto fault = inst.fault;
  inst.kind = o.kind;
  st.instances[order_id] = std::move(inst);
  if (o.state == order_state::deleted) {
    finish_deletion(self, order_id);
  } else if (failed) {
    o.state = order_state::fulfilled;
    drop_failed_instance(self, o, fault);
  } else {
    o.fulfilled_at = now(self);
    observe_placement(self, o);
    st.backoff_ms = 0;
    release_offers(self, o, "");
    // The requester's answer goes out before the write, which nobody
    // waits for: queued behind it, the answer would wait for a commit
    // whenever no other worker thread is awake to take it. A restart
    // adopts the instance of a committed served order either way.
    if (is_served(self, o))
      served_created(self, o, st.instances[order_id]);
    update(self, o, order_state::fulfilled);
    wake_awaiting(self);
  }
  pump(self);
}

void on_create_failed(self_ptr self, const std::string& order_id,
                      const caf::error& e) {
  auto& st = self->state;
  --st.in_flight;
  count_driver_error("create", e);
  st.early_failures.erase(order_id);
  auto it = st.orders.find(order_id);
  if (it != st.orders.end()) {
    auto& o = it->second;
    if (code_of(e) == errc::no_capacity)
      st.blocked.insert(o.kind);
    if (o.state == order_state::deleted) {
      release_offers(self, o, "");
      forget(self, order_id);
    } else if (code_of(e) == errc::no_capacity && preempt_for(self, o)) {
      // Waits for the capacity the preempted instance frees.
    } else if (is_served(self, o)) {
      served_failed(self, order_id, e);
    } else if (federated(self) && o.kind != resource_kind::attachment
               && (code_of(e) == errc::no_capacity
                   || code_of(e) == errc::unsupported)) {
      // This cloud cannot serve it: another member may.
      o.last_error = message_of(e);
      forward(self, o);
    } else {
      update(self, o, order_state::open, message_of(e));
      if (code_of(e) == errc::unsupported) {
        st.parked.insert(order_id);
        pump(self);
        return;
      }
      if (code_of(e) == errc::no_capacity) {
        enqueue(self, o);
      } else {
        st.waiting.insert(order_id);
      }
      arm_retry(self);
    }
  }
  pump(self);
}

/// What an attachment order needs before it can be placed.
struct attachment_targets {
  std::string server_id; ///< local ids, set when both are usable
  std::string volume_id;
  std::string waiting_for; ///< set when one is not usable yet
  std::string failure;     ///< set when one will never be
  std::string member;      ///< the other member holding both; empty: here
};

attachment_targets resolve_attachment(self_ptr self, const order& att) {
  attachment_targets out;
  auto& st = self->state;
  std::vector<std::string> holders;
  auto check = [&](resource_kind kind, const std::string& ref,
                   std::string& local) {
    auto kind_name = std::string{to_string(kind)};
    auto target = find_reference(self, att, kind, ref);
    if (target)
      holders.push_back(is_remote(self, *target) ? target->providing_member
                                                 : std::string{});
    if (!target || target->state == order_state::deleted
        || is_terminal(target->state)) {
      if (out.failure.empty())
        out.failure = "the " + kind_name + " " + ref + " is "
                      + (target ? std::string{to_string(target->state)}
                                : std::string{"gone"});
      return;
    }
    auto inst = st.instances.find(target->id);
    auto split = local_instance_id(
      target->instance_id, is_remote(self, *target) ? target->providing_member
                                                    : st.config.member_id);
    if (target->state != order_state::fulfilled || !split
        || inst == st.instances.end()
        || inst->second.state != instance_state::running) {
      if (out.waiting_for.empty())
        out.waiting_for =
          "waiting for the " + kind_name + " " + ref + " to be "
          + (kind == resource_kind::compute ? "running" : "ready");
      return;
    }
    local = *split;
  };
  check(resource_kind::compute, att.attach_compute, out.server_id);
  check(resource_kind::volume, att.attach_volume, out.volume_id);
  if (holders.size() == 2 && holders[0] != holders[1] && out.failure.empty()) {
    auto where = [&](const std::string& m) {
      return m.empty() ? st.config.member_id : m;
    };
    out.failure = "the compute is at " + where(holders[0])
                  + " and the volume at " + where(holders[1])
                  + ": an attachment needs both on one member";
  } else if (!holders.empty()) {
    out.member = holders[0];
  }
  return out;
}

void place(self_ptr self, order& o) {
  auto& st = self->state;
  instance_spec spec;
  spec.order_id = o.id;
  spec.kind = o.kind;
  spec.member_id = st.config.member_id;
  spec.requesting_member =
    o.requesting_member.empty() ? st.config.member_id : o.requesting_member;
  switch (o.kind) {
  case resource_kind::compute:
    spec.requirements =
      requirements::combine(o.requirements, o.vcpu, o.memory_mb, o.disk_gb);
    spec.image = o.image;
    spec.user_data = o.user_data;
    spec.public_key = o.public_key;
    break;
  case resource_kind::volume:
    spec.size_gb = o.size_gb;
    break;
  case resource_kind::network:
    spec.network_cidr = o.network_cidr;
    spec.network_gateway = o.network_gateway;
    spec.network_allocation = o.network_allocation;
    break;
  case resource_kind::attachment: {
    auto targets = resolve_attachment(self, o);
    if (is_served(self, o)
        && !(targets.failure + targets.waiting_for).empty()) {
      // The requester asks again when both are ready.
      served_failed(self, o.id,
                    make_error(targets.failure.empty() ? errc::no_capacity
                                                       : errc::invalid_argument,
                               targets.failure + targets.waiting_for));
      return;
    }
    if (!targets.failure.empty()) {
      update(self, o, order_state::failed, targets.failure);
      return;
    }
    if (targets.waiting_for.empty() && !targets.member.empty()) {
      offer_attachment(self, o, targets.member, targets.server_id,
                       targets.volume_id);
      return;
    }
    if (!targets.waiting_for.empty()) {
      if (o.last_error != targets.waiting_for)
        update(self, o, order_state::open, targets.waiting_for);
      st.awaiting.insert(o.id);
      return;
    }
    spec.server_id = targets.server_id;
    spec.volume_id = targets.volume_id;
    spec.device = o.attach_device;
    break;
  }
  }
  ++st.in_flight;
  ++o.attempts;
  update(self, o, order_state::spawning, o.last_error);
  auto id = o.id;
  self
    ->request(st.driver, st.config.driver_timeout, atom::create_v,
              std::move(spec))
    .then([self, id](instance& inst) { on_created(self, id, std::move(inst)); },
          [self, id](const caf::error& e) { on_create_failed(self, id, e); });
}

void pump(self_ptr self) {
  auto& st = self->state;
  preemption_candidates candidates;
  while (st.in_flight < st.config.max_in_flight && !st.ready.empty()) {
    auto id = st.ready.begin()->second;
    st.ready.erase(st.ready.begin());
    auto it = st.orders.find(id);
    if (it == st.orders.end() || it->second.state != order_state::open)
      continue;
    auto& o = it->second;
    auto t = now(self);
    if (is_expired_at(o, t)) {
      update(self, o, order_state::closed, "validity window ended");
      continue;
    }
    if (!is_valid_at(o, t))
      continue; // its valid_from event puts it back
    // With a prioritizer, a full cloud is tried anyway: its "no room"
    // is what lets the order preempt (never on a stale guess).
    bool full =
      st.blocked.count(o.kind) > 0 && !may_preempt(self, o, candidates);
    if (is_served(self, o) && full) {
      served_failed(self, id,
                    make_error(errc::no_capacity, "no room for it here now"));
      continue;
    }
    // Attachments go where their instances are (place() decides).
    if (federated(self) && !is_served(self, o)
        && o.kind != resource_kind::attachment
        && (full || !may_run_locally(self, o))) {
      forward(self, o);
      continue;
    }
    if (full) {
      st.waiting.insert(id);
      continue;
    }
    place(self, o);
  }
}

void arm_retry(self_ptr self) {
  auto& st = self->state;
  if (st.retry_armed)
    return;
  st.retry_armed = true;
  st.backoff_ms = st.backoff_ms == 0
                    ? st.config.retry_initial_ms
                    : std::min(st.backoff_ms * 2, st.config.retry_max_ms);
  self->delayed_send(self, std::chrono::milliseconds{st.backoff_ms},
                     atom::retry_v);
}

/// Capacity may be there again: try everything that waits.
void wake_up(self_ptr self) {
  auto& st = self->state;
  st.blocked.clear();
  for (auto& id : st.waiting)
    if (auto it = st.orders.find(id); it != st.orders.end())
      enqueue(self, it->second);
  st.waiting.clear();
  std::set<std::string> removals;
  removals.swap(st.removals);
  for (auto& id : removals)
    finish_deletion(self, id);
  pump(self);
}

/// After a start, resumes an order that has no instance in our cloud.
/// False: the order is to be forgotten.
bool resume_without_instance(self_ptr self, order& o) {
  auto& st = self->state;
  if (is_served(self, o) && o.state != order_state::fulfilled) {
    // Nobody waits for its answer any more; the requester offers it
    // again if it still wants it.
    return false;
  }
  if (is_remote(self, o) && o.state == order_state::fulfilled) {
    // Held by another member: its state comes with the next refresh.
    instance remote;
    remote.id = split_instance_id(o.instance_id)->first;
    remote.order_id = o.id;
    remote.kind = o.kind;
    remote.state = instance_state::unknown;
    st.instances[o.id] = remote;
    return true;
  }
  if (o.state == order_state::pending && is_remote(self, o)) {
    reoffer(self, o);
    return true;
  }
  switch (o.state) {
  case order_state::fulfilled:
    instance_gone(self, o, "instance lost while the manager was down");
    break;
  case order_state::spawning:
  case order_state::pending:
    update(self, o, order_state::open, o.last_error);
    enqueue(self, o);
    break;
  case order_state::open:
    enqueue(self, o);
    break;
  case order_state::deleted:
    return false;
  default:
    break;
  }
  return true;
}

/// Brings the stored orders and the cloud's instances into agreement after
/// a start (also after kill -9): adopt, replace, or remove leaks.
void reconcile(self_ptr self, std::vector<order> stored,
               std::vector<instance> cloud) {
  auto& st = self->state;
  for (auto& o : stored)
    st.orders.emplace(o.id, std::move(o));
  std::set<std::string> with_instance;
  for (auto& inst : cloud) {
    auto it = st.orders.find(inst.order_id);
    bool keep = it != st.orders.end() && !is_terminal(it->second.state)
                && !(is_remote(self, it->second)
                     && it->second.state == order_state::fulfilled);
    if (!keep) {
      log()->info("removing instance {} left over by order {}", inst.id,
                  inst.order_id);
      discard_instance(self, inst.id);
      continue;
    }
    auto& o = it->second;
    with_instance.insert(o.id);
    auto gid = global_instance_id(inst.id, st.config.member_id);
    bool failed = inst.state == instance_state::failed
                  || inst.state == instance_state::lost;
    st.instances[o.id] = inst;
    st.instances[o.id].kind = o.kind;
    if (o.state == order_state::deleted) {
      o.instance_id = gid;
      finish_deletion(self, o.id);
    } else if (failed) {
      o.instance_id = gid;
      if (o.state != order_state::fulfilled)
        o.state = order_state::fulfilled;
      drop_failed_instance(self, o, inst.fault);
    } else if (o.state != order_state::fulfilled || o.instance_id != gid) {
      log()->info("adopting instance {} for order {}", inst.id, o.id);
      o.instance_id = gid;
      o.providing_member = st.config.member_id;
      if (o.fulfilled_at == 0)
        o.fulfilled_at = now(self);
      update(self, o, order_state::fulfilled);
    }
  }
  std::vector<std::string> to_forget;
  // A snapshot of the ids: resuming an order may forget it (a served
  // order whose instance is lost ends), which would invalidate iterators.
  std::vector<std::string> ids;
  ids.reserve(st.orders.size());
  for (auto& entry : st.orders)
    if (!with_instance.count(entry.first))
      ids.push_back(entry.first);
  for (auto& id : ids)
    if (auto it = st.orders.find(id); it != st.orders.end())
      if (!resume_without_instance(self, it->second))
        to_forget.push_back(id);
  for (auto& id : to_forget) {
    release_offers(self, st.orders.at(id), "");
    forget(self, id);
  }
  for (auto& [id, o] : st.orders)
    if (!is_terminal(o.state))
      add_validity_events(self, o);
  arm_validity_timer(self);
}

/// errc::conflict while a live attachment order uses `o`: the attachment
/// is deleted first (a volume in use cannot be deleted; a compute would
/// take the attachment with it behind the user's back).
caf::error in_use_by_attachment(self_ptr self, const order& o) {
  for (auto& [id, other] : self->state.orders)
    if (refers_to(other, o) && other.state != order_state::deleted
        && !is_terminal(other.state))
      return make_error(errc::conflict, "the attachment order " + other.id
                                          + " uses this "
                                          + std::string{to_string(o.kind)}
                                          + "; delete it first");
  return {};
}

order* find_owned(self_ptr self, const std::string& user_id,
                  const std::string& order_id) {
  auto it = self->state.orders.find(order_id);
  if (it == self->state.orders.end() || !owned_by(self, it->second, user_id))
    return nullptr;
  return &it->second;
}

order* find_by_instance(self_ptr self, const std::string& user_id,
                        const std::string& global_id) {
  for (auto& [id, o] : self->state.orders)
    if (o.instance_id == global_id && owned_by(self, o, user_id))
      return &o;
  return nullptr;
}

/// The instance as its owner sees it: every id global.
instance user_view(self_ptr self, const order& o, instance inst) {
  auto member =
    is_remote(self, o) ? o.providing_member : self->state.config.member_id;
  inst.id = o.instance_id;
  inst.kind = o.kind;
  if (o.kind == resource_kind::volume && !is_remote(self, o)) {
    // The scheduler's own attachments say where a volume is attached; the
    // volume's last report from the cloud may predate them.
    inst.server_id.clear();
    auto local = local_instance_id(o.instance_id, member);
    for (auto& [id, x] : self->state.instances)
      if (x.kind == resource_kind::attachment && local && x.volume_id == *local
          && x.state == instance_state::running)
        inst.server_id = x.server_id;
  }
  if (!inst.server_id.empty())
    inst.server_id = global_instance_id(inst.server_id, member);
  if (!inst.volume_id.empty())
    inst.volume_id = global_instance_id(inst.volume_id, member);
  return inst;
}

// -- message handlers, one per message of order_scheduler_actor -----------

/// An attachment order may only name live orders or instances of its user.
caf::error check_attachment_targets(self_ptr self, const order& tmpl) {
  for (auto [kind, ref] :
       {std::pair{resource_kind::compute, &tmpl.attach_compute},
        std::pair{resource_kind::volume, &tmpl.attach_volume}}) {
    auto target = find_reference(self, tmpl, kind, *ref);
    if (!target || target->state == order_state::deleted
        || is_terminal(target->state))
      return make_error(errc::invalid_argument,
                        "no live " + std::string{to_string(kind)}
                          + " order or instance " + *ref + " of this user");
  }
  return {};
}

/// `count` new open orders from a validated template.
std::vector<order> make_batch(self_ptr self, order tmpl, std::int32_t count) {
  auto t = now(self);
  std::vector<order> batch;
  batch.reserve(count);
  tmpl.batch_id = make_uuid();
  tmpl.state = order_state::open;
  tmpl.requesting_member = self->state.config.member_id;
  tmpl.providing_member.clear();
  tmpl.instance_id.clear();
  tmpl.created_at = tmpl.updated_at = t;
  tmpl.fulfilled_at = 0;
  tmpl.attempts = 0;
  tmpl.last_error.clear();
  for (std::int32_t i = 0; i < count; ++i) {
    batch.push_back(tmpl);
    batch.back().id = make_uuid();
  }
  return batch;
}

/// Persists the batch, acknowledges it once committed, then places it.
caf::result<std::vector<order>> create_orders(self_ptr self, order tmpl,
                                              std::int32_t count) {
  if (count < 1)
    return make_error(errc::invalid_argument, "count must be at least 1");
  if (tmpl.kind == resource_kind::attachment) {
    if (count != 1)
      return make_error(errc::invalid_argument,
                        "count must be 1 for attachment orders");
    if (auto e = check_attachment_targets(self, tmpl))
      return e;
  }
  auto batch = make_batch(self, std::move(tmpl), count);
  auto rp = self->make_response_promise<std::vector<order>>();
  self
    ->request(self->state.store, self->state.config.store_timeout, atom::put_v,
              batch)
    .then(
      [self, rp, batch](atom::ok) mutable {
        for (auto& o : batch) {
          self->state.orders.emplace(o.id, o);
          add_validity_events(self, o);
          enqueue(self, o);
        }
        arm_validity_timer(self);
        rp.deliver(batch);
        pump(self);
      },
      [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

// Oldest first; the id breaks ties so that pages never overlap.
template <class T>
void sort_for_listing(std::vector<const T*>& xs) {
  std::sort(xs.begin(), xs.end(), [](const T* a, const T* b) {
    return std::tie(a->created_at, a->id) < std::tie(b->created_at, b->id);
  });
}

// Only the page is copied: a user with many orders costs a sort of
// pointers, not a copy of every order, per page.
caf::result<page<order>> list_orders(self_ptr self, const std::string& user_id,
                                     const page_query& q) {
  std::vector<const order*> all;
  for (auto& [id, o] : self->state.orders)
    if (owned_by(self, o, user_id))
      all.push_back(&o);
  sort_for_listing(all);
  auto keep = [&q](const order& o) {
    return (!q.state || o.state == *q.state) && (!q.kind || o.kind == *q.kind);
  };
  auto p = take_page(all, q, keep, [](const order& o) { return o.id; });
  if (!p)
    return make_error(errc::invalid_argument,
                      "marker " + q.marker + " is not one of your orders");
  return std::move(*p);
}

caf::result<order> get_order(self_ptr self, const std::string& user_id,
                             const std::string& order_id) {
  if (auto o = find_owned(self, user_id, order_id))
    return *o;
  return make_error(errc::not_found, "no order " + order_id);
}

/// Marks the order deleted, acknowledges once committed, then removes its
/// instance.
void delete_order_now(self_ptr self, order& o,
                      const std::function<void(caf::expected<order>)>& done) {
  auto previous = o.state;
  dequeue(self, o);
  o.state = order_state::deleted;
  o.updated_at = now(self);
  self
    ->request(self->state.store, self->state.config.store_timeout, atom::put_v,
              std::vector<order>{o})
    .then(
      [self, done, previous, copy = o](atom::ok) {
        if (done)
          done(copy);
        // A spawning order finishes its deletion when the driver
        // answers the create.
        if (previous != order_state::spawning)
          finish_deletion(self, copy.id);
      },
      [done](caf::error& e) {
        if (done)
          done(std::move(e));
      });
}

caf::result<order> delete_order(self_ptr self, const std::string& user_id,
                                const std::string& order_id) {
  auto o = find_owned(self, user_id, order_id);
  if (!o)
    return make_error(errc::not_found, "no order " + order_id);
  if (o->state == order_state::deleted)
    return *o;
  if (auto e = in_use_by_attachment(self, *o))
    return e;
  auto rp = self->make_response_promise<order>();
  delete_order_now(self, *o, [rp](caf::expected<order> x) mutable {
    if (x)
      rp.deliver(std::move(*x));
    else
      rp.deliver(std::move(x.error()));
  });
  return rp;
}

caf::result<page<instance>> list_instances(self_ptr self,
                                           const std::string& user_id,
                                           resource_kind kind,
                                           const page_query& q) {
  std::vector<instance> views;
  for (auto& [order_id, inst] : self->state.instances) {
    auto it = self->state.orders.find(order_id);
    if (it != self->state.orders.end() && owned_by(self, it->second, user_id)
        && it->second.kind == kind && !it->second.instance_id.empty())
      views.push_back(user_view(self, it->second, inst));
  }
  std::vector<const instance*> all;
  all.reserve(views.size());
  for (auto& x : views)
    all.push_back(&x);
  sort_for_listing(all);
  auto keep = [&q](const instance& x) {
    return !q.status || x.state == *q.status;
  };
  auto p = take_page(all, q, keep, [](const instance& x) { return x.id; });
  if (!p)
    return make_error(errc::invalid_argument,
                      "marker " + q.marker + " is not one of your "
                        + std::string{to_string(kind)} + " instances");
  return std::move(*p);
}

caf::result<instance> get_instance(self_ptr self, const std::string& user_id,
                                   const std::string& global_id) {
  auto o = find_by_instance(self, user_id, global_id);
  if (!o || !self->state.instances.count(o->id))
    return make_error(errc::not_found, "no instance " + global_id);
  return user_view(self, *o, self->state.instances[o->id]);
}

/// Removes the instance; its order then reacts as to a lost instance.
caf::result<atom::ok> delete_instance(self_ptr self, const std::string& user_id,
                                      const std::string& global_id) {
  auto o = find_by_instance(self, user_id, global_id);
  if (!o)
    return make_error(errc::not_found, "no instance " + global_id);
  if (auto e = in_use_by_attachment(self, *o))
    return e;
  if (is_remote(self, *o))
    return delete_remote_instance(self, *o);
  auto local = local_instance_id(global_id, self->state.config.member_id);
  if (!local)
    return make_error(errc::not_found, "no instance " + global_id);
  auto rp = self->make_response_promise<atom::ok>();
  auto order_id = o->id;
  self
    ->request(self->state.driver, self->state.config.driver_timeout,
              atom::erase_v, *local)
    .then(
      [self, rp, order_id, global_id](atom::ok) mutable {
        auto it = self->state.orders.find(order_id);
        if (it != self->state.orders.end()
            && it->second.instance_id == global_id)
          instance_gone(self, it->second, "instance deleted by its user");
        rp.deliver(atom::ok_v);
      },
      [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

caf::result<quota_report>
cloud_quota(self_ptr self, const std::function<bool(const order&)>& counts) {
  auto& st = self->state;
  quota_report report;
  report.member_id = st.config.member_id;
  for (auto& [order_id, inst] : st.instances) {
    auto it = st.orders.find(order_id);
    if (it == st.orders.end() || !counts(it->second)
        || it->second.kind != resource_kind::compute
        || inst.state == instance_state::failed
        || inst.state == instance_state::lost)
      continue;
    report.user_vcpu += inst.size.vcpu;
    report.user_memory_mb += inst.size.memory_mb;
    report.user_instances += 1;
  }
  auto rp = self->make_response_promise<quota_report>();
  self->request(st.driver, st.config.driver_timeout, atom::resources_v)
    .then(
      [rp, report](const cloud_resources& res) mutable {
        report.cloud = res;
        rp.deliver(report);
      },
      [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

/// The user's use of this member's cloud, with the cloud's capacity.
caf::result<quota_report> quota_of(self_ptr self, const std::string& user_id,
                                   const std::string& member_id) {
  if (member_id != self->state.config.member_id)
    return remote_quota(self, user_id, member_id);
  return cloud_quota(self, [self, &user_id](const order& o) {
    return owned_by(self, o, user_id) && !is_remote(self, o);
  });
}

std::vector<member_info> member_list(self_ptr self) {
  member_info me;
  me.id = self->state.config.member_id;
  me.alive = true;
  me.last_seen = now(self);
  me.is_self = true;
  return std::vector<member_info>{me};
}

status_report status_of(self_ptr self) {
  status_report report;
  report.member_id = self->state.config.member_id;
  report.started_at = self->state.started_at;
  constexpr std::array states{order_state::open,    order_state::spawning,
                              order_state::pending, order_state::fulfilled,
                              order_state::failed,  order_state::closed,
                              order_state::deleted};
  constexpr std::array kinds{resource_kind::compute, resource_kind::volume,
                             resource_kind::network, resource_kind::attachment};
  std::map<std::pair<resource_kind, order_state>, int> counts;
  for (auto k : kinds)
    for (auto s : states)
      counts[{k, s}] = 0;
  for (auto& [id, o] : self->state.orders)
    ++counts[{o.kind, o.state}];
  for (auto& [key, n] : counts)
    report.orders.push_back({key.first, key.second, n});
  // This member's cloud only: served instances count, remote ones do not.
  for (auto& [order_id, inst] : self->state.instances) {
    auto it = self->state.orders.find(order_id);
    if (it == self->state.orders.end() || !is_remote(self, it->second))
      ++report.instances;
  }
  return report;
}

/// The driver reports an instance that changed by itself.
void instance_changed(self_ptr self, const instance& inst) {
  auto& st = self->state;
  auto it = st.orders.find(inst.order_id);
  if (it == st.orders.end())
    return;
  auto& o = it->second;
  auto gid = global_instance_id(inst.id, st.config.member_id);
  if (o.state == order_state::spawning && o.instance_id.empty()) {
    st.early_failures[o.id] = inst;
    return;
  }
  if (o.instance_id != gid)
    return;
  st.instances[o.id] = inst;
  st.instances[o.id].kind = o.kind;
  if (inst.state == instance_state::running && !st.awaiting.empty()) {
    wake_awaiting(self);
    pump(self);
  }
  if (inst.state != instance_state::failed
      && inst.state != instance_state::lost)
    return;
  log()->info("instance {} of order {} is {}: {}", inst.id, o.id,
              to_string(inst.state), log_safe(inst.fault));
  drop_failed_instance(self, o, inst.fault);
}

/// Validity boundaries that are due: open windows, close expired orders.
void validity_due(self_ptr self) {
  auto& st = self->state;
  st.validity_timer_at = 0;
  auto t = now(self);
  while (!st.validity_events.empty()
         && st.validity_events.begin()->first <= t) {
    auto id = st.validity_events.begin()->second;
    st.validity_events.erase(st.validity_events.begin());
    auto it = st.orders.find(id);
    if (it == st.orders.end() || it->second.state != order_state::open)
      continue;
    auto& o = it->second;
    if (is_expired_at(o, t)) {
      dequeue(self, o);
      update(self, o, order_state::closed, "validity window ended");
    } else if (is_valid_at(o, t)) {
      enqueue(self, o);
    }
  }
  arm_validity_timer(self);
  pump(self);
}

} // namespace fogbow::scheduler

namespace fogbow {

using namespace scheduler;

order_scheduler_actor::behavior_type
order_scheduler(self_ptr self, store_actor store, cloud_driver_actor driver,
                order_scheduler_config config, std::vector<order> stored_orders,
                std::vector<instance> cloud_instances) {
  auto& st = self->state;
  st.config = std::move(config);
  st.store = std::move(store);
  st.driver = std::move(driver);
  st.started_at = now(self);
  self->send(st.driver, atom::subscribe_v,
             caf::actor_cast<cloud_events_actor>(self));
  reconcile(self, std::move(stored_orders), std::move(cloud_instances));
  start_federation(self);
  pump(self);
  return {
    [self](atom::create, order tmpl, std::int32_t count) {
      return create_orders(self, std::move(tmpl), count);
    },
    [self](atom::list, const std::string& user_id, const page_query& q) {
      return list_orders(self, user_id, q);
    },
    [self](atom::get, const std::string& user_id, const std::string& order_id) {
      return get_order(self, user_id, order_id);
    },
    [self](atom::erase, const std::string& user_id,
           const std::string& order_id) {
      return delete_order(self, user_id, order_id);
    },
    [self](atom::instances, const std::string& user_id, resource_kind kind,
           const page_query& q) {
      return list_instances(self, user_id, kind, q);
    },
    [self](atom::instance, const std::string& user_id,
           const std::string& global_id) {
      return get_instance(self, user_id, global_id);
    },
    [self](atom::erase_instance, const std::string& user_id,
           const std::string& global_id) {
      return delete_instance(self, user_id, global_id);
    },
    [self](atom::quota, const std::string& user_id,
           const std::string& member_id) {
      return quota_of(self, user_id, member_id);
    },
    [self](atom::members) { return member_list(self); },
    [self](atom::status) { return status_of(self); },
    [self](atom::instance_changed, const instance& inst) {
      instance_changed(self, inst);
    },
    [self](atom::capacity_freed) {
      self->state.backoff_ms = 0;
      wake_up(self);
    },
    [self](atom::retry) {
      self->state.retry_armed = false;
      wake_up(self);
    },
    [self](atom::validity) { validity_due(self); },
    [self](atom::members_changed, std::vector<member_info> members) {
      on_members(self, std::move(members));
    },
    [self](atom::serve, order o, std::int32_t cap) {
      return serve(self, std::move(o), cap);
    },
    [self](atom::served_instances, const std::string& member,
           const std::vector<std::string>& ids) {
      return served_instances(self, member, ids);
    },
    [self](atom::unserve, const std::string& member,
           const std::string& order_id) {
      return unserve(self, member, order_id);
    },
    [self](atom::unserve_instance, const std::string& member,
           const std::string& local_id) {
      return unserve_instance(self, member, local_id);
    },
    [self](atom::served_quota, const std::string& member,
           const std::string& user_id) {
      return served_quota(self, member, user_id);
    },
    [self](atom::probe, const std::string& member, const std::string& order_id,
           const std::string& global_id) {
      return still_used(self, member, order_id, global_id);
    },
    [self](atom::monitor) { monitor_remote(self); },
    [self](atom::probe_tick) { probe_requesters(self); },
    [self](atom::balances, fed::exchange_table balances,
           fed::debt_table debts) {
      on_balances(self, std::move(balances), std::move(debts));
    },
  };
}

} // namespace fogbow
