// The round-robin member picker: sorted order, wrap-around, membership
// changing between picks.

#include "federation/member_policies.hpp"

#include <doctest/doctest.h>

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
