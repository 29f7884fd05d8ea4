// Member validators: accept-any, and the whitelist in both directions.

#include "federation/member_policies.hpp"

#include <doctest/doctest.h>

using namespace fogbow::fed;

TEST_CASE("accept-any validator: every member, both ways") {
  auto v = make_accept_any_validator();
  CHECK(v->can_donate_to("a@x"));
  CHECK(v->can_receive_from("a@x"));
  CHECK(v->can_donate_to(""));
}

TEST_CASE("whitelist validator: each direction has its own list") {
  auto v =
    make_whitelist_validator({"friend@x", "both@x"}, {"provider@x", "both@x"});
  CHECK(v->can_donate_to("friend@x"));
  CHECK_FALSE(v->can_receive_from("friend@x"));
  CHECK(v->can_receive_from("provider@x"));
  CHECK_FALSE(v->can_donate_to("provider@x"));
  CHECK(v->can_donate_to("both@x"));
  CHECK(v->can_receive_from("both@x"));
  CHECK_FALSE(v->can_donate_to("stranger@x"));
  CHECK_FALSE(v->can_receive_from("stranger@x"));
}

TEST_CASE("whitelist validator: exact bare JIDs only") {
  auto v = make_whitelist_validator({"friend@x"}, {});
  CHECK_FALSE(v->can_donate_to("friend@x/fogbow"));
  CHECK_FALSE(v->can_donate_to("Friend@x"));
  CHECK_FALSE(v->can_donate_to("friend"));
  CHECK_FALSE(v->can_receive_from("friend@x")); // empty list: nobody
}
