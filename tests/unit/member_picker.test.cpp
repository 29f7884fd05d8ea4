// The member pickers: round-robin (sorted order, wrap-around, membership
// changing between picks) and nof (who owes us most, ties round-robin).

#include "federation/member_policies.hpp"
#include "federation/nof.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace fogbow::fed;

namespace {

std::vector<std::string>
picks(member_picker& p, const std::vector<std::string>& candidates, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(p.pick(candidates).value_or("<none>"));
  return out;
}

} // namespace

TEST_CASE("round-robin: lexicographic order whatever the input order, wraps") {
  auto p = make_round_robin_picker();
  std::vector<std::string> members{"c@x", "a@x", "b@x"};
  CHECK(picks(*p, members, 7)
        == std::vector<std::string>{"a@x", "b@x", "c@x", "a@x", "b@x", "c@x",
                                    "a@x"});
}

TEST_CASE("round-robin: nothing to pick from") {
  auto p = make_round_robin_picker();
  CHECK_FALSE(p->pick({}));
  CHECK(p->pick({"only@x"}) == "only@x");
  CHECK_FALSE(p->pick({}));
  CHECK(p->pick({"only@x"}) == "only@x"); // one candidate: always it
}

TEST_CASE("round-robin: members joining and leaving between picks") {
  auto p = make_round_robin_picker();
  CHECK(p->pick({"b@x", "d@x"}) == "b@x");
  // a newcomer after the last pick comes next, one before it waits its turn
  CHECK(p->pick({"a@x", "b@x", "c@x", "d@x"}) == "c@x");
  CHECK(p->pick({"a@x", "b@x", "c@x", "d@x"}) == "d@x");
  CHECK(p->pick({"a@x", "b@x", "c@x", "d@x"}) == "a@x");
  // the last pick left: the next after where it was
  CHECK(p->pick({"b@x", "c@x"}) == "b@x");
  CHECK(p->pick({"a@x", "c@x"}) == "c@x");
  // everything after the last pick left: wrap to the first
  CHECK(p->pick({"a@x", "b@x"}) == "a@x");
}

TEST_CASE("round-robin: byte order, so upper case sorts first") {
  auto p = make_round_robin_picker();
  CHECK(picks(*p, {"b@x", "B@x", "a@x"}, 3)
        == std::vector<std::string>{"B@x", "a@x", "b@x"});
}

// -- nof ---------------------------------------------------------------

TEST_CASE("nof picker: the member that owes us most") {
  auto board = std::make_shared<exchange_board>();
  // b owes us 50, c 10, d is owed 5 by us.
  board->publish({{"b@x", {10, 60}}, {"c@x", {0, 10}}, {"d@x", {5, 0}}});
  auto p = make_nof_picker(board);
  CHECK(picks(*p, {"c@x", "d@x", "b@x"}, 3)
        == std::vector<std::string>{"b@x", "b@x", "b@x"});
  // Without b, c owes most.
  CHECK(p->pick({"d@x", "c@x"}) == "c@x");
  // Members with no history stand at 0: below d (we owe d), above c.
  CHECK(p->pick({"d@x", "new@x"}) == "new@x");
  CHECK(p->pick({"c@x", "new@x"}) == "c@x");
}

TEST_CASE("nof picker: ties broken round-robin, no history never crashes") {
  auto board = std::make_shared<exchange_board>();
  auto p = make_nof_picker(board);
  CHECK_FALSE(p->pick({}));
  CHECK(picks(*p, {"c@x", "a@x", "b@x"}, 4)
        == std::vector<std::string>{"a@x", "b@x", "c@x", "a@x"});
  board->publish({{"b@x", {0, 7}}, {"c@x", {0, 7}}});
  CHECK(picks(*p, {"a@x", "b@x", "c@x"}, 3)
        == std::vector<std::string>{"b@x", "c@x", "b@x"});
  // A picker without a board treats every member as new.
  auto bare = make_nof_picker(nullptr);
  CHECK(picks(*bare, {"b@x", "a@x"}, 2)
        == std::vector<std::string>{"a@x", "b@x"});
}
