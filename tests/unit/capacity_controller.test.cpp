// Capacity controllers: unlimited, and fixed caps per member with a default.

#include "federation/member_policies.hpp"

#include <doctest/doctest.h>

using namespace fogbow::fed;

TEST_CASE("unlimited capacity: no cap for anyone") {
  auto c = make_unlimited_capacity();
  CHECK_FALSE(c->max_donated("a@x"));
  CHECK_FALSE(c->max_donated(""));
}

TEST_CASE("fixed capacity: listed members get theirs, others the default") {
  auto c = make_fixed_capacity({{"big@x", 10}, {"none@x", 0}}, 2);
  CHECK(c->max_donated("big@x") == 10);
  CHECK(c->max_donated("none@x") == 0);
  CHECK(c->max_donated("other@x") == 2);
  CHECK(c->max_donated("big@x/fogbow") == 2); // exact ids only
  auto closed = make_fixed_capacity({}, 0);
  CHECK(closed->max_donated("anyone@x") == 0);
}
