// The openstack driver actor's decisions that need no cloud: requests the
// mapper refuses and capacity changes are answered at once, without HTTP.
// Everything that talks to a cloud is tested against a real OpenStack in
// tests/integration/test_openstack.py.

#include "drivers/openstack/openstack_driver.hpp"
#include "actors/errors.hpp"

#include "support/deterministic_fixture.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

using namespace fogbow;

namespace {

struct openstack_fixture : test::deterministic_fixture {
  cloud_driver_actor driver;

  explicit openstack_fixture(std::shared_ptr<const mapper_plugin> mapper) {
    openstack_driver_config cfg;
    cfg.member_id = "site-a";
    cfg.endpoint.auth_url = "http://127.0.0.1:1/v3"; // never reached here
    cfg.accounts["main"] = {"demo", "pw", "Default", "demo", "", "Default"};
    cfg.mapper = std::move(mapper);
    cfg.workers = 1;
    driver = sys.spawn(openstack_driver, cfg);
    run();
  }

  ~openstack_fixture() {
    self->send_exit(driver, caf::exit_reason::user_shutdown);
    run();
  }

  template <class T, class... Ts>
  caf::expected<T> ask(Ts&&... xs) {
    auto rp = self->request(driver, caf::infinite, std::forward<Ts>(xs)...);
    run();
    caf::expected<T> out{caf::error{}};
    rp.receive([&](T& x) { out = std::move(x); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }
};

struct per_member_fixture : openstack_fixture {
  per_member_fixture()
      : openstack_fixture(std::make_shared<per_member_mapper>(
        std::map<std::string, std::string, std::less<>>{{"site-b", "main"}},
        "")) {}
};

} // namespace

TEST_CASE_FIXTURE(per_member_fixture,
                  "openstack driver: a member without an account is refused") {
  instance_spec spec;
  spec.order_id = "o-1";
  spec.requesting_member = "site-x";
  auto r = ask<instance>(atom::create_v, spec);
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::unauthorized);
  CHECK(message_of(r.error()).find("site-x") != std::string::npos);
}

TEST_CASE_FIXTURE(
  per_member_fixture,
  "openstack driver: capacity is the cloud's quota, not settable") {
  auto r =
    ask<atom::ok>(atom::set_capacity_v, cloud_resources{1, 0, 1, 0, 1, 0});
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == errc::unsupported);
  CHECK(message_of(r.error()).find("quota") != std::string::npos);
}
