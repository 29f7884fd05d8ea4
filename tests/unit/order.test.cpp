#include "domain/order.hpp"

#include <doctest/doctest.h>

#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace fogbow;

namespace {

constexpr millis nov25 = 1795600800000; // 2026-11-25T10:00:00Z

} // namespace

TEST_CASE("order: parse_iso8601 reads UTC times") {
  CHECK(parse_iso8601("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_iso8601("2026-11-25T10:00:00Z") == nov25);
  CHECK(parse_iso8601("2026-11-25t10:00:00z") == nov25);
  CHECK(parse_iso8601("2026-11-25 10:00:00Z") == nov25);
  CHECK(parse_iso8601("2026-11-25T10:00Z") == nov25); // seconds optional
  CHECK(parse_iso8601("1969-12-31T23:59:59Z") == -1000);
  CHECK(parse_iso8601("1900-03-01T00:00:00Z") == -2203891200000);
}

TEST_CASE("order: parse_iso8601 reads fractional seconds") {
  CHECK(parse_iso8601("2026-11-25T10:00:00.5Z") == nov25 + 500);
  CHECK(parse_iso8601("2026-11-25T10:00:00.05Z") == nov25 + 50);
  CHECK(parse_iso8601("2026-11-25T10:00:00.123Z") == nov25 + 123);
  CHECK(parse_iso8601("2026-11-25T10:00:00.123999999Z") == nov25 + 123);
  CHECK(parse_iso8601("1969-12-31T23:59:59.250Z") == -750);
  CHECK_FALSE(parse_iso8601("2026-11-25T10:00:00.Z"));
}

TEST_CASE("order: parse_iso8601 applies zone offsets") {
  CHECK(parse_iso8601("2026-11-25T12:30:00+02:30") == nov25);
  CHECK(parse_iso8601("2026-11-25T12:30:00+0230") == nov25);
  CHECK(parse_iso8601("2026-11-25T12:00:00+02") == nov25);
  CHECK(parse_iso8601("2026-11-25T05:00:00-05:00") == nov25);
  CHECK(parse_iso8601("2026-11-25T10:00:00+00:00") == nov25);
  CHECK(parse_iso8601("2026-11-25T10:00:00-00:00") == nov25);
  CHECK(parse_iso8601("2026-11-26T00:30:00.5+14:30") == nov25 + 500);
  CHECK(parse_iso8601("2026-11-24T23:00:00-11:00") == nov25);
  for (auto bad : {"2026-11-25T10:00:00+24:00", "2026-11-25T10:00:00+05:60",
                   "2026-11-25T10:00:00+05:", "2026-11-25T10:00:00+5",
                   "2026-11-25T10:00:00+05:3", "2026-11-25T10:00:00+"})
    CHECK_MESSAGE(!parse_iso8601(bad), bad);
}

TEST_CASE("order: parse_iso8601 checks calendar dates and leap years") {
  CHECK(parse_iso8601("2024-02-29T23:59:59Z") == 1709251199000);
  CHECK(parse_iso8601("2000-02-29T00:00:00Z") == 951782400000); // 400 rule
  CHECK_FALSE(parse_iso8601("1900-02-29T00:00:00Z"));           // 100 rule
  CHECK_FALSE(parse_iso8601("2026-02-29T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2026-04-31T00:00:00Z"));
  CHECK(parse_iso8601("2026-12-31T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2026-13-01T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2026-00-10T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2026-11-00T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2026-11-25T24:00:00Z"));
  CHECK_FALSE(parse_iso8601("2026-11-25T10:60:00Z"));
  CHECK_FALSE(parse_iso8601("2026-11-25T10:00:61Z"));
}

TEST_CASE("order: parse_iso8601 refuses incomplete or malformed text") {
  for (auto bad : {
         "",
         "garbage",
         "2026-11-25",              // date alone
         "2026-11-25T10:00:00",     // no zone
         "2026-11-25T10:00:00.123", // no zone
         "2026-11-25T10Z",
         "2026-11-25T10:00:00Z ",
         " 2026-11-25T10:00:00Z",
         "2026-11-25T10:00:00ZZ",
         "2026-1-25T10:00:00Z",
         "26-11-25T10:00:00Z",
         "2026/11/25T10:00:00Z",
         "2026-11-25X10:00:00Z",
         "2026-11-25T1a:00:00Z",
       })
    CHECK_MESSAGE(!parse_iso8601(bad), bad);
}

TEST_CASE("order: format_iso8601 writes UTC with milliseconds") {
  CHECK(format_iso8601(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(nov25 + 7) == "2026-11-25T10:00:00.007Z");
  CHECK(format_iso8601(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_iso8601(-1000) == "1969-12-31T23:59:59.000Z");
  CHECK(format_iso8601(1709251199000) == "2024-02-29T23:59:59.000Z");
}

TEST_CASE("order: format_iso8601 and parse_iso8601 round trip") {
  for (millis t : {millis{0}, millis{-1}, millis{-86400000}, nov25,
                   millis{951782400000}, millis{-2203891200001},
                   millis{253402300799999}}) // 9999-12-31T23:59:59.999Z
    CHECK(parse_iso8601(format_iso8601(t)) == t);
  std::mt19937_64 rng{42};
  std::uniform_int_distribution<millis> any{-2208988800000, // 1900
                                            4102444800000}; // 2100
  for (int i = 0; i < 1000; ++i) {
    millis t = any(rng);
    CAPTURE(t);
    CHECK(parse_iso8601(format_iso8601(t)) == t);
  }
}

TEST_CASE("order: enum names round trip") {
  for (auto s : {order_state::open, order_state::spawning, order_state::pending,
                 order_state::fulfilled, order_state::failed,
                 order_state::closed, order_state::deleted})
    CHECK(parse_order_state(to_string(s)) == s);
  for (auto t : {order_type::one_time, order_type::persistent})
    CHECK(parse_order_type(to_string(t)) == t);
  for (auto k : {resource_kind::compute, resource_kind::volume,
                 resource_kind::network, resource_kind::attachment})
    CHECK(parse_resource_kind(to_string(k)) == k);
  for (auto s :
       {instance_state::spawning, instance_state::running,
        instance_state::failed, instance_state::lost, instance_state::unknown})
    CHECK(parse_instance_state(to_string(s)) == s);

  CHECK(to_string(order_state::fulfilled) == "fulfilled");
  CHECK(to_string(order_type::one_time) == "one-time");
  CHECK(to_string(resource_kind::network) == "network");
  CHECK(to_string(instance_state::lost) == "lost");
  CHECK(to_string(instance_state::unknown) == "unknown");
}

TEST_CASE("order: unknown enum names are refused") {
  for (auto name : {"", "OPEN", "Open", "opened", "unknown", " open"})
    CHECK_MESSAGE(!parse_order_state(name), name);
  for (auto name : {"", "one_time", "onetime", "ONE-TIME", "persistant"})
    CHECK_MESSAGE(!parse_order_type(name), name);
  for (auto name : {"", "Compute", "storage", "computes"})
    CHECK_MESSAGE(!parse_resource_kind(name), name);
  for (auto name : {"", "active", "RUNNING", "deleted", "Unknown"})
    CHECK_MESSAGE(!parse_instance_state(name), name);
}

TEST_CASE("order: only failed and closed are terminal") {
  CHECK(is_terminal(order_state::failed));
  CHECK(is_terminal(order_state::closed));
  for (auto s : {order_state::open, order_state::spawning, order_state::pending,
                 order_state::fulfilled, order_state::deleted})
    CHECK_FALSE(is_terminal(s));
}

TEST_CASE("order: validity window") {
  order o;
  CHECK(is_valid_at(o, 0));
  CHECK(is_valid_at(o, nov25));
  CHECK_FALSE(is_expired_at(o, nov25));

  o.valid_from = nov25;
  CHECK_FALSE(is_valid_at(o, nov25 - 1));
  CHECK_FALSE(is_expired_at(o, nov25 - 1)); // not yet is not over
  CHECK(is_valid_at(o, nov25));
  CHECK(is_valid_at(o, nov25 + 1000000));

  o.valid_until = nov25 + 1000;
  CHECK(is_valid_at(o, nov25 + 999));
  CHECK_FALSE(is_expired_at(o, nov25 + 999));
  CHECK_FALSE(is_valid_at(o, nov25 + 1000));
  CHECK(is_expired_at(o, nov25 + 1000));
  CHECK(is_expired_at(o, nov25 + 5000));

  o.valid_from.reset();
  CHECK(is_valid_at(o, 0));
  CHECK(is_expired_at(o, nov25 + 1000));
}

TEST_CASE("order: global instance ids") {
  CHECK(global_instance_id("vm-1", "site-a") == "vm-1@site-a");
  auto parts = split_instance_id("vm-1@site-a");
  REQUIRE(parts);
  CHECK(parts->first == "vm-1");
  CHECK(parts->second == "site-a");

  // Member ids are bare JIDs and hold an '@' themselves; cloud ids never
  // do, so the first '@' separates the two.
  auto jid = split_instance_id(global_instance_id("vm-1", "b@site-a"));
  REQUIRE(jid);
  CHECK(jid->first == "vm-1");
  CHECK(jid->second == "b@site-a");

  for (auto bad : {"", "vm-1", "@site-a", "vm-1@", "@"})
    CHECK_MESSAGE(!split_instance_id(bad), bad);
}

TEST_CASE("order: local ids of a member's instances, member ids with '@'") {
  auto jid = "site-a@xmpp.example.org";
  CHECK(local_instance_id(global_instance_id("vm-1", jid), jid) == "vm-1");
  CHECK(local_instance_id("a@b@site-a", "site-a") == "a@b");
  CHECK(local_instance_id("vm-1@site-a", "site-a") == "vm-1");
  for (auto [global, member] : std::vector<std::pair<std::string, std::string>>{
         {"vm-1@site-b@xmpp.example.org", jid}, // another member
         {"vm-1@xmpp.example.org", jid},        // only the domain matches
         {"@site-a@xmpp.example.org", jid},     // empty local id
         {"vm-1site-a@xmpp.example.org", jid},  // no separator
         {"vm-1@site-a", ""},
         {"", "site-a"}}) {
    CAPTURE(global);
    CHECK_FALSE(local_instance_id(global, member));
  }
}

TEST_CASE("order: make_uuid gives distinct version-4 UUIDs") {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    auto id = make_uuid();
    CAPTURE(id);
    REQUIRE(id.size() == 36);
    for (size_t j = 0; j < id.size(); ++j) {
      if (j == 8 || j == 13 || j == 18 || j == 23)
        CHECK(id[j] == '-');
      else
        CHECK(
          ((id[j] >= '0' && id[j] <= '9') || (id[j] >= 'a' && id[j] <= 'f')));
    }
    CHECK(id[14] == '4');
    CHECK(std::string_view{"89ab"}.find(id[19]) != std::string_view::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 2000);
}
