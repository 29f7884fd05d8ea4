// src/tunnel/preauth_table.*: admission of unauthenticated SSH connections.

#include "tunnel/preauth_table.hpp"

#include <doctest/doctest.h>

#include <string>

using fogbow::tunnel::preauth_table;

using admission = preauth_table::admission;

TEST_CASE("preauth_table: admits up to the per-address limit") {
  preauth_table t{100, 3};
  for (int i = 0; i < 3; ++i)
    CHECK(t.admit("10.0.0.1") == admission::admitted);
  CHECK(t.admit("10.0.0.1") == admission::refused);
  CHECK(t.count("10.0.0.1") == 3);
  // other addresses are not affected
  CHECK(t.admit("10.0.0.2") == admission::admitted);
  CHECK(t.total() == 4);
  CHECK(t.busiest_count() == 3);
}

TEST_CASE("preauth_table: a release frees a slot of its address") {
  preauth_table t{100, 2};
  CHECK(t.admit("a") == admission::admitted);
  CHECK(t.admit("a") == admission::admitted);
  CHECK(t.admit("a") == admission::refused);
  t.release("a");
  CHECK(t.count("a") == 1);
  CHECK(t.admit("a") == admission::admitted);
  t.release("a");
  t.release("a");
  CHECK(t.total() == 0);
  t.release("a"); // unknown: no underflow
  CHECK(t.total() == 0);
  CHECK(t.count("a") == 0);
  CHECK(t.busiest_count() == 0);
}

TEST_CASE("preauth_table: a full table makes room at a busier address") {
  preauth_table t{4, 10};
  for (int i = 0; i < 3; ++i)
    CHECK(t.admit("flood") == admission::admitted);
  CHECK(t.admit("other") == admission::admitted);
  // Full: nothing is counted until room is made.
  CHECK(t.admit("newcomer") == admission::needs_room);
  CHECK(t.total() == 4);
  CHECK(t.count("newcomer") == 0);
  CHECK(t.busiest_count() == 3);
  t.release("flood");
  CHECK(t.admit("newcomer") == admission::admitted);
  CHECK(t.count("flood") == 2);
  CHECK(t.total() == 4);
  // Addresses holding one each still make room for an address holding none.
  preauth_table u{2, 10};
  CHECK(u.admit("a") == admission::admitted);
  CHECK(u.admit("b") == admission::admitted);
  CHECK(u.admit("c") == admission::needs_room);
}

TEST_CASE("preauth_table: no room made at an address no busier") {
  preauth_table t{3, 10};
  CHECK(t.admit("x") == admission::admitted);
  CHECK(t.admit("x") == admission::admitted);
  CHECK(t.admit("y") == admission::admitted);
  // The busiest address cannot push others out, nor itself.
  CHECK(t.admit("x") == admission::refused);
  // One holding as many as the busiest neither.
  preauth_table u{4, 10};
  for (auto a : {"a", "a", "b", "b"})
    CHECK(u.admit(a) == admission::admitted);
  CHECK(u.admit("a") == admission::refused);
  CHECK(u.admit("c") == admission::needs_room);
  CHECK(u.count("a") == 2);
}

TEST_CASE("preauth_table: limits below one count as one") {
  preauth_table t{0, 0};
  CHECK(t.global_limit() == 1);
  CHECK(t.per_address_limit() == 1);
  CHECK(t.admit("a") == admission::admitted);
  CHECK(t.admit("a") == admission::refused);
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
