// The fairness-driven capacity controller: the hill climber's steps, and
// its pairwise, global and two-fold modes.

#include "federation/fairness.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace fogbow::fed;

TEST_CASE("fairness is consumed over donated, unknown without donations") {
  CHECK(fairness_of({10, 20}) == doctest::Approx(0.5));
  CHECK(fairness_of({10, 0}) == -1);
  CHECK(fairness_of({0, 0}) == -1);
}

TEST_CASE("hill climber: starts at the capacity and waits for two known "
          "periods") {
  hill_climber c{0.1, 0.8, 1.2};
  CHECK(c.cap() == -1);
  c.step(-1, 100);
  CHECK(c.cap() == 100);
  c.step(0.5, 100); // the previous period was unknown: no move
  CHECK(c.cap() == 100);
}

TEST_CASE("hill climber: below the band shrinks, above grows, clamped") {
  hill_climber c{0.1, 0.8, 1.2};
  c.step(0.5, 100);
  c.step(0.5, 100);
  CHECK(c.cap() == doctest::Approx(90));
  c.step(0.4, 100);
  CHECK(c.cap() == doctest::Approx(80));
  c.step(2.0, 100);
  CHECK(c.cap() == doctest::Approx(90));
  c.step(2.0, 100);
  c.step(2.0, 100);
  CHECK(c.cap() == doctest::Approx(100)); // not above the capacity
  for (int i = 0; i < 20; ++i)
    c.step(0.1, 100);
  CHECK(c.cap() == doctest::Approx(0)); // not below zero
}

TEST_CASE("hill climber: inside the band it keeps going while fairness "
          "improves and turns back when it does not") {
  hill_climber c{0.1, 0.8, 1.2};
  c.step(0.5, 100);
  c.step(0.5, 100); // below: decreasing, 90
  c.step(0.9, 100); // in band, improved: keep decreasing, 80
  CHECK(c.cap() == doctest::Approx(80));
  c.step(0.85, 100); // in band, worse: turn, increasing, 90
  CHECK(c.cap() == doctest::Approx(90));
  c.step(0.95, 100); // improved: keep increasing, 100
  CHECK(c.cap() == doctest::Approx(100));
}

TEST_CASE("hill climber: bad settings are refused") {
  CHECK_THROWS_AS(hill_climber(1.5, 0.8, 1.2), std::invalid_argument);
  CHECK_THROWS_AS(hill_climber(0.1, -1, 1.2), std::invalid_argument);
  CHECK_THROWS_AS(hill_climber(0.1, 1.2, 0.8), std::invalid_argument);
}

namespace {

fairness_capacity controller(std::string mode) {
  fairness_settings s;
  s.mode = std::move(mode);
  s.delta = 0.1;
  s.min_threshold = 0.8;
  s.max_threshold = 1.2;
  return fairness_capacity{s};
}

} // namespace

TEST_CASE("fairness capacity: no cap before the first period") {
  auto c = controller("two-fold");
  CHECK_FALSE(c.max_donated("b@x"));
}

TEST_CASE("fairness capacity, pairwise: a free-rider's cap shrinks, a "
          "collaborator keeps the whole cloud") {
  auto c = controller("pairwise");
  exchange_table t{{"free@x", {0, 50}}, {"fair@x", {120, 50}}};
  for (int i = 0; i < 3; ++i)
    c.update(t, 10);
  CHECK(c.max_donated("free@x") == 8);  // 10, then 9, 8
  CHECK(c.max_donated("fair@x") == 10); // above the band: at the top
  CHECK_FALSE(c.max_donated("new@x"));  // never seen: no cap
}

TEST_CASE("fairness capacity, global: one cap for everyone from the totals") {
  auto c = controller("global");
  exchange_table t{{"free@x", {0, 100}}, {"fair@x", {20, 20}}};
  for (int i = 0; i < 3; ++i)
    c.update(t, 10); // total fairness 20/120 < 0.8: shrinks
  CHECK(c.max_donated("free@x") == 8);
  CHECK(c.max_donated("fair@x") == 8);
  CHECK(c.max_donated("new@x") == 8);
}

TEST_CASE("fairness capacity, two-fold: pairwise once known, global before") {
  auto c = controller("two-fold");
  exchange_table t{
    {"free@x", {0, 100}}, {"fair@x", {200, 100}}, {"new@x", {5, 0}}};
  for (int i = 0; i < 3; ++i)
    c.update(t, 10);
  CHECK(c.max_donated("free@x") == 8);  // its own climber, shrinking
  CHECK(c.max_donated("fair@x") == 10); // its own climber, at the top
  // Nothing donated to new@x: its fairness is unknown, the global cap
  // (totals 205/200, in band) applies.
  CHECK(c.max_donated("new@x") == c.max_donated("never-seen@x"));
  CHECK(c.max_donated("new@x").value() >= 8);
}

TEST_CASE("fairness capacity: unknown mode is refused") {
  fairness_settings s;
  s.mode = "random";
  CHECK_THROWS_AS(fairness_capacity{s}, std::invalid_argument);
}
