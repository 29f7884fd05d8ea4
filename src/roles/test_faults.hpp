// Fault injection for the supervision tests, and only for them: with
// FOGBOW_TEST_FAULTS=1 in its environment (never set by default, not
// reachable over any network interface), a manager process kills one of its
// own actors on a signal, as a crash inside that actor would:
//   SIGUSR1: the order scheduler;
//   SIGUSR2: the cloud's compute driver (the router and every other driver
//            linked to it go down with it).
// Without the variable these signals keep their default action.
#pragma once

#include "actors/actors.hpp"

#include <caf/fwd.hpp>

#include <csignal>
#include <thread>

namespace fogbow {

/// FOGBOW_TEST_FAULTS is "1".
bool test_faults_enabled();

/// When enabled, adds SIGUSR1 and SIGUSR2 to `mask`; main() blocks the mask
/// in every thread before any is started, so that only the injector's
/// sigwait sees them.
void add_test_fault_signals(sigset_t& mask);

/// Waits for the fault signals on a thread of its own and kills the
/// component's actor, found through the supervisor's registry.
class test_fault_injector {
public:
  test_fault_injector(caf::actor_system& sys, supervisor_actor supervisor);
  ~test_fault_injector();

  test_fault_injector(const test_fault_injector&) = delete;
  test_fault_injector& operator=(const test_fault_injector&) = delete;

private:
  void run();
  void kill_actor(const char* component, std::size_t index);

  caf::actor_system& sys_;
  supervisor_actor supervisor_;
  volatile std::sig_atomic_t stop_ = 0;
  std::thread thread_;
};

} // namespace fogbow
