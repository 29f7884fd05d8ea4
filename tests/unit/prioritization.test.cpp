// Prioritization plugins: fcfs never preempts; nof preempts the newest
// instance of the member we owe least, for a requester we owe more (a local
// order first when local orders are prioritized); two-fold decides over
// served instances first, then over local ones.

#include "federation/prioritization.hpp"

#include <doctest/doctest.h>

using namespace fogbow::fed;

namespace {

// Served instances of b (two) and c (two), and one local instance.
std::vector<running_order> running() {
  return {{"b-old", "b@x", 100},
          {"b-new", "b@x", 300},
          {"c-old", "c@x", 50},
          {"c-new", "c@x", 200},
          {"own", "", 400}};
}

} // namespace

TEST_CASE("fcfs never preempts") {
  auto p = make_fcfs_prioritizer();
  CHECK_FALSE(p->take_from("b@x", running(), {{"b@x", 100.0}}));
  CHECK_FALSE(p->take_from("", running(), {}));
}

TEST_CASE("nof: a member we owe more preempts the newest instance of the "
          "member we owe least") {
  auto p = make_nof_prioritizer(true);
  debt_table debts{{"b@x", 50.0}, {"c@x", 0.0}};
  CHECK(p->take_from("b@x", running(), debts) == "c-new");
  // c is owed least: it preempts nobody, not even itself.
  CHECK_FALSE(p->take_from("c@x", running(), debts));
  // Owed as much as the least-owed one: equal, no preemption.
  CHECK_FALSE(p->take_from("d@x", running(), {{"b@x", 50.0}, {"d@x", 0.0}}));
  // A newcomer we owe nothing preempts a member we owe less than nothing
  // (trustworthy debts may be negative).
  CHECK(p->take_from("d@x", running(), {{"b@x", 5.0}, {"c@x", -3.0}})
        == "c-new");
}

TEST_CASE("nof: the least-owed member is found whatever the debts' order") {
  auto p = make_nof_prioritizer(true);
  CHECK(p->take_from("c@x", running(), {{"b@x", 1.0}, {"c@x", 9.0}})
        == "b-new");
  // Two members owed the same least: the smaller id is chosen.
  CHECK(
    p->take_from("d@x", running(), {{"b@x", 1.0}, {"c@x", 1.0}, {"d@x", 2.0}})
    == "b-new");
}

TEST_CASE("nof: local orders") {
  debt_table debts{{"b@x", 1e9}, {"c@x", 7.0}};
  // Prioritized: a local order preempts any served instance, starting with
  // the member we owe least.
  CHECK(make_nof_prioritizer(true)->take_from("", running(), debts) == "c-new");
  // Not prioritized: a local order (owed -1) preempts nobody.
  CHECK_FALSE(make_nof_prioritizer(false)->take_from("", running(), debts));
  // Local instances are never candidates of nof.
  std::vector<running_order> only_local{{"own", "", 1}};
  CHECK_FALSE(make_nof_prioritizer(true)->take_from("b@x", only_local, debts));
}

TEST_CASE("nof: no served instance, nothing to preempt") {
  auto p = make_nof_prioritizer(true);
  CHECK_FALSE(p->take_from("b@x", {}, {{"b@x", 10.0}}));
}

namespace {

/// Always takes the first candidate it is shown, to see what two-fold
/// shows each side.
class first_one final : public prioritizer {
public:
  std::optional<std::string> take_from(const std::string&,
                                       const std::vector<running_order>& r,
                                       const debt_table&) const override {
    if (r.empty())
      return std::nullopt;
    return r.front().order_id;
  }
};

} // namespace

TEST_CASE("two-fold: served instances first, then local ones") {
  auto both = make_two_fold_prioritizer(std::make_unique<first_one>(),
                                        std::make_unique<first_one>());
  CHECK(both->take_from("b@x", running(), {}) == "b-old");
  std::vector<running_order> only_local{{"own", "", 1}};
  CHECK(both->take_from("b@x", only_local, {}) == "own");

  auto local_only = make_two_fold_prioritizer(std::make_unique<first_one>(),
                                              make_fcfs_prioritizer());
  CHECK(local_only->take_from("b@x", running(), {}) == "own");

  auto nof_served = make_two_fold_prioritizer(make_fcfs_prioritizer(),
                                              make_nof_prioritizer(true));
  debt_table debts{{"b@x", 50.0}, {"c@x", 0.0}};
  CHECK(nof_served->take_from("b@x", running(), debts) == "c-new");
  CHECK(nof_served->take_from("", running(), debts) == "c-new");
  CHECK_FALSE(nof_served->take_from("c@x", running(), debts));
}

TEST_CASE("prioritizers by name") {
  CHECK(make_prioritizer("fcfs", true));
  CHECK(make_prioritizer("nof", false));
  CHECK_FALSE(make_prioritizer("NoF", true));
  CHECK_FALSE(make_prioritizer("", true));
}
