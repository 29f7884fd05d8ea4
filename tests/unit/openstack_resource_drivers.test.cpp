// The OpenStack volume/attachment and network driver actors against the
// REAL test OpenStack (scripts/openstack-up.sh): real actor system, real
// threads, real Cinder/Nova/Neutron, the demo account. (The first cases
// need no cloud: what the drivers refuse at once, on the deterministic
// scheduler.) Every case is
// skipped unless FOGBOW_OPENSTACK_DIR is set (`. DIR/env.sh`) or
// FOGBOW_REQUIRE_OPENSTACK=1 (.ci/run); the volume cases also when
// FOGBOW_OPENSTACK_CINDER=0 or the catalog has no volumev3. End to end through
// the REST API: tests/integration/test_openstack_resources.py.
#include "drivers/openstack/openstack_resource_drivers.hpp"
#include "drivers/openstack/openstack_driver.hpp"

#include "actors/errors.hpp"
#include "support/deterministic_fixture.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

using namespace fogbow;
using namespace std::chrono_literals;

namespace {

/// `. DIR/env.sh` sets FOGBOW_OPENSTACK_DIR; .ci/run sets
/// FOGBOW_REQUIRE_OPENSTACK=1 once its OpenStack is up.
bool have_openstack() {
  auto req = std::getenv("FOGBOW_REQUIRE_OPENSTACK");
  return std::getenv("FOGBOW_OPENSTACK_DIR") != nullptr
         || (req != nullptr && std::string{req} == "1");
}

bool cinder_not_disabled() {
  auto c = std::getenv("FOGBOW_OPENSTACK_CINDER");
  return have_openstack() && (c == nullptr || std::string{c} != "0");
}

std::string auth_url() {
  auto u = std::getenv("FOGBOW_OPENSTACK_AUTH_URL");
  return u ? u : "http://127.0.0.1:5000/v3";
}

struct live_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  caf::scoped_actor events{sys};
  std::string member = "unit-" + make_uuid().substr(0, 8);
  std::shared_ptr<keystone_session> session;
  openstack_resource_driver_config rc;

  live_fixture() {
    openstack_endpoint_config ep;
    ep.auth_url = auth_url();
    session = std::make_shared<keystone_session>(
      ep,
      openstack_account{"demo", "demo-pw", "Default", "demo", "", "Default"});
    rc.member_id = member;
    rc.sessions["main"] = session;
    rc.mapper = std::make_shared<single_mapper>("main");
    rc.poll_interval_ms = 200;
    rc.refresh_interval_ms = 500;
  }

  template <class T, class H, class... Ts>
  caf::expected<T> ask(const H& h, Ts&&... xs) {
    caf::expected<T> out{caf::error{}};
    self->request(h, 120s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  void subscribe(const openstack_driver_actor& d) {
    self->send(d, atom::subscribe_v,
               caf::actor_cast<cloud_events_actor>(events));
  }

  /// Waits up to `timeout` for an instance_changed event matching `pred`.
  template <class Pred>
  std::optional<instance> event(Pred pred, std::chrono::seconds timeout = 30s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::optional<instance> found;
    bool done = false;
    while (!done && std::chrono::steady_clock::now() < deadline)
      events->receive(
        [&](atom::instance_changed, const instance& x) {
          if (pred(x)) {
            found = x;
            done = true;
          }
        },
        [&](atom::capacity_freed) {}, caf::after(1s) >> [] {});
    return found;
  }

  bool capacity_freed(std::chrono::seconds timeout = 30s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool got = false;
    while (!got && std::chrono::steady_clock::now() < deadline)
      events->receive([&](atom::capacity_freed) { got = true; },
                      [&](atom::instance_changed, const instance&) {},
                      caf::after(1s) >> [] {});
    return got;
  }

  /// A running server of the demo project (deleted by the caller).
  std::string make_server(openstack_cloud& cloud, const std::string& order) {
    instance_spec s;
    s.order_id = order;
    s.image = "cirros-fake";
    auto fl = cloud.flavors();
    REQUIRE(!fl.empty());
    auto id = cloud.create_server(s, fl.front());
    for (int i = 0; i < 300; ++i) {
      auto x = cloud.get_server(id);
      if (x && x->state == instance_state::running)
        return id;
      std::this_thread::sleep_for(200ms);
    }
    FAIL("server " << id << " not ACTIVE in 60 s");
    return id;
  }

  instance_spec volume_spec(std::string order) {
    instance_spec s;
    s.order_id = std::move(order);
    s.kind = resource_kind::volume;
    s.size_gb = 1;
    s.requesting_member = member;
    return s;
  }

  ~live_fixture() {
    // Whatever a failed case left behind.
    try {
      openstack_volumes vols{session, member};
      for (auto& v : vols.list_volumes())
        if (v.attachments.empty())
          vols.delete_volume(v.volume.id);
      openstack_networks nets{session, member};
      for (auto& n : nets.list_networks())
        nets.delete_network(n.net.id);
    } catch (...) {
    }
  }
};

} // namespace

TEST_CASE_FIXTURE(
  live_fixture,
  "openstack volume driver: create, attach, detach, delete on the real cloud"
    * doctest::skip(!cinder_not_disabled())) {
  if (!session->has_endpoint("volumev3")) {
    MESSAGE("skipped: this OpenStack has no volumev3 endpoint (Cinder)");
    return;
  }
  auto vd = sys.spawn(openstack_volume_driver, rc);
  subscribe(vd);
  openstack_cloud cloud{session, member, "", "cirros-fake"};
  auto server = make_server(cloud, "srv-" + member);

  auto v = ask<instance>(vd, atom::create_v, volume_spec("vol-" + member));
  REQUIRE_MESSAGE(v, (v ? "" : message_of(v.error())));
  CHECK(v->kind == resource_kind::volume);
  CHECK(v->state == instance_state::running);
  CHECK(v->order_id == "vol-" + member);
  CHECK(v->size_gb == 1);
  // Idempotent per order id: the same volume again.
  auto again = ask<instance>(vd, atom::create_v, volume_spec("vol-" + member));
  REQUIRE(again);
  CHECK(again->id == v->id);
  // ... also for a fresh driver (after a restart): found by name.
  auto vd2 = sys.spawn(openstack_volume_driver, rc);
  auto adopted =
    ask<instance>(vd2, atom::create_v, volume_spec("vol-" + member));
  REQUIRE(adopted);
  CHECK(adopted->id == v->id);
  self->send_exit(vd2, caf::exit_reason::user_shutdown);

  instance_spec as;
  as.order_id = "att-" + member;
  as.kind = resource_kind::attachment;
  as.server_id = server;
  as.volume_id = v->id;
  auto a = ask<instance>(vd, atom::create_v, as);
  REQUIRE_MESSAGE(a, (a ? "" : message_of(a.error())));
  CHECK(a->kind == resource_kind::attachment);
  CHECK(a->state == instance_state::running);
  CHECK(a->id == attachment_local_id(server, v->id));
  CHECK(a->server_id == server);
  CHECK(a->volume_id == v->id);
  CHECK(!a->device.empty());
  auto a2 = ask<instance>(vd, atom::create_v, as);
  REQUIRE(a2);
  CHECK(a2->id == a->id);

  auto listed = ask<std::vector<instance>>(vd, atom::list_v);
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  for (auto& x : *listed) {
    if (x.kind == resource_kind::volume) {
      CHECK(x.id == v->id);
      CHECK(x.order_id == "vol-" + member);
      CHECK(x.server_id == server);
    } else {
      CHECK(x.kind == resource_kind::attachment);
      CHECK(x.id == a->id);
      CHECK(x.order_id == "att-" + member);
    }
  }

  auto busy = ask<atom::ok>(vd, atom::erase_v, v->id);
  REQUIRE_FALSE(busy);
  CHECK(code_of(busy.error()) == errc::conflict);
  CHECK(message_of(busy.error()).find("Invalid volume") != std::string::npos);

  auto detached = ask<atom::ok>(vd, atom::erase_v, a->id);
  CHECK_MESSAGE(detached, (detached ? "" : message_of(detached.error())));
  auto vol = openstack_volumes{session, member}.get_volume(v->id);
  REQUIRE(vol);
  CHECK(vol->attachments.empty());
  auto twice = ask<atom::ok>(vd, atom::erase_v, a->id);
  REQUIRE_FALSE(twice);
  CHECK(code_of(twice.error()) == errc::not_found);

  auto deleted = ask<atom::ok>(vd, atom::erase_v, v->id);
  CHECK_MESSAGE(deleted, (deleted ? "" : message_of(deleted.error())));
  CHECK(capacity_freed());
  // Cinder deletes in the background (the detach above may have sent the
  // capacity_freed just received): wait until it no longer knows the volume.
  bool vanished = false;
  for (int i = 0; i < 60 && !vanished; ++i) {
    vanished = !openstack_volumes{session, member}.get_volume(v->id);
    if (!vanished)
      std::this_thread::sleep_for(500ms);
  }
  CHECK(vanished);
  auto gone = ask<atom::ok>(vd, atom::erase_v, v->id);
  REQUIRE_FALSE(gone);
  CHECK(code_of(gone.error()) == errc::not_found);
  cloud.delete_server(server);
  self->send_exit(vd, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(
  live_fixture,
  "openstack volume driver: a deleted server's attachment is reported lost"
    * doctest::skip(!cinder_not_disabled())) {
  if (!session->has_endpoint("volumev3")) {
    MESSAGE("skipped: this OpenStack has no volumev3 endpoint (Cinder)");
    return;
  }
  auto vd = sys.spawn(openstack_volume_driver, rc);
  subscribe(vd);
  openstack_cloud cloud{session, member, "", "cirros-fake"};
  auto server = make_server(cloud, "srv-" + member);
  auto v = ask<instance>(vd, atom::create_v, volume_spec("vol-" + member));
  REQUIRE(v);
  instance_spec as;
  as.order_id = "att-" + member;
  as.kind = resource_kind::attachment;
  as.server_id = server;
  as.volume_id = v->id;
  auto a = ask<instance>(vd, atom::create_v, as);
  REQUIRE_MESSAGE(a, (a ? "" : message_of(a.error())));

  cloud.delete_server(server); // Nova detaches the volume
  auto lost = event([&](const instance& x) {
    return x.id == a->id && x.state == instance_state::lost;
  });
  REQUIRE(lost);
  CHECK(lost->kind == resource_kind::attachment);
  CHECK(lost->order_id == "att-" + member);
  // The volume stays, no longer attached, and its attachment mark goes.
  std::optional<cinder_volume> vol;
  for (int i = 0; i < 100; ++i) {
    vol = openstack_volumes{session, member}.get_volume(v->id);
    if (vol && vol->attachment_order.empty())
      break;
    std::this_thread::sleep_for(200ms);
  }
  REQUIRE(vol);
  CHECK(vol->status == "available");
  CHECK(vol->attachment_order.empty());
  CHECK(ask<atom::ok>(vd, atom::erase_v, v->id));
  self->send_exit(vd, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(
  live_fixture, "openstack network driver: network and subnet on the real cloud"
                  * doctest::skip(!have_openstack())) {
  auto nd = sys.spawn(openstack_network_driver, rc);
  subscribe(nd);
  instance_spec ns;
  ns.order_id = "net-" + member;
  ns.kind = resource_kind::network;
  ns.network_cidr = "10.61.0.0/24";
  ns.network_gateway = "10.61.0.1";
  ns.network_allocation = "dynamic";
  ns.requesting_member = member;
  auto n = ask<instance>(nd, atom::create_v, ns);
  REQUIRE_MESSAGE(n, (n ? "" : message_of(n.error())));
  CHECK(n->kind == resource_kind::network);
  CHECK(n->state == instance_state::running);
  CHECK(n->order_id == ns.order_id);
  CHECK(n->network_cidr == "10.61.0.0/24");
  CHECK(n->network_gateway == "10.61.0.1");
  auto again = ask<instance>(nd, atom::create_v, ns);
  REQUIRE(again);
  CHECK(again->id == n->id);

  // A network left without subnet (a crash between the two calls) gets it.
  openstack_networks nets{session, member};
  auto half_spec = ns;
  half_spec.order_id = "half-" + member;
  auto half = nets.create_network(half_spec);
  auto h = ask<instance>(nd, atom::create_v, half_spec);
  REQUIRE_MESSAGE(h, (h ? "" : message_of(h.error())));
  CHECK(h->id == half.net.id);
  CHECK(h->state == instance_state::running);
  CHECK(h->network_cidr == "10.61.0.0/24");

  auto listed = ask<std::vector<instance>>(nd, atom::list_v);
  REQUIRE(listed);
  CHECK(listed->size() == 2);

  // Neutron refuses the subnet: a clear error and no network left.
  auto bad = ns;
  bad.order_id = "bad-" + member;
  bad.network_gateway = "10.61.0.255";
  auto b = ask<instance>(nd, atom::create_v, bad);
  REQUIRE_FALSE(b);
  CHECK(code_of(b.error()) == errc::invalid_argument);
  CHECK(message_of(b.error()).find("Gateway is not valid")
        != std::string::npos);
  CHECK_FALSE(nets.find_network(bad.order_id));

  // Deleted behind the driver's back: reported lost.
  nets.delete_network(h->id);
  auto lost = event([&](const instance& x) {
    return x.id == h->id && x.state == instance_state::lost;
  });
  REQUIRE(lost);
  CHECK(lost->kind == resource_kind::network);

  CHECK(ask<atom::ok>(nd, atom::erase_v, n->id));
  CHECK_FALSE(nets.get_network(n->id));
  auto gone = ask<atom::ok>(nd, atom::erase_v, n->id);
  REQUIRE_FALSE(gone);
  CHECK(code_of(gone.error()) == errc::not_found);
  self->send_exit(nd, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(
  live_fixture, "openstack drivers switched off refuse creates and list nothing"
                  * doctest::skip(!have_openstack())) {
  rc.enabled = false;
  auto vd = sys.spawn(openstack_volume_driver, rc);
  auto nd = sys.spawn(openstack_network_driver, rc);
  auto v = ask<instance>(vd, atom::create_v, volume_spec("off-" + member));
  REQUIRE_FALSE(v);
  CHECK(code_of(v.error()) == errc::unsupported);
  CHECK(message_of(v.error()).find("volumes = false") != std::string::npos);
  instance_spec ns;
  ns.order_id = "off-" + member;
  ns.kind = resource_kind::network;
  ns.network_cidr = "10.62.0.0/24";
  auto n = ask<instance>(nd, atom::create_v, ns);
  REQUIRE_FALSE(n);
  CHECK(code_of(n.error()) == errc::unsupported);
  auto l = ask<std::vector<instance>>(vd, atom::list_v);
  REQUIRE(l);
  CHECK(l->empty());
  self->send_exit(vd, caf::exit_reason::user_shutdown);
  self->send_exit(nd, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(
  live_fixture,
  "openstack volume driver: a catalog without volumev3 is unsupported"
    * doctest::skip(!have_openstack())) {
  // A region no endpoint is in: the catalog offers no volumev3 here.
  openstack_endpoint_config ep;
  ep.auth_url = auth_url();
  ep.region = "NoSuchRegion"; // no endpoint of any service matches
  auto empty = std::make_shared<keystone_session>(
    ep, openstack_account{"demo", "demo-pw", "Default", "demo", "", "Default"});
  rc.sessions["main"] = empty;
  auto vd = sys.spawn(openstack_volume_driver, rc);
  auto v = ask<instance>(vd, atom::create_v, volume_spec("nocat-" + member));
  REQUIRE_FALSE(v);
  CHECK(code_of(v.error()) == errc::unsupported);
  CHECK(message_of(v.error()).find("this OpenStack has no volumev3 endpoint")
        != std::string::npos);
  auto l = ask<std::vector<instance>>(vd, atom::list_v);
  REQUIRE(l);
  CHECK(l->empty());
  self->send_exit(vd, caf::exit_reason::user_shutdown);
}

// -- decisions without a cloud
// -------------------------------------------------

namespace {

struct offline_fixture : test::deterministic_fixture {
  openstack_driver_actor volumes;
  openstack_driver_actor networks;

  explicit offline_fixture(bool enabled = true) {
    openstack_endpoint_config ep;
    ep.auth_url = "http://127.0.0.1:1/v3"; // never reached here
    openstack_resource_driver_config rc;
    rc.member_id = "site-a";
    rc.sessions["main"] = std::make_shared<keystone_session>(
      ep, openstack_account{"demo", "pw", "Default", "demo", "", "Default"});
    rc.mapper = std::make_shared<per_member_mapper>(
      std::map<std::string, std::string, std::less<>>{{"site-a", "main"}}, "");
    rc.workers = 1;
    rc.enabled = enabled;
    volumes = sys.spawn(openstack_volume_driver, rc);
    networks = sys.spawn(openstack_network_driver, rc);
    run();
  }

  ~offline_fixture() {
    self->send_exit(volumes, caf::exit_reason::user_shutdown);
    self->send_exit(networks, caf::exit_reason::user_shutdown);
    run();
  }

  template <class T, class... Ts>
  caf::expected<T> ask(const openstack_driver_actor& d, Ts&&... xs) {
    auto rp = self->request(d, caf::infinite, std::forward<Ts>(xs)...);
    run();
    caf::expected<T> out{caf::error{}};
    rp.receive([&](T& x) { out = std::move(x); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  errc create_error(const openstack_driver_actor& d,
                    const instance_spec& spec) {
    auto r = ask<instance>(d, atom::create_v, spec);
    REQUIRE_FALSE(r);
    return code_of(r.error());
  }
};

struct switched_off_fixture : offline_fixture {
  switched_off_fixture() : offline_fixture(false) {}
};

instance_spec spec_of(resource_kind kind, std::string member = "site-a") {
  instance_spec s;
  s.order_id = "o-1";
  s.kind = kind;
  s.requesting_member = std::move(member);
  s.size_gb = 1;
  s.network_cidr = "10.0.0.0/24";
  s.server_id = "s-1";
  s.volume_id = "v-1";
  return s;
}

} // namespace

TEST_CASE_FIXTURE(offline_fixture,
                  "openstack resource drivers refuse bad specs at once") {
  auto v = spec_of(resource_kind::volume);
  v.size_gb = 0;
  CHECK(create_error(volumes, v) == errc::invalid_argument);
  auto a = spec_of(resource_kind::attachment);
  a.server_id.clear();
  CHECK(create_error(volumes, a) == errc::invalid_argument);
  auto n = spec_of(resource_kind::network);
  n.network_cidr.clear();
  CHECK(create_error(networks, n) == errc::invalid_argument);
  CHECK(create_error(volumes, spec_of(resource_kind::network))
        == errc::unsupported);
  CHECK(create_error(volumes, spec_of(resource_kind::compute))
        == errc::unsupported);
  CHECK(create_error(networks, spec_of(resource_kind::volume))
        == errc::unsupported);
  CHECK(code_of(ask<cloud_resources>(volumes, atom::resources_v).error())
        == errc::unsupported);
}

TEST_CASE_FIXTURE(
  offline_fixture,
  "openstack resource drivers refuse a member without an account") {
  CHECK(create_error(volumes, spec_of(resource_kind::volume, "site-x"))
        == errc::unauthorized);
  CHECK(create_error(networks, spec_of(resource_kind::network, "site-x"))
        == errc::unauthorized);
}

TEST_CASE_FIXTURE(
  switched_off_fixture,
  "openstack resource drivers switched off refuse every create") {
  auto r =
    ask<instance>(volumes, atom::create_v, spec_of(resource_kind::volume));
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::unsupported);
  CHECK(message_of(r.error()).find("volumes = false") != std::string::npos);
  CHECK(create_error(volumes, spec_of(resource_kind::attachment))
        == errc::unsupported);
  auto n =
    ask<instance>(networks, atom::create_v, spec_of(resource_kind::network));
  REQUIRE_FALSE(n);
  CHECK(message_of(n.error()).find("networks = false") != std::string::npos);
}
