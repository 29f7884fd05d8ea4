// The federation server on CAF's deterministic scheduler, in front of an
// order scheduler with an in-memory store and a scriptable cloud driver:
// who may ask, what each IQ does, and what bad input gets.

#include "actors/federation_server.hpp"
#include "federation/manager_protocol.hpp"
#include "support/scheduler_fixture.hpp"

#include <doctest/doctest.h>

#include <optional>

using namespace fogbow;
using namespace fogbow::test;
using namespace std::chrono_literals;

namespace {

struct server_fixture : scheduler_fixture {
  federation_server_actor server;

  void start_server(std::shared_ptr<const fed::member_validator> validator,
                    std::shared_ptr<const fed::capacity_controller> capacity) {
    start();
    federation_server_config cfg;
    cfg.self_id = member_id;
    cfg.validator = std::move(validator);
    cfg.capacity = std::move(capacity);
    server = sys.spawn(federation_server, aut, tunnel_client_actor{}, cfg);
    std::vector<member_info> members{{member_id, true, fake_now, true},
                                     {"site-b@x", true, fake_now, false},
                                     {"site-c@x", true, fake_now, false}};
    self->send(server, atom::members_changed_v, members);
    run();
  }

  ~server_fixture() {
    if (server)
      caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
    run();
  }

  caf::expected<xml::element> ask(const std::string& from,
                                  const xml::element& query) {
    std::optional<caf::expected<xml::element>> out;
    self->send(server, atom::iq_request_v, from, query);
    run();
    self->receive([&](xml::element& x) { out = std::move(x); },
                  [&](caf::error& e) { out = std::move(e); });
    return std::move(*out);
  }

  static xml::element offer(const std::string& order_id) {
    fed::order_request r;
    r.order_id = order_id;
    r.user = {"u1", "Ana"};
    r.kind = resource_kind::compute;
    r.requirements = "Glue2vCPU >= 1";
    return fed::encode_order(r);
  }
};

} // namespace

TEST_CASE_FIXTURE(server_fixture,
                  "federation server: a member's order is served once, "
                  "whatever the number of offers") {
  start_server(fed::make_accept_any_validator(),
               fed::make_unlimited_capacity());
  auto first = ask("site-b@x/fogbow", offer("o1"));
  REQUIRE(first);
  auto id = fed::decode_order_result(*first);
  auto again = ask("site-b@x/fogbow", offer("o1"));
  REQUIRE(again);
  CHECK(fed::decode_order_result(*again) == id);
  CHECK(driver_state().creates == 1);
  // Another member's order of the same id is another order.
  auto other = ask("site-c@x/fogbow", offer("o1"));
  REQUIRE(other);
  CHECK(fed::decode_order_result(*other) != id);
  CHECK(sched_state().orders.count("o1@site-b@x") == 1);
  CHECK(sched_state().orders.count("o1@site-c@x") == 1);
}

TEST_CASE_FIXTURE(server_fixture,
                  "federation server: non-members are refused, and members "
                  "the validator does not serve get a refusal") {
  start_server(fed::make_whitelist_validator({"site-b@x"}, {}),
               fed::make_unlimited_capacity());
  auto stranger = ask("mallory@x/fogbow", offer("o1"));
  REQUIRE_FALSE(stranger);
  CHECK(code_of(stranger.error()) == errc::unauthorized);
  auto self_spoof = ask("site-a/fogbow", offer("o1"));
  REQUIRE_FALSE(self_spoof);
  auto refused = ask("site-c@x/fogbow", offer("o2"));
  REQUIRE_FALSE(refused);
  CHECK(code_of(refused.error()) == errc::not_found);
  CHECK(driver_state().creates == 0);
  CHECK(ask("site-b@x/fogbow", offer("o3")));
}

TEST_CASE_FIXTURE(server_fixture,
                  "federation server: the capacity controller caps what one "
                  "member holds here") {
  start_server(fed::make_accept_any_validator(),
               fed::make_fixed_capacity({{"site-b@x", 2}}, 0));
  CHECK(ask("site-b@x/r", offer("o1")));
  CHECK(ask("site-b@x/r", offer("o2")));
  auto third = ask("site-b@x/r", offer("o3"));
  REQUIRE_FALSE(third);
  CHECK(code_of(third.error()) == errc::not_found);
  auto unlisted = ask("site-c@x/r", offer("o4"));
  REQUIRE_FALSE(unlisted);
  CHECK(driver_state().creates == 2);
}

TEST_CASE_FIXTURE(server_fixture,
                  "federation server: getinstance shows a member only what "
                  "it holds here") {
  start_server(fed::make_accept_any_validator(),
               fed::make_unlimited_capacity());
  auto b = fed::decode_order_result(*ask("site-b@x/r", offer("o1")));
  auto c = fed::decode_order_result(*ask("site-c@x/r", offer("o2")));
  auto mine = ask("site-b@x/r", fed::encode_getinstance({b, c}));
  REQUIRE(mine);
  auto found = fed::decode_instances(*mine);
  REQUIRE(found.size() == 1);
  CHECK(found[0].id == b);
  CHECK(found[0].state == instance_state::running);
  CHECK(found[0].order_id.empty());
  auto theirs = ask("site-b@x/r", fed::encode_getinstance({c}));
  REQUIRE_FALSE(theirs);
  CHECK(code_of(theirs.error()) == errc::not_found);
}

TEST_CASE_FIXTURE(server_fixture,
                  "federation server: removeorder and removeinstance remove "
                  "the member's instance, and only its own") {
  start_server(fed::make_accept_any_validator(),
               fed::make_unlimited_capacity());
  auto b = fed::decode_order_result(*ask("site-b@x/r", offer("o1")));
  auto c = fed::decode_order_result(*ask("site-c@x/r", offer("o2")));
  REQUIRE(driver_state().instances.size() == 2);
  auto wrong = ask("site-b@x/r", fed::encode_removeinstance(c));
  REQUIRE_FALSE(wrong);
  CHECK(code_of(wrong.error()) == errc::not_found);
  CHECK(ask("site-c@x/r", fed::encode_removeinstance(c)));
  run();
  CHECK(ask("site-b@x/r", fed::encode_removeorder("o1")));
  run();
  CHECK(driver_state().instances.empty());
  CHECK(sched_state().orders.empty());
  // Withdrawing what is gone already is fine.
  CHECK(ask("site-b@x/r", fed::encode_removeorder("o1")));
  (void)b;
}

TEST_CASE_FIXTURE(server_fixture,
                  "federation server: malformed or unknown payloads get "
                  "errors and change nothing") {
  start_server(fed::make_accept_any_validator(),
               fed::make_unlimited_capacity());
  auto bad = [&](const char* text) {
    auto r = ask("site-b@x/r", xml::parse(text));
    REQUIRE_FALSE(r);
    return code_of(r.error());
  };
  CHECK(bad(R"(<query xmlns="http://fogbowcloud.org/manager/order"/>)")
        == errc::invalid_argument);
  CHECK(bad(R"(<query xmlns="http://fogbowcloud.org/manager/order">)"
            R"(<order><id>../../etc</id></order></query>)")
        == errc::invalid_argument);
  CHECK(bad(R"(<query xmlns="http://fogbowcloud.org/manager/getinstance"/>)")
        == errc::invalid_argument);
  CHECK(bad(R"(<query xmlns="http://fogbowcloud.org/manager/nosuchthing"/>)")
        == errc::unsupported);
  CHECK(driver_state().creates == 0);
  CHECK(sched_state().orders.empty());
}

TEST_CASE_FIXTURE(server_fixture,
                  "federation server: the quota a member's user sees here") {
  start_server(fed::make_accept_any_validator(),
               fed::make_unlimited_capacity());
  CHECK(ask("site-b@x/r", offer("o1")));
  auto q = ask("site-b@x/r", fed::encode_quota_request({"u1", "Ana"}));
  REQUIRE(q);
  auto report = fed::decode_quota(*q);
  CHECK(report.user_instances == 1);
  CHECK(report.cloud.instances_total == 100);
  auto other = fed::decode_quota(
    *ask("site-c@x/r", fed::encode_quota_request({"u1", "Ana"})));
  CHECK(other.user_instances == 0);
}
