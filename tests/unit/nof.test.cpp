// The Network of Favors arithmetic: exchanges per member from usage rows,
// the reference's debt formula with both switches, member credit.

#include "federation/nof.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <vector>

using namespace fogbow::fed;

namespace {

usage_record row(std::string user, std::string req, std::string prov,
                 double vcpu_minutes) {
  return {std::move(user), std::move(req), std::move(prov),
          usage_amount{vcpu_minutes, 1000 * vcpu_minutes, 0}};
}

const std::vector<usage_record> sample{
  row("u1", "a@x", "b@x", 30), // our users on b
  row("u2", "a@x", "b@x", 10),
  row("u3", "b@x", "a@x", 16), // b's user on our cloud
  row("u1", "a@x", "a@x", 99), // local: not an exchange
  row("u4", "b@x", "c@x", 5),  // between others: not ours
  row("u5", "c@x", "a@x", 9),
};

} // namespace

TEST_CASE("nof: exchanges per member seen from one member") {
  auto t = exchanges_of(sample, "a@x");
  REQUIRE(t.size() == 2);
  CHECK(t.at("b@x") == member_exchange{40, 16});
  CHECK(t.at("c@x") == member_exchange{0, 9});
  CHECK(t.at("b@x").balance() == 24);
  CHECK(t.at("c@x").balance() == -9);
  // Seen from b, the same rows read the other way round.
  auto from_b = exchanges_of(sample, "b@x");
  CHECK(from_b.at("a@x") == member_exchange{16, 40});
  CHECK(from_b.at("c@x") == member_exchange{5, 0});
  CHECK(exchanges_of({}, "a@x").empty());
}

TEST_CASE("nof: debt, trustworthy") {
  nof_settings s{true, true};
  CHECK(nof_debt({40, 16}, s) == 24);
  CHECK(nof_debt({0, 9}, s) == -9);
  CHECK(nof_debt({0, 0}, s) == 0);
}

TEST_CASE("nof: debt, not trustworthy: plus sqrt(donated), floored at 0") {
  nof_settings s{false, true};
  CHECK(nof_debt({40, 16}, s) == 28); // 24 + 4
  CHECK(nof_debt({0, 9}, s) == 0);    // max(0, -9 + 3)
  CHECK(nof_debt({1, 4}, s) == 0);    // max(0, -3 + 2)
  CHECK(nof_debt({1, 1}, s) == 1);    // 0 + 1
  CHECK(nof_debt({0, 0}, s) == 0);
  CHECK(nof_debt({2.25, 0}, s) == 2.25);
}

TEST_CASE("nof: member credit, self and members without history") {
  auto t = exchanges_of(sample, "a@x");
  nof_settings local_first{false, true};
  CHECK(member_credit(t, "a@x", "a@x", local_first)
        == std::numeric_limits<double>::infinity());
  CHECK(member_credit(t, "a@x", "a@x", {false, false}) == -1);
  CHECK(member_credit(t, "a@x", "b@x", local_first) == 28);
  CHECK(member_credit(t, "a@x", "c@x", local_first) == 0);
  CHECK(member_credit(t, "a@x", "nobody@x", local_first) == 0);
  CHECK(member_credit(t, "a@x", "b@x", {true, true}) == 24);
  CHECK(member_credit(t, "a@x", "c@x", {true, true}) == -9);
  CHECK(member_credit({}, "a@x", "nobody@x", {true, false}) == 0);
}

TEST_CASE("nof: the board hands out copies of the last table") {
  exchange_board board;
  CHECK(board.snapshot().empty());
  board.publish(exchanges_of(sample, "a@x"));
  auto copy = board.snapshot();
  board.publish({});
  CHECK(copy.size() == 2);
  CHECK(board.snapshot().empty());
}
