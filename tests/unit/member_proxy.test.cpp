// The member proxy on CAF's deterministic scheduler, with a scripted XMPP
// bridge: what it sends for each call, and what it makes of each answer.

#include "actors/member_proxy.hpp"
#include "actors/errors.hpp"
#include "federation/manager_protocol.hpp"
#include "support/deterministic_fixture.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

#include <functional>
#include <optional>
#include <set>
#include <string>

using namespace fogbow;
using namespace std::chrono_literals;

namespace {

struct sent_iq {
  std::string to;
  xml::element payload;
  std::int64_t timeout_ms = 0;
  bool set = false; ///< sent as IQ set (else get)
};

struct fake_bridge_state {
  static inline const char* name = "fake-bridge";
  std::vector<sent_iq> sent;
  /// The answer to the next IQ: a payload or an error.
  std::function<caf::expected<xml::element>(const xml::element&)> answer;
};

xmpp_bridge_actor::behavior_type
fake_bridge(xmpp_bridge_actor::stateful_pointer<fake_bridge_state> self) {
  auto handle = [self](const std::string& to, const xml::element& payload,
                       std::int64_t timeout,
                       bool set = false) -> caf::result<xml::element> {
    self->state.sent.push_back({to, payload, timeout, set});
    auto x = self->state.answer(payload);
    if (x)
      return std::move(*x);
    return std::move(x.error());
  };
  return {
    [handle](atom::iq_request, const std::string& to,
             const xml::element& payload) { return handle(to, payload, 0); },
    [handle](atom::iq_request, const std::string& to,
             const xml::element& payload,
             std::int64_t timeout) { return handle(to, payload, timeout); },
    [handle](atom::iq_set, const std::string& to, const xml::element& payload,
             std::int64_t timeout) {
      return handle(to, payload, timeout, true);
    },
    [](atom::iq_serve, const std::string&, iq_handler_actor) {},
    [](atom::xmpp_state) { return true; },
  };
}

struct proxy_fixture : test::deterministic_fixture {
  xmpp_bridge_actor bridge = sys.spawn(fake_bridge);
  member_proxy_actor aut;

  proxy_fixture() {
    member_proxy_config cfg;
    cfg.self_id = "site-a@x";
    cfg.resource = "fogbow";
    cfg.forward_timeout = 7s;
    aut = sys.spawn(member_proxy, bridge, cfg);
    run();
  }

  ~proxy_fixture() {
    caf::anon_send_exit(aut, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bridge, caf::exit_reason::user_shutdown);
    run();
  }

  fake_bridge_state& bridge_state() {
    return state_of<fake_bridge_state>(bridge);
  }

  template <class T, class... Ts>
  caf::expected<T> call(Ts... xs) {
    std::optional<caf::expected<T>> out;
    self->send(aut, xs...);
    run();
    self->receive([&](T& x) { out = std::move(x); },
                  [&](caf::error& e) { out = std::move(e); });
    return std::move(*out);
  }
};

order sample_order() {
  order o;
  o.id = "ord-1";
  o.user_id = "u1";
  o.user_name = "Ana";
  o.kind = resource_kind::compute;
  o.vcpu = 2;
  o.memory_mb = 1024;
  o.requirements = R"(Glue2Disk >= 1)";
  o.image = "debian-12";
  o.user_data = "#!/bin/sh\necho hi\n";
  return o;
}

} // namespace

TEST_CASE_FIXTURE(proxy_fixture,
                  "member proxy: an offer is one order IQ to the member's "
                  "manager, answered with the provider's instance id") {
  bridge_state().answer = [](const xml::element&) {
    return caf::expected<xml::element>{fed::encode_order_result("vm-7")};
  };
  auto r =
    call<std::string>(atom::create_v, std::string{"site-b@x"}, sample_order());
  REQUIRE(r);
  CHECK(*r == "vm-7");
  REQUIRE(bridge_state().sent.size() == 1);
  auto& iq = bridge_state().sent[0];
  CHECK(iq.to == "site-b@x/fogbow");
  CHECK(iq.timeout_ms == 7000);
  CHECK(iq.set); // an order changes the provider: IQ set, as in Java
  auto sent = fed::decode_order(iq.payload);
  CHECK(sent.order_id == "ord-1");
  CHECK(sent.user.id == "u1");
  CHECK(sent.image == "debian-12");
  CHECK(sent.user_data == "#!/bin/sh\necho hi\n");
  // The sizes travel inside the requirements.
  CHECK(sent.requirements.find("Glue2vCPU >= 2") != std::string::npos);
  CHECK(sent.requirements.find("Glue2RAM >= 1024") != std::string::npos);
  CHECK(sent.requirements.find("Glue2Disk >= 1") != std::string::npos);
}

TEST_CASE_FIXTURE(proxy_fixture,
                  "member proxy: item-not-found to an offer is a refusal") {
  bridge_state().answer = [](const xml::element&) {
    return caf::expected<xml::element>{
      make_error(errc::not_found, "item-not-found: no room")};
  };
  auto r =
    call<std::string>(atom::create_v, std::string{"site-b@x"}, sample_order());
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::no_capacity);
}

TEST_CASE_FIXTURE(proxy_fixture,
                  "member proxy: a malformed answer is the member's fault, "
                  "not a crash") {
  bridge_state().answer = [](const xml::element&) {
    return caf::expected<xml::element>{
      xml::parse(R"(<query xmlns="http://fogbowcloud.org/manager/order">)"
                 R"(<instance/></query>)")};
  };
  auto r =
    call<std::string>(atom::create_v, std::string{"site-b@x"}, sample_order());
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::cloud_error);
  CHECK(message_of(r.error()).find("site-b@x") != std::string::npos);
}

TEST_CASE_FIXTURE(proxy_fixture,
                  "member proxy: getinstance asks for all ids in one IQ; a "
                  "single missing one is an empty answer") {
  bridge_state().answer = [](const xml::element& q) {
    auto ids = fed::decode_getinstance(q);
    if (ids.size() == 1)
      return caf::expected<xml::element>{
        make_error(errc::not_found, "item-not-found")};
    instance a;
    a.id = ids[0];
    a.state = instance_state::running;
    return caf::expected<xml::element>{fed::encode_instances({a})};
  };
  auto two = call<std::vector<instance>>(atom::get_v, std::string{"site-b@x"},
                                         std::vector<std::string>{"a", "b"});
  REQUIRE(two);
  REQUIRE(two->size() == 1);
  CHECK((*two)[0].id == "a");
  CHECK(bridge_state().sent.size() == 1);
  CHECK_FALSE(bridge_state().sent[0].set); // a question: IQ get
  auto one = call<std::vector<instance>>(atom::get_v, std::string{"site-b@x"},
                                         std::vector<std::string>{"gone"});
  REQUIRE(one);
  CHECK(one->empty());
}

TEST_CASE_FIXTURE(proxy_fixture,
                  "member proxy: many ids go in chunks small enough for the "
                  "XMPP server's stanza limit, answers merged") {
  bridge_state().answer = [](const xml::element& q) {
    std::vector<instance> found;
    for (auto& id : fed::decode_getinstance(q))
      if (id != "vm-7") { // one of them is gone
        instance x;
        x.id = id;
        x.state = instance_state::running;
        found.push_back(x);
      }
    return caf::expected<xml::element>{fed::encode_instances(found)};
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i)
    ids.push_back("vm-" + std::to_string(i));
  auto r =
    call<std::vector<instance>>(atom::get_v, std::string{"site-b@x"}, ids);
  REQUIRE(r);
  CHECK(r->size() == 59);
  auto& sent = bridge_state().sent;
  REQUIRE(sent.size() == 3); // 25 + 25 + 10
  std::set<std::string> asked;
  for (auto& iq : sent) {
    auto chunk = fed::decode_getinstance(iq.payload);
    CHECK(chunk.size() <= fed::getinstance_chunk);
    asked.insert(chunk.begin(), chunk.end());
  }
  CHECK(asked.size() == 60);
  // One failing chunk fails the question: a partial list would make the
  // missing instances look gone.
  bridge_state().answer = [](const xml::element& q) {
    if (fed::decode_getinstance(q).front() == "vm-25")
      return caf::expected<xml::element>{make_error(errc::timeout, "slow")};
    return caf::expected<xml::element>{fed::encode_instances({})};
  };
  auto failed =
    call<std::vector<instance>>(atom::get_v, std::string{"site-b@x"}, ids);
  REQUIRE_FALSE(failed);
  CHECK(code_of(failed.error()) == errc::timeout);
}

TEST_CASE_FIXTURE(proxy_fixture,
                  "member proxy: instancebeingused is yes on an empty "
                  "answer, no on item-not-found, an error otherwise") {
  bridge_state().answer = [](const xml::element&) {
    return caf::expected<xml::element>{
      xml::element{"query", std::string{fed::ns_instancebeingused}}};
  };
  auto probe = [&] {
    return call<bool>(atom::probe_v, std::string{"site-c@x"}, std::string{"o1"},
                      std::string{"vm-1@site-a@x"});
  };
  auto yes = probe();
  REQUIRE(yes);
  CHECK(*yes);
  auto sent = fed::decode_instancebeingused(bridge_state().sent[0].payload);
  CHECK(sent.order_id == "o1");
  CHECK(sent.global_instance_id == "vm-1@site-a@x");
  bridge_state().answer = [](const xml::element&) {
    return caf::expected<xml::element>{make_error(errc::not_found, "no")};
  };
  auto no = probe();
  REQUIRE(no);
  CHECK_FALSE(*no);
  bridge_state().answer = [](const xml::element&) {
    return caf::expected<xml::element>{make_error(errc::timeout, "slow")};
  };
  auto err = probe();
  REQUIRE_FALSE(err);
  CHECK(code_of(err.error()) == errc::timeout);
}

TEST_CASE_FIXTURE(proxy_fixture,
                  "member proxy: removeorder and quota round-trip") {
  bridge_state().answer = [](const xml::element& q) {
    if (q.ns == fed::ns_getremoteuserquota) {
      quota_report r;
      r.member_id = "site-b@x";
      r.cloud.vcpu_total = 8;
      r.cloud.vcpu_used = 3;
      r.user_vcpu = 1;
      return caf::expected<xml::element>{fed::encode_quota(r)};
    }
    return caf::expected<xml::element>{xml::element{"query", q.ns}};
  };
  auto ok = call<atom::ok>(atom::erase_v, std::string{"site-b@x"},
                           std::string{"ord-9"});
  CHECK(ok);
  CHECK(fed::decode_removeorder(bridge_state().sent[0].payload) == "ord-9");
  CHECK(bridge_state().sent[0].set);
  auto q = call<quota_report>(atom::quota_v, std::string{"site-b@x"},
                              std::string{"u1"}, std::string{"Ana"});
  REQUIRE(q);
  CHECK(q->cloud.vcpu_total == 8);
  CHECK(q->cloud.vcpu_used == 3);
  CHECK(q->user_vcpu == 1);
  CHECK(fed::decode_quota_request(bridge_state().sent[1].payload).id == "u1");
  CHECK_FALSE(bridge_state().sent[1].set);
}
