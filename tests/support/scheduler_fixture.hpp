// The order scheduler's test bench: an in-memory store, a scriptable cloud
// driver and a fixture that spawns the scheduler on CAF's deterministic
// scheduler (shared by the scheduler's unit test files).
#pragma once

#include "actors/errors.hpp"
#include "actors/order_scheduler.hpp"
#include "support/deterministic_fixture.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

#include <limits>
#include <map>
#include <set>

namespace fogbow::test {

using namespace std::chrono_literals;

struct fake_store_state {
  static inline const char* name = "fake-store";
  std::map<std::string, order> rows;
  bool failing = false;
};

inline store_actor::behavior_type
fake_store(store_actor::stateful_pointer<fake_store_state> self) {
  return {
    [self](atom::put, const std::vector<order>& xs) -> caf::result<atom::ok> {
      if (self->state.failing)
        return make_error(errc::storage_failure, "disk on fire");
      for (auto& o : xs)
        self->state.rows[o.id] = o;
      return atom::ok_v;
    },
    [self](atom::erase, const std::string& id) {
      self->state.rows.erase(id);
      return atom::ok_v;
    },
    [self](atom::load) {
      std::vector<order> xs;
      for (auto& [id, o] : self->state.rows)
        xs.push_back(o);
      return xs;
    },
    [](atom::subscribe, const order_listener_actor&) {},
  };
}

struct fake_driver_state {
  static inline const char* name = "fake-driver";
  std::map<std::string, instance> instances; // by instance id
  int max_instances = 100;
  int creates = 0;
  int erases = 0;
  int next_id = 1;
  bool die_on_create = false; ///< report the new instance dead before replying
  std::set<resource_kind> unsupported;        ///< kinds refused as unsupported
  std::set<resource_kind> full;               ///< kinds whose quota is used up
  std::map<std::string, instance_spec> specs; ///< last create, by order id
  cloud_events_actor subscriber;
};

inline cloud_driver_actor::behavior_type
fake_driver(cloud_driver_actor::stateful_pointer<fake_driver_state> self) {
  return {
    [self](atom::create, const instance_spec& spec) -> caf::result<instance> {
      auto& st = self->state;
      for (auto& [id, inst] : st.instances)
        if (inst.order_id == spec.order_id)
          return inst;
      if (st.unsupported.count(spec.kind))
        return make_error(errc::unsupported, "no driver for this kind");
      if (st.full.count(spec.kind)
          || static_cast<int>(st.instances.size()) >= st.max_instances)
        return make_error(errc::no_capacity, "no room for another instance");
      ++st.creates;
      st.specs[spec.order_id] = spec;
      instance inst;
      inst.kind = spec.kind;
      inst.id = spec.kind == resource_kind::attachment
                  ? attachment_local_id(spec.server_id, spec.volume_id)
                  : "vm-" + std::to_string(st.next_id++);
      inst.server_id = spec.server_id;
      inst.volume_id = spec.volume_id;
      inst.order_id = spec.order_id;
      inst.state = instance_state::running;
      inst.size = flavor{"small", 1, 512, 10};
      inst.ip = "10.0.0.1";
      st.instances[inst.id] = inst;
      if (st.die_on_create) {
        auto dead = inst;
        dead.state = instance_state::failed;
        dead.fault = "exited at once";
        st.instances[inst.id] = dead;
        self->send(st.subscriber, atom::instance_changed_v, dead);
      }
      return inst;
    },
    [self](atom::get, const std::string& id) -> caf::result<instance> {
      auto it = self->state.instances.find(id);
      if (it == self->state.instances.end())
        return make_error(errc::not_found, "no instance " + id);
      return it->second;
    },
    [self](atom::erase, const std::string& id) -> caf::result<atom::ok> {
      if (!self->state.instances.erase(id))
        return make_error(errc::not_found, "no instance " + id);
      ++self->state.erases;
      if (self->state.subscriber)
        self->send(self->state.subscriber, atom::capacity_freed_v);
      return atom::ok_v;
    },
    [self](atom::list) {
      std::vector<instance> xs;
      for (auto& [id, inst] : self->state.instances)
        xs.push_back(inst);
      return xs;
    },
    [self](atom::resources) {
      cloud_resources r;
      r.instances_total = self->state.max_instances;
      r.instances_used = static_cast<int>(self->state.instances.size());
      return r;
    },
    [self](atom::set_capacity, const cloud_resources& r) {
      self->state.max_instances = r.instances_total;
      return atom::ok_v;
    },
    [self](atom::subscribe, cloud_events_actor subscriber) {
      self->state.subscriber = std::move(subscriber);
    },
  };
}

struct scheduler_fixture : test::deterministic_fixture {
  millis fake_now = 1'800'000'000'000; // 2027-01-15
  std::string member_id = "site-a";
  store_actor store = sys.spawn(fake_store);
  cloud_driver_actor driver = sys.spawn(fake_driver);
  order_scheduler_actor aut;

  scheduler_fixture() { run(); }

  ~scheduler_fixture() {
    for (auto h :
         {caf::actor_cast<caf::actor>(aut), caf::actor_cast<caf::actor>(driver),
          caf::actor_cast<caf::actor>(store)})
      if (h)
        caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    run();
  }

  void start(std::vector<order> stored = {}, std::vector<instance> cloud = {},
             federation_scheduling federation = {}) {
    order_scheduler_config cfg;
    cfg.member_id = member_id;
    cfg.federation = std::move(federation);
    cfg.retry_initial_ms = 1000;
    cfg.retry_max_ms = 8000;
    cfg.clock = [this] { return fake_now; };
    for (auto& o : stored)
      store_rows()[o.id] = o;
    for (auto& i : cloud)
      driver_state().instances[i.id] = i;
    aut = sys.spawn(order_scheduler, store, driver, cfg, std::move(stored),
                    std::move(cloud));
    run();
  }

  void tick(std::chrono::milliseconds d) {
    fake_now += d.count();
    advance(d);
  }

  fake_driver_state& driver_state() {
    return state_of<fake_driver_state>(driver);
  }
  std::map<std::string, order>& store_rows() {
    return state_of<fake_store_state>(store).rows;
  }
  order_scheduler_state& sched_state() {
    return state_of<order_scheduler_state>(aut);
  }

  static order volume_order(int size_gb = 1, std::string user = "alice") {
    auto o = compute_order(std::move(user));
    o.kind = resource_kind::volume;
    o.size_gb = size_gb;
    return o;
  }

  static order attachment_order(std::string compute, std::string volume) {
    auto o = compute_order();
    o.kind = resource_kind::attachment;
    o.attach_compute = std::move(compute);
    o.attach_volume = std::move(volume);
    o.attach_device = "/dev/vdb";
    return o;
  }

  /// One page of alice's instances of `kind`, or the error.
  caf::expected<page<instance>> instances_page(resource_kind kind,
                                               page_query q) {
    caf::expected<page<instance>> result{caf::error{}};
    self->send(aut, atom::instances_v, std::string{"alice"}, kind,
               std::move(q));
    run();
    self->receive([&](page<instance>& p) { result = std::move(p); },
                  [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  std::vector<instance> instances_of(resource_kind kind) {
    page_query everything;
    everything.limit = std::numeric_limits<std::int32_t>::max();
    auto p = instances_page(kind, everything);
    if (!p)
      FAIL(message_of(p.error()));
    return p ? std::move(p->items) : std::vector<instance>{};
  }

  /// One page of `user`'s orders, or the error.
  caf::expected<page<order>> orders_page(page_query q,
                                         std::string user = "alice") {
    caf::expected<page<order>> result{caf::error{}};
    self->send(aut, atom::list_v, std::move(user), std::move(q));
    run();
    self->receive([&](page<order>& p) { result = std::move(p); },
                  [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  static order compute_order(std::string user = "alice") {
    order o;
    o.user_id = user;
    o.user_name = user;
    o.kind = resource_kind::compute;
    o.vcpu = 1;
    o.memory_mb = 512;
    return o;
  }

  std::vector<order> create(order tmpl, int count = 1) {
    std::vector<order> result;
    self->send(aut, atom::create_v, std::move(tmpl), std::int32_t{count});
    run();
    self->receive(
      [&](std::vector<order>& xs) { result = std::move(xs); },
      [&](caf::error& e) { FAIL("create failed: " << message_of(e)); });
    return result;
  }

  caf::error create_error(order tmpl) {
    caf::error err;
    self->send(aut, atom::create_v, std::move(tmpl), std::int32_t{1});
    run();
    self->receive([&](std::vector<order>&) { FAIL("create succeeded"); },
                  [&](caf::error& e) { err = std::move(e); });
    return err;
  }

  order get(const std::string& id, const std::string& user = "alice") {
    order result;
    self->send(aut, atom::get_v, user, id);
    run();
    self->receive(
      [&](order& o) { result = std::move(o); },
      [&](caf::error& e) { FAIL("get failed: " << message_of(e)); });
    return result;
  }

  errc get_error(const std::string& id, const std::string& user) {
    errc code = errc::none;
    self->send(aut, atom::get_v, user, id);
    run();
    self->receive([&](order&) {}, [&](caf::error& e) { code = code_of(e); });
    return code;
  }

  void erase_instance(const std::string& gid,
                      const std::string& user = "alice") {
    self->send(aut, atom::erase_instance_v, user, gid);
    run();
    self->receive(
      [](atom::ok) {},
      [](caf::error& e) { FAIL("erase_instance: " << message_of(e)); });
  }
};

} // namespace fogbow::test
