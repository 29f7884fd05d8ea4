// The order scheduler in a federation, on CAF's deterministic scheduler: a
// scriptable member proxy stands in for the other members (each one
// serves, refuses, or serves but answers too late), so that every rule of
// remote placement and serving can be driven step by step.

#include "support/scheduler_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

using namespace fogbow;
using namespace fogbow::test;
using namespace std::chrono_literals;

namespace {

enum class provider { serves, refuses, late };

struct fake_proxy_state {
  static inline const char* name = "fake-proxy";
  std::map<std::string, provider> members; ///< how each member behaves
  /// (member, order id) → local instance id it created.
  std::map<std::pair<std::string, std::string>, std::string> created;
  std::vector<std::string> offers; ///< members, in the order offered to
  std::vector<std::pair<std::string, std::string>> withdrawn; ///< removeorder
  std::set<std::string> used; ///< order ids we answer "used" when probed
  /// Local ids the provider reports failed, with the fault it gives.
  std::map<std::string, std::string> failed;
  int next_id = 1;
};

member_proxy_actor::behavior_type
fake_proxy(member_proxy_actor::stateful_pointer<fake_proxy_state> self) {
  return {
    [self](atom::create, const std::string& member,
           const order& o) -> caf::result<std::string> {
      auto& st = self->state;
      st.offers.push_back(member);
      auto how =
        st.members.count(member) ? st.members[member] : provider::refuses;
      if (how == provider::refuses)
        return make_error(errc::no_capacity, member + " has no room");
      auto key = std::pair{member, o.id};
      if (!st.created.count(key))
        st.created[key] = "r" + std::to_string(st.next_id++);
      if (how == provider::late)
        return make_error(errc::timeout, member + " did not answer in time");
      return st.created[key];
    },
    [self](atom::get, const std::string& member,
           const std::vector<std::string>& ids) {
      std::vector<instance> out;
      for (auto& [key, local] : self->state.created)
        if (key.first == member
            && std::find(ids.begin(), ids.end(), local) != ids.end()) {
          instance inst;
          inst.id = local;
          inst.state = instance_state::running;
          inst.ssh_public_address = "tunnel.example:40001";
          if (auto f = self->state.failed.find(local);
              f != self->state.failed.end()) {
            inst.state = instance_state::failed;
            inst.fault = f->second;
          }
          out.push_back(inst);
        }
      return out;
    },
    [self](atom::erase_instance, const std::string& member,
           const std::string& local) {
      auto& c = self->state.created;
      for (auto it = c.begin(); it != c.end(); ++it)
        if (it->first.first == member && it->second == local) {
          c.erase(it);
          break;
        }
      return atom::ok_v;
    },
    [self](atom::erase, const std::string& member,
           const std::string& order_id) {
      self->state.withdrawn.emplace_back(member, order_id);
      self->state.created.erase({member, order_id});
      return atom::ok_v;
    },
    [](atom::quota, const std::string& member, const std::string&,
       const std::string&) {
      quota_report q;
      q.member_id = member;
      q.cloud.instances_total = 7;
      return q;
    },
    [self](atom::probe, const std::string&, const std::string& order_id,
           const std::string&) { return self->state.used.count(order_id) > 0; },
  };
}

struct federation_fixture : scheduler_fixture {
  member_proxy_actor proxy = sys.spawn(fake_proxy);

  ~federation_fixture() {
    caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
    run();
  }

  federation_scheduling
  federation(std::shared_ptr<const fed::member_validator> validator = nullptr) {
    federation_scheduling f;
    f.proxy = proxy;
    f.picker = fed::make_round_robin_picker();
    f.validator = validator ? validator : fed::make_accept_any_validator();
    f.forward_timeout = 2s;
    f.monitor_interval = 1s;
    f.probe_interval = 10s;
    f.requester_grace = 60s;
    return f;
  }

  /// Starts the scheduler with a full local cloud and these members.
  void start_full(std::map<std::string, provider> members,
                  std::shared_ptr<const fed::member_validator> v = nullptr) {
    driver_state().max_instances = 0;
    proxy_state().members = members;
    start({}, {}, federation(std::move(v)));
    std::vector<std::string> ids;
    for (auto& [id, how] : members)
      ids.push_back(id);
    set_members(ids);
  }

  void set_members(const std::vector<std::string>& ids) {
    std::vector<member_info> list{{member_id, true, fake_now, true}};
    for (auto& id : ids)
      list.push_back({id, true, fake_now, false});
    self->send(aut, atom::members_changed_v, list);
    run();
  }

  fake_proxy_state& proxy_state() { return state_of<fake_proxy_state>(proxy); }

  /// Instances created anywhere for this order (must never exceed one).
  size_t copies_of(const std::string& order_id) {
    size_t n = 0;
    for (auto& [key, local] : proxy_state().created)
      n += key.second == order_id;
    for (auto& [id, inst] : driver_state().instances)
      n += inst.order_id == order_id;
    return n;
  }

  instance serve(order o, std::int32_t cap = -1) {
    instance result;
    self->send(aut, atom::serve_v, std::move(o), cap);
    run();
    self->receive([&](instance& x) { result = std::move(x); },
                  [&](caf::error& e) { FAIL("serve: " << message_of(e)); });
    return result;
  }

  errc serve_error(order o, std::int32_t cap = -1) {
    errc code = errc::none;
    self->send(aut, atom::serve_v, std::move(o), cap);
    run();
    self->receive([](instance&) { FAIL("served"); },
                  [&](caf::error& e) { code = code_of(e); });
    return code;
  }

  static order served_order(std::string remote_id, std::string member) {
    auto o = compute_order("bob");
    o.id = remote_id + "@" + member;
    o.requesting_member = member;
    return o;
  }
};

} // namespace

TEST_CASE_FIXTURE(federation_fixture,
                  "an order the local cloud cannot serve goes to a member") {
  start_full({{"site-b@x", provider::serves}});
  auto id = create(compute_order())[0].id;
  auto o = get(id);
  CHECK(o.state == order_state::fulfilled);
  CHECK(o.providing_member == "site-b@x");
  CHECK(o.instance_id == "r1@site-b@x");
  CHECK(store_rows().at(id).offered_to == std::vector<std::string>{"site-b@x"});
  CHECK(copies_of(id) == 1);
  auto listed = instances_of(resource_kind::compute);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == "r1@site-b@x");
}

TEST_CASE_FIXTURE(federation_fixture,
                  "a refusal moves on to the next member at once") {
  start_full({{"site-b@x", provider::refuses}, {"site-c@x", provider::serves}});
  auto id = create(compute_order())[0].id;
  auto o = get(id);
  CHECK(o.state == order_state::fulfilled);
  CHECK(o.providing_member == "site-c@x");
  CHECK(proxy_state().offers
        == std::vector<std::string>{"site-b@x", "site-c@x"});
  // The member that refused still hears that the order is served elsewhere.
  CHECK(proxy_state().withdrawn
        == std::vector<std::pair<std::string, std::string>>{{"site-b@x", id}});
}

TEST_CASE_FIXTURE(federation_fixture,
                  "a member too slow to answer leaves no second instance") {
  start_full({{"site-b@x", provider::late}, {"site-c@x", provider::serves}});
  auto id = create(compute_order())[0].id;
  CHECK(get(id).providing_member == "site-c@x");
  // site-b made one late; it was told to remove it.
  CHECK(copies_of(id) == 1);
  CHECK(store_rows().at(id).offered_to == std::vector<std::string>{"site-c@x"});
}

TEST_CASE_FIXTURE(federation_fixture,
                  "with no member able to serve, an order waits open until "
                  "membership changes") {
  start_full({{"site-b@x", provider::refuses}});
  auto id = create(compute_order())[0].id;
  auto o = get(id);
  CHECK(o.state == order_state::open);
  CHECK(o.last_error.find("no member could serve it") != std::string::npos);
  CHECK(o.providing_member.empty());
  proxy_state().members["site-c@x"] = provider::serves;
  set_members({"site-b@x", "site-c@x"});
  o = get(id);
  CHECK(o.state == order_state::fulfilled);
  CHECK(o.providing_member == "site-c@x");
}

TEST_CASE_FIXTURE(federation_fixture,
                  "requirements pin an order to one member") {
  proxy_state().members = {{"site-b@x", provider::serves},
                           {"site-c@x", provider::serves}};
  start({}, {}, federation());
  set_members({"site-b@x", "site-c@x"});
  auto tmpl = compute_order();
  tmpl.requirements = R"(Glue2CloudComputeManagerID == "site-c@x")";
  auto id = create(tmpl)[0].id;
  // The local cloud has room, but the order is not for this member.
  CHECK(get(id).providing_member == "site-c@x");
  CHECK(driver_state().creates == 0);
  auto local = compute_order();
  local.requirements = R"(Glue2CloudComputeManagerID == "site-a")";
  auto lid = create(local)[0].id;
  CHECK(get(lid).providing_member == "site-a");
}

TEST_CASE_FIXTURE(federation_fixture,
                  "a member the validator does not let us use is skipped") {
  start_full({{"site-b@x", provider::serves}, {"site-c@x", provider::serves}},
             fed::make_whitelist_validator({}, {"site-c@x"}));
  auto id = create(compute_order())[0].id;
  CHECK(get(id).providing_member == "site-c@x");
  CHECK(proxy_state().offers == std::vector<std::string>{"site-c@x"});
}

TEST_CASE_FIXTURE(federation_fixture,
                  "deleting a remote order withdraws it from its provider") {
  start_full({{"site-b@x", provider::serves}});
  auto id = create(compute_order())[0].id;
  self->send(aut, atom::erase_v, std::string{"alice"}, id);
  run();
  self->receive([](order& o) { CHECK(o.state == order_state::deleted); },
                [](caf::error& e) { FAIL(message_of(e)); });
  run();
  CHECK(copies_of(id) == 0);
  CHECK(store_rows().count(id) == 0);
}

TEST_CASE_FIXTURE(federation_fixture,
                  "a remote instance gone at its provider re-places a "
                  "persistent order") {
  start_full({{"site-b@x", provider::serves}, {"site-c@x", provider::serves}});
  auto tmpl = compute_order();
  tmpl.type = order_type::persistent;
  auto id = create(tmpl)[0].id;
  auto first = get(id).instance_id;
  tick(1s); // refresh: the provider reports the instance
  auto listed = instances_of(resource_kind::compute);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].state == instance_state::running);
  CHECK(listed[0].ssh_public_address == "tunnel.example:40001");
  proxy_state().created.clear(); // the provider lost it
  tick(1s);
  auto o = get(id);
  CHECK(o.state == order_state::fulfilled);
  CHECK(o.instance_id != first);
}

TEST_CASE_FIXTURE(federation_fixture,
                  "a provider declared dead: pending orders go elsewhere, "
                  "persistent ones are re-placed, one-time ones show unknown") {
  start_full({{"site-b@x", provider::serves}, {"site-c@x", provider::serves}});
  auto once = create(compute_order())[0].id;
  auto tmpl = compute_order();
  tmpl.type = order_type::persistent;
  auto kept = create(tmpl)[0].id;
  REQUIRE(get(once).providing_member == "site-b@x");
  REQUIRE(get(kept).providing_member == "site-c@x");
  set_members({"site-b@x"}); // site-c is gone
  CHECK(get(kept).providing_member == "site-b@x");
  CHECK(get(kept).state == order_state::fulfilled);
  set_members({"site-c@x"}); // site-b is gone, site-c back
  auto o = get(once);
  CHECK(o.state == order_state::fulfilled);
  CHECK(o.providing_member == "site-b@x");
  auto listed = instances_of(resource_kind::compute);
  auto it = std::find_if(listed.begin(), listed.end(),
                         [&](auto& x) { return x.id == o.instance_id; });
  REQUIRE(it != listed.end());
  CHECK(it->state == instance_state::unknown);
}

TEST_CASE_FIXTURE(federation_fixture,
                  "after a restart a pending order is offered again to the "
                  "same member, without a second instance") {
  proxy_state().members = {{"site-b@x", provider::serves}};
  auto o = compute_order();
  o.id = "ord-1";
  o.requesting_member = member_id;
  o.state = order_state::pending;
  o.providing_member = "site-b@x";
  o.offered_to = {"site-b@x"};
  proxy_state().created[{"site-b@x", "ord-1"}] = "r9";
  start({o}, {}, federation());
  auto now = get("ord-1");
  CHECK(now.state == order_state::fulfilled);
  CHECK(now.instance_id == "r9@site-b@x");
  CHECK(copies_of("ord-1") == 1);
}

TEST_CASE_FIXTURE(federation_fixture,
                  "serving: idempotent per order, invisible to local users, "
                  "capped per member") {
  start({}, {}, federation());
  set_members({"site-b@x"});
  auto first = serve(served_order("o1", "site-b@x"));
  auto again = serve(served_order("o1", "site-b@x"));
  CHECK(first.id == again.id);
  CHECK(driver_state().creates == 1);
  CHECK(get_error("o1@site-b@x", "bob") == errc::not_found);
  CHECK(instances_of(resource_kind::compute).empty());
  CHECK(serve_error(served_order("o2", "site-b@x"), 1) == errc::no_capacity);
  driver_state().max_instances = 1;
  CHECK(serve_error(served_order("o3", "site-c@x")) == errc::no_capacity);
  CHECK(sched_state().orders.count("o3@site-c@x") == 0);
  CHECK(store_rows().count("o3@site-c@x") == 0);
}

TEST_CASE_FIXTURE(federation_fixture,
                  "serving: removeorder removes the instance; a requester "
                  "that no longer uses one gets it reclaimed") {
  start({}, {}, federation());
  set_members({"site-b@x"});
  serve(served_order("o1", "site-b@x"));
  serve(served_order("o2", "site-b@x"));
  REQUIRE(driver_state().instances.size() == 2);
  self->send(aut, atom::unserve_v, std::string{"site-b@x"}, std::string{"o1"});
  run();
  self->receive([](atom::ok) {}, [](caf::error& e) { FAIL(message_of(e)); });
  run();
  CHECK(driver_state().instances.size() == 1);
  CHECK(store_rows().count("o1@site-b@x") == 0);
  proxy_state().used = {}; // the requester answers "not used" for o2
  tick(10s);
  CHECK(driver_state().instances.empty());
  CHECK(sched_state().orders.empty());
}

TEST_CASE_FIXTURE(federation_fixture,
                  "instancebeingused: yes for what we still want from that "
                  "member only") {
  start_full({{"site-b@x", provider::serves}});
  auto id = create(compute_order())[0].id;
  auto gid = get(id).instance_id;
  auto ask = [&](std::string member, std::string order_id, std::string g) {
    bool used = false;
    self->send(aut, atom::probe_v, member, order_id, g);
    run();
    self->receive([&](bool x) { used = x; },
                  [](caf::error& e) { FAIL(message_of(e)); });
    return used;
  };
  CHECK(ask("site-b@x", id, gid));
  CHECK(ask("site-b@x", "", gid));
  CHECK_FALSE(ask("site-c@x", id, "r1@site-c@x"));
  CHECK_FALSE(ask("site-b@x", "no-such-order", gid + "x"));
}

TEST_CASE_FIXTURE(federation_fixture,
                  "an attachment waiting for remote targets is placed as soon "
                  "as a refresh shows them running") {
  start_full({{"site-b@x", provider::serves}});
  auto compute = create(compute_order())[0].id;
  auto vol = volume_order();
  vol.requirements = R"(Glue2CloudComputeManagerID == "site-b@x")";
  auto volume = create(vol)[0].id;
  REQUIRE(get(compute).providing_member == "site-b@x");
  REQUIRE(get(volume).providing_member == "site-b@x");
  // Answered offers are spawning until the provider says otherwise.
  auto att = create(attachment_order(compute, volume))[0].id;
  CHECK(get(att).state == order_state::open);
  CHECK(get(att).last_error.find("to be running") != std::string::npos);
  tick(1s); // the refresh reports both running
  auto o = get(att);
  CHECK(o.state == order_state::fulfilled);
  CHECK(o.providing_member == "site-b@x");
}

namespace {

/// Served instances of site-b@x and site-c@x fill a cloud of three, with
/// nof over served instances; we owe site-b@x much, site-c@x nothing.
struct preemption_fixture : federation_fixture {
  std::string c_old, c_new, b_old;

  void start_nof(bool prioritize_local = true) {
    auto f = federation();
    f.prioritizer = fed::make_two_fold_prioritizer(
      fed::make_fcfs_prioritizer(),
      fed::make_nof_prioritizer(prioritize_local));
    driver_state().max_instances = 3;
    start({}, {}, f);
    set_members({"site-b@x", "site-c@x"});
    self->send(aut, atom::balances_v, fed::exchange_table{},
               fed::debt_table{{"site-b@x", 100.0}, {"site-c@x", 0.0}});
    run();
    c_old = serve(served_order("c1", "site-c@x")).id;
    fake_now += 1000;
    b_old = serve(served_order("b1", "site-b@x")).id;
    fake_now += 1000;
    c_new = serve(served_order("c2", "site-c@x")).id;
    REQUIRE(driver_state().instances.size() == 3);
  }

  std::vector<instance> served_to(std::string member, std::string local) {
    std::vector<instance> out;
    self->send(aut, atom::served_instances_v, member,
               std::vector<std::string>{local});
    run();
    self->receive([&](std::vector<instance>& xs) { out = std::move(xs); },
                  [](caf::error& e) { FAIL(message_of(e)); });
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(preemption_fixture,
                  "nof: an order of a member we owe more takes the place of "
                  "the newest instance of the member we owe least") {
  start_nof();
  auto b2 = serve(served_order("b2", "site-b@x"));
  CHECK(driver_state().instances.count(b2.id) == 1);
  CHECK(driver_state().instances.count(c_new) == 0); // the newest of c went
  CHECK(driver_state().instances.count(c_old) == 1);
  CHECK(driver_state().instances.count(b_old) == 1);
  CHECK(driver_state().instances.size() == 3);
  CHECK(sched_state().orders.count("c2@site-c@x") == 0);
  CHECK(store_rows().count("c2@site-c@x") == 0);
  // site-c@x learns why at its next getinstance; nobody else does.
  auto seen = served_to("site-c@x", c_new);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].state == instance_state::failed);
  CHECK(seen[0].fault.find("preempted") != std::string::npos);
  CHECK(served_to("site-b@x", c_new).empty());
}

TEST_CASE_FIXTURE(preemption_fixture,
                  "nof: the member we owe least preempts nobody, and an "
                  "order preempts at most once") {
  start_nof();
  CHECK(serve_error(served_order("c3", "site-c@x")) == errc::no_capacity);
  CHECK(driver_state().instances.size() == 3);
  CHECK(driver_state().erases == 0);
  // A newcomer we owe as little as site-c@x (nothing): no preemption.
  CHECK(serve_error(served_order("d1", "site-d@x")) == errc::no_capacity);
  CHECK(driver_state().erases == 0);
}

TEST_CASE_FIXTURE(preemption_fixture,
                  "nof: a local order preempts a served instance before it "
                  "is forwarded; not when local orders are not prioritized") {
  SUBCASE("prioritized") {
    start_nof(true);
    proxy_state().members = {{"site-b@x", provider::serves}};
    auto id = create(compute_order())[0].id;
    auto o = get(id);
    CHECK(o.state == order_state::fulfilled);
    CHECK(o.providing_member == member_id);
    CHECK(proxy_state().offers.empty());
    CHECK(driver_state().instances.count(c_new) == 0);
  }
  SUBCASE("not prioritized") {
    start_nof(false);
    proxy_state().members = {{"site-b@x", provider::serves}};
    auto id = create(compute_order())[0].id;
    CHECK(get(id).providing_member == "site-b@x");
    CHECK(driver_state().erases == 0);
  }
}

TEST_CASE_FIXTURE(federation_fixture,
                  "fcfs: a full cloud refuses a served order and preempts "
                  "nothing") {
  driver_state().max_instances = 1;
  start({}, {}, federation());
  set_members({"site-b@x", "site-c@x"});
  self->send(aut, atom::balances_v, fed::exchange_table{},
             fed::debt_table{{"site-b@x", 100.0}});
  run();
  serve(served_order("c1", "site-c@x"));
  CHECK(serve_error(served_order("b1", "site-b@x")) == errc::no_capacity);
  CHECK(driver_state().erases == 0);
}

TEST_CASE_FIXTURE(federation_fixture,
                  "a persistent order whose remote instance was preempted "
                  "is placed again elsewhere, and says why") {
  start_full({{"site-b@x", provider::serves}, {"site-c@x", provider::serves}});
  auto tmpl = compute_order();
  tmpl.type = order_type::persistent;
  auto id = create(tmpl)[0].id;
  auto first = get(id);
  REQUIRE(first.state == order_state::fulfilled);
  auto [local, first_member] = *split_instance_id(first.instance_id);
  proxy_state().failed[local] = "preempted by " + first_member;
  tick(1s); // the refresh sees it failed
  auto o = get(id);
  CHECK(o.state == order_state::fulfilled);
  CHECK(o.providing_member != first_member);
  CHECK_FALSE(o.providing_member.empty());
}
