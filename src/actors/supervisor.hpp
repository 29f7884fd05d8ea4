// The supervisor of a role and the forwarder that gives a restartable actor
// a stable handle. The policy each role applies is documented with
// supervisor_actor in actors/actors.hpp and in docs/supervision.md.
#pragma once

#include "actors/actors.hpp"

#include <caf/actor_addr.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace fogbow {

/// What the supervisor does when an actor of a component dies.
enum class failure_policy {
  restart,      ///< stop its dependents, build it and them again
  exit_process, ///< log why, then stop the process with exit code 1
};

/// Actors that live and die together, the one others talk to first.
struct supervised_component {
  std::string name;
  failure_policy policy = failure_policy::exit_process;
  std::vector<caf::actor> actors;
  /// Components this one talks to: when one of them restarts, this one is
  /// stopped first and built again after it.
  std::vector<std::string> depends_on;
  /// Builds the component again, as at process start-up (restart policy).
  /// Runs on the supervisor's thread and may block on start-up requests;
  /// throws std::runtime_error when it cannot, which stops the process.
  std::function<std::vector<caf::actor>()> respawn;
};

/// At most `max_restarts` restarts within any `window`: more is a crash loop.
class restart_budget {
public:
  using time_point = std::chrono::steady_clock::time_point;

  restart_budget(std::size_t max_restarts, std::chrono::milliseconds window);

  /// Records a restart at `now`; false (and nothing recorded) when it would
  /// be one too many.
  bool try_spend(time_point now);

private:
  std::size_t max_restarts_;
  std::chrono::milliseconds window_;
  std::deque<time_point> recent_;
};

/// Settings of a supervisor, filled in by src/roles/.
struct supervisor_config {
  std::string role; ///< for log lines: "manager", "rendezvous", "tunnel"
  /// Dependencies before their dependents (restarts follow this order).
  std::vector<supervised_component> components;
  std::size_t max_restarts = 5;
  std::chrono::milliseconds restart_window{60000};
  /// Called once when the process must stop, with the line that says why;
  /// the role asks main() to shut down and exit 1.
  std::function<void(const std::string&)> on_fatal;
};

struct supervisor_state {
  static inline const char* name = "supervisor";

  explicit supervisor_state(caf::local_actor*) : budget(0, {}) {}

  supervisor_config config;
  restart_budget budget;
  /// Per component (same index as config.components): its live actors.
  std::vector<std::set<caf::actor_addr>> live;
  /// Per component: stopped for a restart that has not happened yet.
  std::vector<bool> restarting;
  bool failed = false;   ///< on_fatal was called: react to nothing more
  bool stopping = false; ///< the role shuts down
};

/// Spawn it detached in a role (a restart blocks on start-up requests).
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           supervisor_config config);

struct forwarder_state {
  static inline const char* name = "forwarder";
  std::string component; ///< for the error message
  caf::actor target;     ///< null while the component restarts
};

/// A stable handle for a restartable actor: every message goes to the
/// current target with its sender and request id, so that the reply goes
/// straight back to the requester. `(atom::route, caf::actor)` sets the
/// target (a null handle: none). A request that finds no target fails with
/// errc::unavailable; a one-way message is dropped. Cast the handle to the
/// target's typed interface.
caf::behavior forwarder(caf::stateful_actor<forwarder_state>* self,
                        std::string component, caf::actor target);

} // namespace fogbow
