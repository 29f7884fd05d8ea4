#include "actors/order_scheduler.hpp"

#include "actors/errors.hpp"
#include "domain/requirements.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace fogbow {

namespace {

using self_ptr = order_scheduler_actor::stateful_pointer<order_scheduler_state>;

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

/// Fire-and-forget write. The store handles writes in arrival order, so
/// the last state written is the last state decided.
void persist(self_ptr self, const order& o) {
  auto id = o.id;
  self->request(self->state.store, caf::infinite, atom::put_v,
                std::vector<order>{o})
    .then([](atom::ok) {},
          [id](const caf::error& e) {
            log()->error("could not store order {}: {}", id, message_of(e));
          });
}

void pump(self_ptr self);
void arm_retry(self_ptr self);

void enqueue(self_ptr self, const order& o) {
  self->state.ready.emplace(o.created_at, o.id);
}

void dequeue(self_ptr self, const order& o) {
  self->state.ready.erase({o.created_at, o.id});
  self->state.waiting.erase(o.id);
}

void update(self_ptr self, order& o, order_state to, std::string why = {}) {
  o.state = to;
  o.updated_at = now(self);
  o.last_error = std::move(why);
  persist(self, o);
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
  self->request(st.store, caf::infinite, atom::erase_v, order_id)
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
  if (o.state == order_state::deleted) {
    forget(self, o.id);
    return;
  }
  if (o.type == order_type::persistent && !is_expired_at(o, now(self))) {
    o.attempts = 0;
    update(self, o, order_state::open, why);
    enqueue(self, o);
    pump(self);
  } else {
    update(self, o, order_state::closed, why);
  }
}

/// Removes the cloud instance of `o`, then runs `then` (also when the
/// cloud no longer knows the instance).
template <class F>
void remove_instance(self_ptr self, const order& o, F then) {
  auto local = split_instance_id(o.instance_id);
  if (!local) {
    then();
    return;
  }
  auto order_id = o.id;
  self->request(self->state.driver, caf::infinite, atom::erase_v, local->first)
    .then([then](atom::ok) mutable { then(); },
          [self, then, order_id](const caf::error& e) mutable {
            if (code_of(e) == errc::not_found) {
              then();
              return;
            }
            log()->warn("could not remove the instance of order {}: {}",
                        order_id, message_of(e));
            self->state.removals.insert(order_id);
            arm_retry(self);
          });
}

/// Removes the failed instance of `o` (the driver keeps failed instances
/// listed until erased), then lets the order react to its loss.
void drop_failed_instance(self_ptr self, const order& o, std::string fault) {
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
  remove_instance(self, it->second, [self, order_id] {
    forget(self, order_id);
  });
}

void on_created(self_ptr self, const std::string& order_id, instance inst) {
  auto& st = self->state;
  --st.in_flight;
  auto it = st.orders.find(order_id);
  if (it == st.orders.end()) {
    // Cannot happen while orders are only forgotten after their instance
    // is gone; remove the instance rather than leak it.
    self->request(st.driver, caf::infinite, atom::erase_v, inst.id);
    pump(self);
    return;
  }
  auto& o = it->second;
  o.instance_id = global_instance_id(inst.id, st.config.member_id);
  auto early = st.early_failures.find(order_id);
  if (early != st.early_failures.end()) {
    if (early->second.id == inst.id)
      inst = early->second;
    st.early_failures.erase(early);
  }
  auto failed = inst.state == instance_state::failed
                || inst.state == instance_state::lost;
  auto fault = inst.fault;
  st.instances[order_id] = std::move(inst);
  if (o.state == order_state::deleted) {
    finish_deletion(self, order_id);
  } else if (failed) {
    o.state = order_state::fulfilled;
    drop_failed_instance(self, o, fault);
  } else {
    o.providing_member = st.config.member_id;
    o.fulfilled_at = now(self);
    st.backoff_ms = 0;
    update(self, o, order_state::fulfilled);
  }
  pump(self);
}

void on_create_failed(self_ptr self, const std::string& order_id,
                      const caf::error& e) {
  auto& st = self->state;
  --st.in_flight;
  st.early_failures.erase(order_id);
  auto it = st.orders.find(order_id);
  if (it != st.orders.end()) {
    auto& o = it->second;
    if (o.state == order_state::deleted) {
      forget(self, order_id);
    } else {
      update(self, o, order_state::open, message_of(e));
      if (code_of(e) == errc::no_capacity) {
        st.blocked = true;
        enqueue(self, o);
      } else {
        st.waiting.insert(order_id);
      }
      arm_retry(self);
    }
  }
  pump(self);
}

void place(self_ptr self, order& o) {
  auto& st = self->state;
  ++st.in_flight;
  ++o.attempts;
  update(self, o, order_state::spawning, o.last_error);
  instance_spec spec;
  spec.order_id = o.id;
  spec.requirements = requirements::combine(o.requirements, o.vcpu,
                                            o.memory_mb, o.disk_gb);
  spec.member_id = st.config.member_id;
  spec.image = o.image;
  spec.user_data = o.user_data;
  spec.public_key = o.public_key;
  spec.requesting_member = o.requesting_member.empty() ? st.config.member_id
                                                       : o.requesting_member;
  auto id = o.id;
  self->request(st.driver, caf::infinite, atom::create_v, std::move(spec))
    .then([self, id](instance& inst) { on_created(self, id, std::move(inst)); },
          [self, id](const caf::error& e) { on_create_failed(self, id, e); });
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (!st.blocked && st.in_flight < st.config.max_in_flight
         && !st.ready.empty()) {
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
    if (o.kind != resource_kind::compute) {
      auto why = "no cloud driver of this member supports "
                 + std::string{to_string(o.kind)} + " orders yet";
      if (o.last_error != why)
        update(self, o, order_state::open, why);
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
  st.blocked = false;
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
    bool keep = it != st.orders.end() && !is_terminal(it->second.state);
    if (!keep) {
      log()->info("removing instance {} left over by order {}", inst.id,
                  inst.order_id);
      self->request(st.driver, caf::infinite, atom::erase_v, inst.id);
      continue;
    }
    auto& o = it->second;
    with_instance.insert(o.id);
    auto gid = global_instance_id(inst.id, st.config.member_id);
    bool failed = inst.state == instance_state::failed
                  || inst.state == instance_state::lost;
    st.instances[o.id] = inst;
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
  for (auto& [id, o] : st.orders) {
    if (with_instance.count(id))
      continue;
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
        to_forget.push_back(id);
        break;
      default:
        break;
    }
  }
  for (auto& id : to_forget)
    forget(self, id);
  for (auto& [id, o] : st.orders)
    if (!is_terminal(o.state))
      add_validity_events(self, o);
  arm_validity_timer(self);
}

order* find_owned(self_ptr self, const std::string& user_id,
                  const std::string& order_id) {
  auto it = self->state.orders.find(order_id);
  if (it == self->state.orders.end() || it->second.user_id != user_id)
    return nullptr;
  return &it->second;
}

order* find_by_instance(self_ptr self, const std::string& user_id,
                        const std::string& global_id) {
  for (auto& [id, o] : self->state.orders)
    if (o.instance_id == global_id && o.user_id == user_id)
      return &o;
  return nullptr;
}

instance user_view(const order& o, instance inst) {
  inst.id = o.instance_id;
  return inst;
}

} // namespace

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
  pump(self);
  return {
    [self](atom::create, order tmpl,
           std::int32_t count) -> caf::result<std::vector<order>> {
      if (count < 1)
        return make_error(errc::invalid_argument, "count must be at least 1");
      auto& st = self->state;
      auto t = now(self);
      std::vector<order> batch;
      batch.reserve(count);
      tmpl.batch_id = make_uuid();
      tmpl.state = order_state::open;
      tmpl.requesting_member = st.config.member_id;
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
      auto rp = self->make_response_promise<std::vector<order>>();
      self->request(st.store, caf::infinite, atom::put_v, batch)
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
    },
    [self](atom::list, const std::string& user_id) {
      std::vector<order> result;
      for (auto& [id, o] : self->state.orders)
        if (o.user_id == user_id)
          result.push_back(o);
      std::sort(result.begin(), result.end(), [](auto& a, auto& b) {
        return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
      });
      return result;
    },
    [self](atom::get, const std::string& user_id,
           const std::string& order_id) -> caf::result<order> {
      if (auto o = find_owned(self, user_id, order_id))
        return *o;
      return make_error(errc::not_found, "no order " + order_id);
    },
    [self](atom::erase, const std::string& user_id,
           const std::string& order_id) -> caf::result<order> {
      auto o = find_owned(self, user_id, order_id);
      if (!o)
        return make_error(errc::not_found, "no order " + order_id);
      if (o->state == order_state::deleted)
        return *o;
      auto previous = o->state;
      dequeue(self, *o);
      o->state = order_state::deleted;
      o->updated_at = now(self);
      auto rp = self->make_response_promise<order>();
      self->request(self->state.store, caf::infinite, atom::put_v,
                    std::vector<order>{*o})
        .then(
          [self, rp, previous, copy = *o](atom::ok) mutable {
            rp.deliver(copy);
            // A spawning order finishes its deletion when the driver
            // answers the create.
            if (previous != order_state::spawning)
              finish_deletion(self, copy.id);
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](atom::instances, const std::string& user_id) {
      std::vector<instance> result;
      for (auto& [order_id, inst] : self->state.instances) {
        auto it = self->state.orders.find(order_id);
        if (it != self->state.orders.end() && it->second.user_id == user_id
            && !it->second.instance_id.empty())
          result.push_back(user_view(it->second, inst));
      }
      std::sort(result.begin(), result.end(), [](auto& a, auto& b) {
        return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
      });
      return result;
    },
    [self](atom::instance, const std::string& user_id,
           const std::string& global_id) -> caf::result<instance> {
      auto o = find_by_instance(self, user_id, global_id);
      if (!o || !self->state.instances.count(o->id))
        return make_error(errc::not_found, "no instance " + global_id);
      return user_view(*o, self->state.instances[o->id]);
    },
    [self](atom::erase_instance, const std::string& user_id,
           const std::string& global_id) -> caf::result<atom::ok> {
      auto o = find_by_instance(self, user_id, global_id);
      if (!o)
        return make_error(errc::not_found, "no instance " + global_id);
      auto rp = self->make_response_promise<atom::ok>();
      auto local = split_instance_id(global_id);
      auto order_id = o->id;
      self->request(self->state.driver, caf::infinite, atom::erase_v,
                    local->first)
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
    },
    [self](atom::quota, const std::string& user_id,
           const std::string& member_id) -> caf::result<quota_report> {
      if (member_id != self->state.config.member_id)
        return make_error(errc::not_found, "no member " + member_id);
      quota_report report;
      report.member_id = member_id;
      for (auto& [order_id, inst] : self->state.instances) {
        auto it = self->state.orders.find(order_id);
        if (it == self->state.orders.end() || it->second.user_id != user_id
            || inst.state == instance_state::failed
            || inst.state == instance_state::lost)
          continue;
        report.user_vcpu += inst.size.vcpu;
        report.user_memory_mb += inst.size.memory_mb;
        report.user_instances += 1;
      }
      auto rp = self->make_response_promise<quota_report>();
      self->request(self->state.driver, std::chrono::seconds(30),
                    atom::resources_v)
        .then(
          [rp, report](const cloud_resources& res) mutable {
            report.cloud = res;
            rp.deliver(report);
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](atom::members) {
      member_info me;
      me.id = self->state.config.member_id;
      me.alive = true;
      me.last_seen = now(self);
      me.is_self = true;
      return std::vector<member_info>{me};
    },
    [self](atom::status) {
      status_report report;
      report.member_id = self->state.config.member_id;
      report.started_at = self->state.started_at;
      std::map<std::string, int> counts;
      for (auto s : {order_state::open, order_state::spawning,
                     order_state::pending, order_state::fulfilled,
                     order_state::failed, order_state::closed,
                     order_state::deleted})
        counts[std::string{to_string(s)}] = 0;
      for (auto& [id, o] : self->state.orders)
        ++counts[std::string{to_string(o.state)}];
      report.orders_by_state.assign(counts.begin(), counts.end());
      report.instances = static_cast<int>(self->state.instances.size());
      return report;
    },
    [self](atom::instance_changed, const instance& inst) {
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
      if (inst.state != instance_state::failed
          && inst.state != instance_state::lost)
        return;
      log()->info("instance {} of order {} is {}: {}", inst.id, o.id,
                  to_string(inst.state), inst.fault);
      drop_failed_instance(self, o, inst.fault);
    },
    [self](atom::capacity_freed) {
      self->state.backoff_ms = 0;
      wake_up(self);
    },
    [self](atom::retry) {
      self->state.retry_armed = false;
      wake_up(self);
    },
    [self](atom::validity) {
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
    },
  };
}

} // namespace fogbow
