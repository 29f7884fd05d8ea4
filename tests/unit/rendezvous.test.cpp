// The rendezvous and member registry actors on CAF's deterministic
// scheduler. A fake XMPP bridge routes IQs between actors by JID, so
// several rendezvous and managers can talk without Qt or a server (the
// integration tests do the same over a real Prosody).

#include "actors/rendezvous.hpp"
#include "actors/errors.hpp"
#include "actors/member_registry.hpp"
#include "federation/rendezvous_protocol.hpp"
#include "support/deterministic_fixture.hpp"
#include "support/metrics_probe.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

#include <map>
#include <memory>

using namespace fogbow;
using namespace std::chrono_literals;

namespace {

/// JID → handler, shared by every fake bridge of a test.
using network = std::map<std::string, iq_handler_actor>;

struct fake_bridge_state {
  static inline const char* name = "fake-bridge";
  std::string jid;
  std::shared_ptr<network> net;
  int sent = 0;
};

xmpp_bridge_actor::behavior_type
fake_bridge(xmpp_bridge_actor::stateful_pointer<fake_bridge_state> self,
            std::string jid, std::shared_ptr<network> net) {
  self->state.jid = std::move(jid);
  self->state.net = std::move(net);
  return {
    [self](atom::iq_request, const std::string& to,
           const xml::element& payload) -> caf::result<xml::element> {
      ++self->state.sent;
      auto it = self->state.net->find(to);
      if (it == self->state.net->end())
        return make_error(errc::unavailable, to + " is offline");
      return self->delegate(it->second, atom::iq_request_v, self->state.jid,
                            payload);
    },
    [self](atom::iq_request, const std::string& to, const xml::element& payload,
           std::int64_t) -> caf::result<xml::element> {
      ++self->state.sent;
      auto it = self->state.net->find(to);
      if (it == self->state.net->end())
        return make_error(errc::unavailable, to + " is offline");
      return self->delegate(it->second, atom::iq_request_v, self->state.jid,
                            payload);
    },
    [](atom::iq_set, const std::string&, const xml::element&,
       std::int64_t) -> caf::result<xml::element> {
      FAIL("the rendezvous protocol has no IQ set");
      return make_error(errc::invalid_argument, "unexpected IQ set");
    },
    [self](atom::iq_serve, const std::string&, iq_handler_actor h) {
      (*self->state.net)[self->state.jid] = h;
    },
    [](atom::xmpp_state) { return true; },
  };
}

struct fixture : test::deterministic_fixture {
  millis clock_ms = 1'000'000;
  std::shared_ptr<network> net = std::make_shared<network>();
  std::vector<caf::actor> spawned; ///< exited by the destructor

  ~fixture() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  template <class Handle>
  Handle track(Handle h) {
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  std::function<millis()> clock() {
    return [this] { return clock_ms; };
  }

  void tick(std::chrono::milliseconds d) {
    clock_ms += d.count();
    advance(d);
  }

  rendezvous_actor spawn_rendezvous(const std::string& jid,
                                    rendezvous_config cfg = {}) {
    cfg.clock = clock();
    auto bridge = track(sys.spawn(fake_bridge, jid, net));
    auto r = track(sys.spawn(rendezvous, bridge, cfg));
    (*net)[jid] = caf::actor_cast<iq_handler_actor>(r);
    run();
    return r;
  }

  /// One IQ from `from` to a handler; returns the reply or the error.
  std::pair<xml::element, caf::error> iq(const iq_handler_actor& to,
                                         const std::string& from,
                                         xml::element payload) {
    std::pair<xml::element, caf::error> out;
    self->send(to, atom::iq_request_v, from, std::move(payload));
    run();
    self->receive([&](xml::element& e) { out.first = std::move(e); },
                  [&](caf::error& e) { out.second = std::move(e); });
    return out;
  }

  std::vector<member_info> members_of(const auto& hdl) {
    std::vector<member_info> out;
    self->send(hdl, atom::members_v);
    run();
    self->receive([&](std::vector<member_info>& ms) { out = std::move(ms); });
    return out;
  }

  static std::vector<std::string> ids(const std::vector<member_info>& ms) {
    std::vector<std::string> out;
    for (auto& m : ms)
      out.push_back(m.id);
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "rendezvous: heartbeat is answered with the period "
                           "and listed by its bare JID") {
  rendezvous_config cfg;
  cfg.period_ms = 2000;
  auto r = spawn_rendezvous("rdv@x/r", cfg);
  auto h = caf::actor_cast<iq_handler_actor>(r);
  auto [reply, err] = iq(h, "m1@x/fogbow", rdv::encode_iamalive());
  REQUIRE_FALSE(err);
  CHECK(rdv::decode_iamalive_reply(reply) == 2000);
  auto [list, err2] = iq(h, "anyone@y/z", rdv::encode_whoisalive({}));
  REQUIRE_FALSE(err2);
  auto p = rdv::decode_whoisalive_reply(list);
  REQUIRE(p.items.size() == 1);
  CHECK(p.items[0].id == "m1@x");
  CHECK(p.count == 1);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "rendezvous: heartbeats, pages and members are "
                           "counted for /metrics") {
  using fogbow::test::series_value;
  auto heartbeats = series_value("fogbow_rendezvous_heartbeats_total");
  auto pages = series_value("fogbow_rendezvous_whoisalive_total");
  auto r = spawn_rendezvous("rdv@x/r", {});
  auto h = caf::actor_cast<iq_handler_actor>(r);
  REQUIRE_FALSE(iq(h, "m1@x/r", rdv::encode_iamalive()).second);
  REQUIRE_FALSE(iq(h, "m2@x/r", rdv::encode_iamalive()).second);
  REQUIRE_FALSE(iq(h, "m1@x/r", rdv::encode_iamalive()).second);
  REQUIRE_FALSE(iq(h, "m1@x/r", rdv::encode_whoisalive({})).second);
  CHECK(series_value("fogbow_rendezvous_heartbeats_total") == heartbeats + 3);
  CHECK(series_value("fogbow_rendezvous_whoisalive_total") == pages + 1);
  CHECK(series_value("fogbow_rendezvous_members") == 2);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "rendezvous: malformed requests get bad-request, "
                           "unknown after gets item-not-found") {
  auto r = spawn_rendezvous("rdv@x/r");
  auto h = caf::actor_cast<iq_handler_actor>(r);
  auto bad = xml::parse("<query xmlns='http://fogbowcloud.org/rendezvous/"
                        "whoisalive'><set><max>many</max></set></query>");
  CHECK(code_of(iq(h, "m@x/r", bad).second) == errc::invalid_argument);
  CHECK(code_of(iq(h, "m@x/r", xml::element{"query", "urn:other"}).second)
        == errc::invalid_argument);
  CHECK(code_of(iq(h, "m@x/r", rdv::encode_whoisalive({5, "ghost@x"})).second)
        == errc::not_found);
  // Still serving afterwards.
  CHECK_FALSE(iq(h, "m@x/r", rdv::encode_iamalive()).second);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "rendezvous: the whitelist refuses with "
                           "not-authorized and filters neighbours' members") {
  rendezvous_config cfg;
  cfg.whitelist = std::make_shared<const std::set<std::string>>(
    std::set<std::string>{"ok@x"});
  cfg.neighbors = {"other@x/r"};
  auto other = spawn_rendezvous("other@x/r");
  auto oh = caf::actor_cast<iq_handler_actor>(other);
  iq(oh, "ok@x/r", rdv::encode_iamalive());
  iq(oh, "evil@x/r", rdv::encode_iamalive());
  auto r = spawn_rendezvous("rdv@x/r", cfg);
  auto h = caf::actor_cast<iq_handler_actor>(r);
  CHECK(code_of(iq(h, "evil@x/r", rdv::encode_iamalive()).second)
        == errc::unauthorized);
  CHECK(ids(members_of(r)) == std::vector<std::string>{"ok@x"});
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "rendezvous: a silent member expires after "
                           "period x max_lost, a heartbeating one never") {
  rendezvous_config cfg; // 3000 ms × 3
  auto r = spawn_rendezvous("rdv@x/r", cfg);
  auto h = caf::actor_cast<iq_handler_actor>(r);
  iq(h, "quiet@x/r", rdv::encode_iamalive());
  for (int i = 0; i < 10; ++i) {
    iq(h, "busy@x/r", rdv::encode_iamalive());
    tick(1000ms);
  }
  // 10 s later: quiet (timeout 9 s) is gone, busy is there.
  CHECK(ids(members_of(r)) == std::vector<std::string>{"busy@x"});
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "rendezvous: sync pulls every page, transitively "
                           "(A pulls from B, B from C)") {
  rendezvous_config small;
  small.sync_page_max = 7; // many pages
  small.page_max = 7;
  auto c = spawn_rendezvous("c@x/r", small);
  auto ch = caf::actor_cast<iq_handler_actor>(c);
  for (int i = 0; i < 40; ++i)
    iq(ch, "m" + std::to_string(100 + i) + "@x/r", rdv::encode_iamalive());
  auto b_cfg = small;
  b_cfg.neighbors = {"c@x/r"};
  auto b = spawn_rendezvous("b@x/r", b_cfg);
  auto a_cfg = small;
  a_cfg.neighbors = {"b@x/r"};
  auto a = spawn_rendezvous("a@x/r", a_cfg);
  tick(3000ms); // one more sync round everywhere
  CHECK(members_of(b).size() == 40);
  CHECK(members_of(a).size() == 40);
  // A member heard only by A is not pushed to B (pull-only).
  iq(caf::actor_cast<iq_handler_actor>(a), "only-a@x/r",
     rdv::encode_iamalive());
  tick(3000ms);
  CHECK(members_of(a).size() == 41);
  CHECK(members_of(b).size() == 40);
  // Relayed entries keep their age: everyone drops C's members together.
  tick(7000ms);
  CHECK(members_of(a).size() == 0);
  CHECK(members_of(b).size() == 0);
  for (auto x : {a, b, c})
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(fixture, "member registry: managers discover each other, "
                           "follow the period, keep the list while the "
                           "rendezvous is away") {
  rendezvous_config cfg;
  cfg.period_ms = 1000;
  cfg.page_max = 2; // forces paging
  auto r = spawn_rendezvous("rdv@x/r", cfg);
  std::vector<member_registry_actor> registries;
  for (auto name : {"m1", "m2", "m3"}) {
    auto bridge =
      track(sys.spawn(fake_bridge, std::string{name} + "@x/fogbow", net));
    member_registry_config mc;
    mc.self_id = std::string{name} + "@x";
    mc.rendezvous_jid = "rdv@x/r";
    mc.period_ms = 5000; // the rendezvous asks for 1000
    mc.page_size = 100;
    mc.clock = clock();
    registries.push_back(track(sys.spawn(member_registry, bridge, mc)));
  }
  run();
  tick(1000ms);
  auto list = members_of(registries[0]);
  CHECK(ids(list) == std::vector<std::string>{"m1@x", "m2@x", "m3@x"});
  CHECK(list[0].is_self);
  CHECK(list[1].alive);
  CHECK(state_of<member_registry_state>(registries[0]).period_ms == 1000);
  // m3 stops. The rendezvous stops listing it after its own expiry; the
  // others then keep it listed but not alive for 3 periods more (a blip of
  // the XMPP server must not look like a death), and drop it after 6.
  caf::anon_send_exit(registries[2], caf::exit_reason::user_shutdown);
  run();
  auto m3_listed_alive = [&]() -> std::pair<bool, bool> {
    for (auto& m : members_of(registries[0]))
      if (m.id == "m3@x")
        return {true, m.alive};
    return {false, false};
  };
  int periods = 0;
  while (m3_listed_alive().second && periods < 30) {
    tick(1000ms);
    ++periods;
  }
  CHECK(m3_listed_alive() == std::pair{true, false});
  CHECK(periods >= 4); // not before the rendezvous's expiry + 3 periods
  CHECK(periods <= 8);
  while (m3_listed_alive().first && periods < 30) {
    tick(1000ms);
    ++periods;
  }
  CHECK(periods <= 11);
  CHECK(ids(members_of(registries[0]))
        == std::vector<std::string>{"m1@x", "m2@x"});
  // The rendezvous goes away: the list stays, liveness fades.
  net->erase("rdv@x/r");
  tick(1000ms);
  auto kept = members_of(registries[1]);
  CAPTURE(kept.size());
  CHECK(ids(kept) == std::vector<std::string>{"m2@x", "m1@x"});
  for (int i = 0; i < 4; ++i)
    tick(1000ms);
  auto stale = members_of(registries[1]);
  REQUIRE(stale.size() == 2);
  CHECK(stale[0].alive == true); // self
  CHECK(stale[1].alive == false);
  CHECK(state_of<member_registry_state>(registries[1]).failing);
  // It comes back: liveness recovers.
  (*net)["rdv@x/r"] = caf::actor_cast<iq_handler_actor>(r);
  tick(1000ms);
  tick(1000ms);
  CHECK(members_of(registries[1])[1].alive);
  for (auto& x : registries)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
}
