// The local and instant driver actors, driven through their messages on the
// deterministic scheduler. Events of the local driver's exit monitor come
// from a real thread; a scoped_actor subscriber receives them safely.
#include "drivers/local/local_driver.hpp"
#include "drivers/instant/instant_driver.hpp"

#include "actors/errors.hpp"
#include "support/deterministic_fixture.hpp"
#include "support/temp_dir.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace fogbow;
using namespace std::chrono_literals;

namespace {

const std::vector<flavor> test_flavors{{"small", 1, 512, 10},
                                       {"medium", 2, 1024, 20}};

cloud_resources totals(int vcpu, int memory_mb, int instances) {
  cloud_resources r;
  r.vcpu_total = vcpu;
  r.memory_mb_total = memory_mb;
  r.instances_total = instances;
  return r;
}

instance_spec spec_for(std::string order_id, std::string requirements = "") {
  instance_spec s;
  s.order_id = std::move(order_id);
  s.requirements = std::move(requirements);
  s.member_id = "site-a";
  s.image = "debian-12";
  return s;
}

pid_t pid_in(const fs::path& instance_dir) {
  std::ifstream in{instance_dir / "pid"};
  pid_t pid = 0;
  in >> pid;
  return pid;
}

struct driver_fixture : test::deterministic_fixture {
  caf::scoped_actor events{sys};

  /// Sends a request to `hdl`, runs the scheduler and returns the reply
  /// (or the error).
  template <class T, class Handle, class... Ts>
  caf::expected<T> ask(const Handle& hdl, Ts&&... xs) {
    auto rp = self->request(hdl, caf::infinite, std::forward<Ts>(xs)...);
    run();
    caf::expected<T> out{caf::error{}};
    rp.receive([&](T& x) { out = std::move(x); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  /// The next event sent to the subscriber, waiting up to 10 s.
  template <class F>
  void next_event(F f) {
    events->receive(
      f, caf::after(10s) >> [] { FAIL("no event in time"); });
  }

  void subscribe(const cloud_driver_actor& hdl) {
    self->send(hdl, atom::subscribe_v,
               caf::actor_cast<cloud_events_actor>(events));
    run();
  }
};

struct local_fixture : driver_fixture {
  fs::path root;
  cloud_driver_actor driver;

  local_fixture() {
    char tmpl[] = "/tmp/fogbow-driver-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    root = fs::canonical(tmpl);
    local_cloud_config cfg;
    cfg.root_dir = root.string();
    cfg.capacity = totals(2, 2048, 2);
    cfg.flavors = test_flavors;
    driver = sys.spawn(local_driver, cfg);
    run();
  }

  ~local_fixture() {
    self->send_exit(driver, caf::exit_reason::user_shutdown);
    run();
    // The instances outlive the driver by design; the test's must not.
    fogbow::test::kill_processes_under(root);
    fs::remove_all(root);
  }
};

} // namespace

TEST_CASE_FIXTURE(local_fixture, "local driver: requests map to the cloud") {
  subscribe(driver);
  auto x = ask<instance>(driver, atom::create_v, spec_for("order-1"));
  REQUIRE(x);
  CHECK(x->state == instance_state::running);
  CHECK(x->size.name == "small");
  CHECK(fs::exists(root / x->id / "pid"));
  CHECK(ask<instance>(driver, atom::create_v, spec_for("order-1")) == x);
  CHECK(ask<instance>(driver, atom::get_v, x->id) == x);
  CHECK(ask<std::vector<instance>>(driver, atom::list_v)
        == std::vector<instance>{*x});
  auto r = ask<cloud_resources>(driver, atom::resources_v);
  REQUIRE(r);
  CHECK(r->instances_used == 1);
  CHECK(r->vcpu_used == 1);
  CHECK(r->memory_mb_used == 512);
  CHECK(r->vcpu_total == 2);

  auto too_big = ask<instance>(driver, atom::create_v,
                               spec_for("order-2", "Glue2vCPU >= 8"));
  CHECK(code_of(too_big.error()) == errc::no_matching_flavor);
  auto no_room = ask<instance>(driver, atom::create_v,
                               spec_for("order-3", "Glue2vCPU >= 2"));
  CHECK(code_of(no_room.error()) == errc::no_capacity);

  CHECK(ask<atom::ok>(driver, atom::erase_v, x->id));
  next_event([](atom::capacity_freed) {});
  CHECK_FALSE(fs::exists(root / x->id));
  auto gone = ask<instance>(driver, atom::get_v, x->id);
  CHECK(code_of(gone.error()) == errc::not_found);
  auto again = ask<atom::ok>(driver, atom::erase_v, x->id);
  CHECK(code_of(again.error()) == errc::not_found);
  CHECK(ask<instance>(driver, atom::create_v,
                      spec_for("order-3", "Glue2vCPU >= 2")));
}

TEST_CASE_FIXTURE(local_fixture,
                  "local driver: a killed instance is reported as failed") {
  subscribe(driver);
  auto x = ask<instance>(driver, atom::create_v, spec_for("order-1"));
  REQUIRE(x);
  REQUIRE(kill(pid_in(root / x->id), SIGKILL) == 0);
  instance changed;
  next_event([&](atom::instance_changed, const instance& i) { changed = i; });
  CHECK(changed.id == x->id);
  CHECK(changed.order_id == "order-1");
  CHECK(changed.state == instance_state::failed);
  CHECK(changed.fault == "killed by signal 9");
  next_event([](atom::capacity_freed) {});
  CHECK(ask<instance>(driver, atom::get_v, x->id) == changed);
  CHECK(ask<cloud_resources>(driver, atom::resources_v)->instances_used == 0);
}

TEST_CASE_FIXTURE(local_fixture,
                  "local driver: raising the capacity frees capacity") {
  subscribe(driver);
  CHECK(ask<atom::ok>(driver, atom::set_capacity_v, totals(1, 512, 0)));
  auto refused = ask<instance>(driver, atom::create_v, spec_for("order-1"));
  CHECK(code_of(refused.error()) == errc::no_capacity);
  CHECK(ask<atom::ok>(driver, atom::set_capacity_v, totals(1, 512, 1)));
  next_event([](atom::capacity_freed) {});
  CHECK(ask<instance>(driver, atom::create_v, spec_for("order-1")));
  CHECK(ask<cloud_resources>(driver, atom::resources_v)
        == cloud_resources{1, 1, 512, 512, 1, 1});
}

TEST_CASE_FIXTURE(driver_fixture, "instant driver: the driver contract") {
  auto driver = sys.spawn(instant_driver, totals(3, 4096, 10), test_flavors);
  run();
  subscribe(driver);
  auto a = ask<instance>(driver, atom::create_v,
                         spec_for("order-a", "Glue2vCPU >= 2"));
  REQUIRE(a);
  CHECK(a->state == instance_state::running);
  CHECK(a->size.name == "medium");
  CHECK(ask<instance>(driver, atom::create_v, spec_for("order-a")) == a);
  auto full = ask<instance>(driver, atom::create_v,
                            spec_for("order-b", "Glue2vCPU >= 2"));
  CHECK(code_of(full.error()) == errc::no_capacity);
  auto b = ask<instance>(driver, atom::create_v, spec_for("order-b"));
  REQUIRE(b);
  auto none = ask<instance>(driver, atom::create_v,
                            spec_for("order-c", "Glue2RAM > 4096"));
  CHECK(code_of(none.error()) == errc::no_matching_flavor);
  CHECK(ask<std::vector<instance>>(driver, atom::list_v)
        == std::vector<instance>{*a, *b});
  CHECK(ask<cloud_resources>(driver, atom::resources_v)
        == cloud_resources{3, 3, 4096, 1536, 10, 2});

  CHECK(ask<atom::ok>(driver, atom::erase_v, a->id));
  next_event([](atom::capacity_freed) {});
  CHECK(code_of(ask<instance>(driver, atom::get_v, a->id).error())
        == errc::not_found);
  CHECK(ask<cloud_resources>(driver, atom::resources_v)
        == cloud_resources{3, 1, 4096, 512, 10, 1});
  auto a2 = ask<instance>(driver, atom::create_v, spec_for("order-a"));
  REQUIRE(a2);
  CHECK(a2->id != a->id); // the old instance was erased: a new one
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  run();
}
