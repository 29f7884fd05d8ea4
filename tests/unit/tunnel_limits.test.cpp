// src/tunnel/preauth_table.*: admission of unauthenticated SSH connections.

#include "tunnel/preauth_table.hpp"

#include <doctest/doctest.h>

#include <string>

using fogbow::tunnel::preauth_table;

TEST_CASE("preauth_table: admits up to the per-address limit") {
  preauth_table t{100, 3};
  for (int i = 0; i < 3; ++i)
    CHECK(t.admit("10.0.0.1").admitted);
  auto d = t.admit("10.0.0.1");
  CHECK_FALSE(d.admitted);
  CHECK_FALSE(d.evict);
  CHECK(t.count("10.0.0.1") == 3);
  CHECK(t.admit("10.0.0.2").admitted); // other addresses are not affected
  CHECK(t.total() == 4);
}

TEST_CASE("preauth_table: a release frees a slot of its address") {
  preauth_table t{100, 2};
  CHECK(t.admit("a").admitted);
  CHECK(t.admit("a").admitted);
  CHECK_FALSE(t.admit("a").admitted);
  t.release("a");
  CHECK(t.count("a") == 1);
  CHECK(t.admit("a").admitted);
  t.release("a");
  t.release("a");
  CHECK(t.total() == 0);
  t.release("a"); // unknown: no underflow
  CHECK(t.total() == 0);
  CHECK(t.count("a") == 0);
}

TEST_CASE("preauth_table: a full table evicts from the busiest address") {
  preauth_table t{4, 10};
  for (int i = 0; i < 4; ++i)
    CHECK(t.admit("flood").admitted);
  auto d = t.admit("newcomer");
  CHECK(d.admitted);
  REQUIRE(d.evict);
  CHECK(*d.evict == "flood");
  CHECK(t.count("flood") == 3);
  CHECK(t.count("newcomer") == 1);
  CHECK(t.total() == 4);
}

TEST_CASE("preauth_table: no eviction that would not make things fairer") {
  preauth_table t{4, 10};
  for (auto a : {"a", "b", "c", "d"})
    CHECK(t.admit(a).admitted);
  // Everybody holds one: a fifth address would only replace one of them.
  auto d = t.admit("e");
  CHECK_FALSE(d.admitted);
  CHECK(t.total() == 4);
  // The busiest address itself cannot push others out either.
  preauth_table u{3, 10};
  CHECK(u.admit("x").admitted);
  CHECK(u.admit("x").admitted);
  CHECK(u.admit("y").admitted);
  CHECK_FALSE(u.admit("x").admitted);
  CHECK(u.count("y") == 1);
}

TEST_CASE("preauth_table: limits below one count as one") {
  preauth_table t{0, 0};
  CHECK(t.global_limit() == 1);
  CHECK(t.per_address_limit() == 1);
  CHECK(t.admit("a").admitted);
  CHECK_FALSE(t.admit("a").admitted);
}

// src/tunnel/open_files.*: connection limits within the descriptor table.

#include "tunnel/open_files.hpp"

using fogbow::tunnel::fit_to_open_files;

TEST_CASE("fit_to_open_files: generous limit leaves the configuration") {
  auto b = fit_to_open_files(1 << 20, 1000, 10000);
  CHECK(b.unauthenticated == 1000);
  CHECK(b.sessions == 10000);
}

TEST_CASE("fit_to_open_files: a small limit lowers both, within the table") {
  auto b = fit_to_open_files(1024, 1000, 10000);
  CHECK(b.unauthenticated == (1024 - 64) / 4);
  CHECK(b.sessions == (1024 - 64 - 240) / 4);
  // Everything admitted at once still fits with the reserve.
  CHECK(b.unauthenticated + 4 * b.sessions + 64 <= 1024);
  auto tiny = fit_to_open_files(10, 1000, 10000);
  CHECK(tiny.unauthenticated == 1);
  CHECK(tiny.sessions == 1);
}
