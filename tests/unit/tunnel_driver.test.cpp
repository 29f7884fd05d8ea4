#include "drivers/tunnel/tunnel_driver.hpp"

#include "actors/errors.hpp"
#include "support/ask.hpp"
#include "support/deterministic_fixture.hpp"

#include <caf/exit_reason.hpp>
#include <caf/expected.hpp>
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace fogbow;

namespace {

/// What the fakes saw.
struct journal {
  std::vector<instance_spec> created;
  std::vector<std::string> erased;
  std::vector<std::string> registered;
  std::vector<std::string> released;
  bool tunnel_down = false;
};

cloud_driver_actor::behavior_type fake_cloud(std::shared_ptr<journal> j) {
  return {
    [j](atom::create, instance_spec spec) -> caf::result<instance> {
      j->created.push_back(spec);
      instance x;
      x.id = "vm-" + spec.order_id;
      x.order_id = spec.order_id;
      x.state = instance_state::running;
      return x;
    },
    [](atom::get, const std::string& id) -> caf::result<instance> {
      return make_error(errc::not_found, "no " + id);
    },
    [j](atom::erase, const std::string& id) -> caf::result<atom::ok> {
      j->erased.push_back(id);
      return atom::ok_v;
    },
    [](atom::list) { return std::vector<instance>{}; },
    [](atom::resources) { return cloud_resources{}; },
    [](atom::set_capacity, const cloud_resources&) { return atom::ok_v; },
    [](atom::subscribe, cloud_events_actor) {},
  };
}

tunnel_client_actor::behavior_type fake_tunnel(std::shared_ptr<journal> j) {
  return {
    [j](atom::tunnel_register,
        const std::string& order_id) -> caf::result<tunnel_access> {
      if (j->tunnel_down)
        return make_error(errc::cloud_error, "tunnel: cannot reach it");
      j->registered.push_back(order_id);
      return tunnel_access{order_id, "secret-of-" + order_id, 20000, 2222};
    },
    [j](atom::tunnel_release, const std::string& order_id) {
      j->released.push_back(order_id);
      return atom::ok_v;
    },
    [](atom::tunnel_ports, const std::vector<std::string>&) {
      return tunnel_addresses{};
    },
  };
}

struct fixture : test::deterministic_fixture {
  std::shared_ptr<journal> j = std::make_shared<journal>();
  cloud_driver_actor aut;

  fixture() {
    auto inner = sys.spawn(fake_cloud, j);
    auto client = sys.spawn(fake_tunnel, j);
    aut =
      sys.spawn(tunnel_driver, inner, client,
                tunnel_agent_settings{"http://tunnel:2223", "tunnel", 8080});
    run();
  }

  ~fixture() {
    self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  template <class T, class... Xs>
  caf::expected<T> ask(Xs... xs) {
    return test::ask<T>(*this, aut, std::move(xs)...);
  }
};

instance_spec spec_for(const std::string& order_id) {
  instance_spec s;
  s.order_id = order_id;
  s.user_data = "#!/bin/sh\necho mine\n";
  return s;
}

} // namespace

TEST_CASE_FIXTURE(fixture,
                  "tunnel driver: registers, then creates with the agent") {
  auto x = ask<instance>(atom::create_v, spec_for("o1"));
  REQUIRE(x);
  CHECK(x->order_id == "o1");
  CHECK(j->registered == std::vector<std::string>{"o1"});
  REQUIRE(j->created.size() == 1);
  auto parts = split_multipart(j->created[0].user_data);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].body.find("FOGBOW_TUNNEL_SECRET='secret-of-o1'")
        != std::string::npos);
  CHECK(parts[1].body == "#!/bin/sh\necho mine\n");
}

TEST_CASE_FIXTURE(fixture, "tunnel driver: no tunnel, no instance") {
  j->tunnel_down = true;
  auto x = ask<instance>(atom::create_v, spec_for("o1"));
  REQUIRE_FALSE(x);
  CHECK(code_of(x.error()) == errc::cloud_error);
  CHECK(j->created.empty());
}

TEST_CASE_FIXTURE(fixture,
                  "tunnel driver: erasing an instance releases its token") {
  REQUIRE(ask<instance>(atom::create_v, spec_for("o1")));
  REQUIRE(ask<atom::ok>(atom::erase_v, std::string{"vm-o1"}));
  run();
  CHECK(j->erased == std::vector<std::string>{"vm-o1"});
  CHECK(j->released == std::vector<std::string>{"o1"});
  // An instance the decorator never saw (and the cloud cannot name) is
  // still erased; there is no token to release.
  REQUIRE(ask<atom::ok>(atom::erase_v, std::string{"vm-unknown"}));
  run();
  CHECK(j->released.size() == 1);
}
