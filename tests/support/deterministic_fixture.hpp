// A deterministic CAF actor system for unit tests of single actors: nothing
// runs until the test drives the scheduler, and time only moves when the
// test advances it (stack-notes §1.6; CAF's own test DSL crashes under
// doctest, so this fixture is built straight on test_coordinator).
#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>

namespace fogbow::test {

struct deterministic_fixture {
  struct config : caf::actor_system_config {
    config() {
      set("scheduler.policy", caf::atom("testing"));
      set("logger.verbosity", caf::atom("quiet"));
    }
  };

  config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};

  /// Runs every message and job that is ready; returns how many ran.
  size_t run() { return sched.run(); }

  /// Moves simulated time forward, fires due timers and runs what follows.
  void advance(std::chrono::milliseconds d) {
    sched.advance_time(d);
    sched.run();
  }

  template <class State, class Handle>
  State& state_of(const Handle& h) {
    using impl = typename Handle::template stateful_base<State>;
    return static_cast<impl*>(caf::actor_cast<caf::abstract_actor*>(h))->state;
  }
};

} // namespace fogbow::test
