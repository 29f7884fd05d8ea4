// The supervisor and the forwarder on CAF's deterministic scheduler, with
// small stand-in actors as components.

#include "actors/supervisor.hpp"
#include "actors/errors.hpp"
#include "support/deterministic_fixture.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace fogbow;
using namespace std::chrono_literals;

namespace {

/// A component stand-in: answers atom::get with its number.
caf::behavior numbered(caf::event_based_actor*, int number) {
  return {
    [number](atom::get) { return number; },
  };
}

/// Ignores a polite exit request; only a kill stops it.
caf::behavior slow_to_stop(caf::event_based_actor* self) {
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (msg.reason == caf::exit_reason::kill)
      self->quit(msg.reason);
  });
  return {
    [](atom::get) { return 0; },
  };
}

struct supervisor_fixture : test::deterministic_fixture {
  std::vector<std::string> respawned; ///< component names, in order
  std::vector<std::string> fatal;     ///< on_fatal lines
  int next_number = 100;
  supervisor_actor aut;

  ~supervisor_fixture() {
    if (aut)
      caf::anon_send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  caf::actor spawn_numbered() { return sys.spawn(numbered, next_number++); }

  supervised_component restartable(std::string name,
                                   std::vector<std::string> deps = {}) {
    supervised_component c;
    c.name = name;
    c.policy = failure_policy::restart;
    c.actors = {spawn_numbered()};
    c.depends_on = std::move(deps);
    c.respawn = [this, name] {
      respawned.push_back(name);
      return std::vector<caf::actor>{spawn_numbered()};
    };
    return c;
  }

  void start(std::vector<supervised_component> components,
             std::size_t max_restarts = 5) {
    supervisor_config cfg;
    cfg.role = "test";
    cfg.components = std::move(components);
    cfg.max_restarts = max_restarts;
    cfg.restart_window = 60s;
    cfg.on_fatal = [this](const std::string& line) { fatal.push_back(line); };
    aut = sys.spawn(supervisor, std::move(cfg));
    run();
  }

  std::vector<caf::actor> component(const std::string& name) {
    std::vector<caf::actor> result;
    self->send(aut, atom::get_v, name);
    run();
    self->receive([&](std::vector<caf::actor>& xs) { result = std::move(xs); },
                  [&](caf::error& e) { FAIL(message_of(e)); });
    return result;
  }

  int number_of(const caf::actor& hdl) {
    int result = -1;
    self->send(hdl, atom::get_v);
    run();
    self->receive([&](int n) { result = n; },
                  [&](caf::error& e) { FAIL(message_of(e)); });
    return result;
  }

  void kill(const caf::actor& hdl) {
    caf::anon_send_exit(hdl, caf::exit_reason::kill);
    run();
  }
};

} // namespace

TEST_CASE_FIXTURE(supervisor_fixture,
                  "a restartable component that dies is built again and the "
                  "registry names the new actor") {
  start({restartable("scheduler")});
  auto old = component("scheduler").at(0);
  kill(old);
  REQUIRE(respawned == std::vector<std::string>{"scheduler"});
  auto fresh = component("scheduler").at(0);
  CHECK(fresh != old);
  CHECK(number_of(fresh) == 101);
  CHECK(fatal.empty());
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "dependents are stopped and rebuilt after the component "
                  "they depend on") {
  start({restartable("driver"), restartable("scheduler", {"driver"})});
  auto old_scheduler = component("scheduler").at(0);
  self->monitor(old_scheduler);
  kill(component("driver").at(0));
  CHECK(respawned == std::vector<std::string>{"driver", "scheduler"});
  self->receive([&](const caf::down_msg& down) {
    CHECK(down.source == old_scheduler.address());
  });
  CHECK(component("scheduler").at(0) != old_scheduler);
  CHECK(fatal.empty());
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "a dependent that dies alone does not restart what it "
                  "depends on") {
  start({restartable("driver"), restartable("scheduler", {"driver"})});
  auto driver = component("driver").at(0);
  kill(component("scheduler").at(0));
  CHECK(respawned == std::vector<std::string>{"scheduler"});
  CHECK(component("driver").at(0) == driver);
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "a component of several actors restarts once, after all "
                  "of them are down") {
  auto group = restartable("driver");
  auto slow = sys.spawn(slow_to_stop);
  group.actors.push_back(slow);
  auto inner = spawn_numbered();
  group.actors.push_back(inner);
  start({std::move(group)});
  kill(inner);
  // One actor of the group is still stopping: nothing is rebuilt yet, and
  // the registry says so.
  CHECK(respawned.empty());
  self->send(aut, atom::get_v, std::string{"driver"});
  run();
  self->receive([](std::vector<caf::actor>&) { FAIL("answered"); },
                [](caf::error& e) { CHECK(code_of(e) == errc::unavailable); });
  kill(slow);
  CHECK(respawned == std::vector<std::string>{"driver"});
  CHECK(component("driver").size() == 1);
  CHECK(fatal.empty());
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "the death of an exit_process component stops the process "
                  "and restarts nothing") {
  supervised_component store;
  store.name = "store";
  store.actors = {spawn_numbered()};
  start({std::move(store), restartable("scheduler")});
  kill(component("store").at(0));
  REQUIRE(fatal.size() == 1);
  CHECK(fatal[0].find("the store stopped (it was killed)")
        != std::string::npos);
  CHECK(fatal[0].find("exit code 1") != std::string::npos);
  // Nothing more happens once the process is going down.
  kill(component("scheduler").at(0));
  CHECK(respawned.empty());
  CHECK(fatal.size() == 1);
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "more restarts than the budget within the window is a crash "
                  "loop that stops the process") {
  start({restartable("scheduler")}, 2);
  kill(component("scheduler").at(0));
  kill(component("scheduler").at(0));
  CHECK(respawned.size() == 2);
  CHECK(fatal.empty());
  kill(component("scheduler").at(0));
  CHECK(respawned.size() == 2);
  REQUIRE(fatal.size() == 1);
  CHECK(fatal[0].find("crash loop") != std::string::npos);
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "restarts older than the window no longer count") {
  start({restartable("scheduler")}, 2);
  kill(component("scheduler").at(0));
  kill(component("scheduler").at(0));
  advance(61s);
  kill(component("scheduler").at(0));
  CHECK(respawned.size() == 3);
  CHECK(fatal.empty());
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "a respawn that fails stops the process") {
  auto c = restartable("scheduler");
  c.respawn = []() -> std::vector<caf::actor> {
    throw std::runtime_error("cannot open the store");
  };
  start({std::move(c)});
  kill(component("scheduler").at(0));
  REQUIRE(fatal.size() == 1);
  CHECK(fatal[0].find("cannot restart the scheduler: cannot open the store")
        != std::string::npos);
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "the registry refuses an unknown component") {
  start({restartable("scheduler")});
  self->send(aut, atom::get_v, std::string{"nothing"});
  run();
  self->receive([](std::vector<caf::actor>&) { FAIL("found"); },
                [](caf::error& e) { CHECK(code_of(e) == errc::not_found); });
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "stopping the supervisor stops every component") {
  start({restartable("driver"), restartable("scheduler", {"driver"})});
  auto driver = component("driver").at(0);
  auto scheduler = component("scheduler").at(0);
  self->monitor(driver);
  self->monitor(scheduler);
  caf::anon_send_exit(aut, caf::exit_reason::user_shutdown);
  aut = nullptr;
  run();
  int downs = 0;
  for (int i = 0; i < 2; ++i)
    self->receive([&](const caf::down_msg&) { ++downs; });
  CHECK(downs == 2);
  CHECK(respawned.empty());
}

TEST_CASE_FIXTURE(test::deterministic_fixture,
                  "the forwarder passes requests to its current target, "
                  "whose reply goes straight back") {
  auto first = sys.spawn(numbered, 1);
  auto fwd = sys.spawn(forwarder, std::string{"worker"}, first);
  run();
  auto ask = [&] {
    int result = -1;
    auto handle = self->request(fwd, caf::infinite, atom::get_v);
    run();
    handle.receive(
      [&](int n) { result = n; },
      [&](caf::error& e) { result = -static_cast<int>(code_of(e)); });
    return result;
  };
  CHECK(ask() == 1);
  caf::anon_send_exit(first, caf::exit_reason::kill);
  self->send(fwd, atom::route_v, caf::actor{});
  run();
  CHECK(ask() == -static_cast<int>(errc::unavailable));
  auto second = sys.spawn(numbered, 2);
  self->send(fwd, atom::route_v, second);
  run();
  CHECK(ask() == 2);
  caf::anon_send_exit(fwd, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  run();
}

TEST_CASE("restart_budget allows max_restarts per window") {
  restart_budget budget{2, 10s};
  restart_budget::time_point t0{};
  CHECK(budget.try_spend(t0));
  CHECK(budget.try_spend(t0 + 1s));
  CHECK_FALSE(budget.try_spend(t0 + 2s));
  CHECK(budget.try_spend(t0 + 10s));
  CHECK_FALSE(budget.try_spend(t0 + 10s));
  CHECK(budget.try_spend(t0 + 11s));
}
