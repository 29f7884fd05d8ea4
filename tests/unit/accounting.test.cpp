// The accounting actor: use per (user, requesting, providing) of local,
// remote and served orders; changes end counting at the order's
// updated_at; the periodic update commits; a restart resumes from the last
// commit without loss or double count.

#include "actors/accounting.hpp"

#include "support/ask.hpp"
#include "support/deterministic_fixture.hpp"
#include "support/temp_dir.hpp"

#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace fogbow;
using namespace std::chrono_literals;

namespace {

constexpr millis t0 = 1'000'000'000;
constexpr millis minute = 60'000;

order fulfilled(std::string id, std::string user, std::string req,
                std::string prov, int vcpu, int memory_mb) {
  order o;
  o.id = std::move(id);
  o.user_id = std::move(user);
  o.requesting_member = std::move(req);
  o.providing_member = std::move(prov);
  o.state = order_state::fulfilled;
  o.instance_id = "i-" + o.id + "@" + o.providing_member;
  o.vcpu = vcpu;
  o.memory_mb = memory_mb;
  o.fulfilled_at = t0;
  o.updated_at = t0;
  return o;
}

struct accounting_fixture : test::deterministic_fixture {
  test::temp_dir dir;
  std::string path = (dir.path / "accounting.db").string();
  millis now = t0;
  std::shared_ptr<fed::exchange_board> board =
    std::make_shared<fed::exchange_board>();
  accounting_actor aut;

  void start(std::vector<order> stored = {}) {
    accounting_config c;
    c.self_id = "a@x";
    c.period = 1min;
    c.clock = [this] { return now; };
    c.board = board;
    aut = sys.spawn(accounting, path, c, std::move(stored));
    run();
  }
  void crash() {
    self->send_exit(aut, caf::exit_reason::kill);
    run();
  }
  ~accounting_fixture() { crash(); }

  std::vector<usage_record> usage(std::string user = {}) {
    return test::ask<std::vector<usage_record>>(*this, aut, atom::usage_v,
                                                std::move(user))
      .value();
  }
  void update(std::vector<order> os) {
    self->send(aut, atom::update_v, std::move(os));
    run();
  }
};

} // namespace

TEST_CASE_FIXTURE(accounting_fixture,
                  "accounting: local, consumed and donated use") {
  start();
  auto served = fulfilled("s@b@x", "rb", "b@x", "a@x", 0, 0);
  served.requirements =
    "(Glue2vCPU >= 8) && Glue2vCPU >= 4 && Glue2RAM >= 2048";
  update({fulfilled("l", "u1", "a@x", "a@x", 2, 1024),
          fulfilled("r", "u1", "a@x", "b@x", 1, 512), served});
  now += 30 * minute;
  CHECK(usage()
        == std::vector<usage_record>{{"rb", "b@x", "a@x", {120, 61440, 0}},
                                     {"u1", "a@x", "a@x", {60, 30720, 0}},
                                     {"u1", "a@x", "b@x", {30, 15360, 0}}});
  CHECK(usage("u1").size() == 2);
  auto x = test::ask<fed::exchange_table>(*this, aut, atom::exchanges_v);
  CHECK(x.value() == fed::exchange_table{{"b@x", {30, 120}}});
  // The board holds what was committed (at t0: nothing used yet).
  CHECK(board->snapshot().empty());
}

TEST_CASE_FIXTURE(accounting_fixture,
                  "accounting: a change ends counting at its updated_at") {
  start();
  auto o = fulfilled("o", "u", "a@x", "a@x", 1, 0);
  auto v = fulfilled("v", "u", "a@x", "a@x", 0, 0);
  v.kind = resource_kind::volume;
  v.size_gb = 10;
  update({o, v});
  now += 2 * minute;
  o.state = order_state::closed;
  o.updated_at = t0 + 15'000; // a short-lived instance: 15 s
  v.state = order_state::deleted;
  v.updated_at = t0 + 3 * minute; // later than now: clamped to now
  update({o, v});
  now += 10 * minute;
  CHECK(usage()
        == std::vector<usage_record>{{"u", "a@x", "a@x", {0.25, 0, 20}}});
  CHECK(state_of<accounting_state>(aut).counted.empty());
}

TEST_CASE_FIXTURE(accounting_fixture,
                  "accounting: periodic commits survive a crash exactly") {
  auto a = fulfilled("a", "u", "a@x", "b@x", 1, 0);
  start();
  update({a});
  now += minute;
  advance(1min); // the periodic update commits 1 vCPU-minute
  CHECK(usage_store::open(path).totals()
        == std::vector<usage_record>{{"u", "a@x", "b@x", {1, 0, 0}}});
  CHECK(board->snapshot().at("b@x") == fed::member_exchange{1, 0});
  crash();
  now += minute / 2;
  // While down, order b was fulfilled (committed by the order store, never
  // told to us), and a is still fulfilled.
  auto b = fulfilled("b", "u", "a@x", "b@x", 2, 0);
  b.fulfilled_at = t0 + minute;
  start({a, b});
  CHECK(usage() == std::vector<usage_record>{{"u", "a@x", "b@x", {2.5, 0, 0}}});
  crash();
  // While down again, a closed at t0 + 2 min; b left the store.
  now += minute;
  a.state = order_state::closed;
  a.updated_at = t0 + 2 * minute;
  start({a});
  CHECK(usage() == std::vector<usage_record>{{"u", "a@x", "b@x", {3, 0, 0}}});
  CHECK(state_of<accounting_state>(aut).counted.empty());
}

TEST_CASE_FIXTURE(accounting_fixture, "accounting: erase ends counting now") {
  start();
  update({fulfilled("o", "u", "b@x", "a@x", 1, 0)});
  now += 3 * minute;
  self->send(aut, atom::erase_v, std::string{"o"});
  run();
  now += 3 * minute;
  CHECK(usage() == std::vector<usage_record>{{"u", "b@x", "a@x", {3, 0, 0}}});
  CHECK(board->snapshot().at("b@x") == fed::member_exchange{0, 3});
}

TEST_CASE_FIXTURE(accounting_fixture,
                  "accounting: a balances listener gets the NoF debts at once "
                  "and after every period") {
  start();
  // A's user runs 4 vCPUs on b; c's user 1 vCPU here.
  update({fulfilled("r", "u", "a@x", "b@x", 4, 0),
          fulfilled("s@c@x", "rc", "c@x", "a@x", 1, 0)});
  auto next = [&] {
    std::pair<fed::exchange_table, fed::debt_table> got;
    bool received = false;
    self->receive(
      [&](atom::balances, fed::exchange_table& t, fed::debt_table& d) {
        got = {std::move(t), std::move(d)};
        received = true;
      },
      caf::after(0s) >> [] {});
    REQUIRE(received);
    return got;
  };
  self->send(aut, atom::subscribe_v,
             caf::actor_cast<balances_listener_actor>(self));
  run();
  auto [t_now, d_now] = next(); // at t0 nothing has been used yet
  CHECK(t_now == fed::exchange_table{{"b@x", {0, 0}}, {"c@x", {0, 0}}});
  CHECK(d_now == fed::debt_table{{"b@x", 0.0}, {"c@x", 0.0}});
  now += 4 * minute;
  advance(1min);
  auto [table, debts] = next();
  CHECK(table == fed::exchange_table{{"b@x", {16, 0}}, {"c@x", {0, 4}}});
  // Untrustworthy (the default): max(0, consumed − donated + √donated).
  CHECK(debts == fed::debt_table{{"b@x", 16.0}, {"c@x", 0.0}});
  now += 5 * minute;
  advance(1min);
  auto [later, later_debts] = next();
  CHECK(later.at("c@x") == fed::member_exchange{0, 9});
  CHECK(later_debts.at("b@x") == doctest::Approx(36.0));
  CHECK(later_debts.at("c@x") == 0.0); // −9 + √9 floored at 0
}
