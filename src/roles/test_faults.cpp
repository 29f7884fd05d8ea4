#include "roles/test_faults.hpp"

#include "actors/errors.hpp"

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <pthread.h>
#include <string_view>

namespace fogbow {

bool test_faults_enabled() {
  auto value = std::getenv("FOGBOW_TEST_FAULTS");
  return value != nullptr && std::string_view{value} == "1";
}

void add_test_fault_signals(sigset_t& mask) {
  if (!test_faults_enabled())
    return;
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGUSR2);
}

test_fault_injector::test_fault_injector(caf::actor_system& sys,
                                         supervisor_actor supervisor)
    : sys_(sys), supervisor_(std::move(supervisor)) {
  spdlog::warn("FOGBOW_TEST_FAULTS=1: SIGUSR1 kills the order scheduler, "
               "SIGUSR2 the cloud driver (for tests only)");
  thread_ = std::thread([this] { run(); });
}

test_fault_injector::~test_fault_injector() {
  stop_ = 1;
  pthread_kill(thread_.native_handle(), SIGUSR1); // wakes sigwait
  thread_.join();
}

void test_fault_injector::run() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGUSR2);
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0 || stop_)
      return;
    if (sig == SIGUSR1)
      kill_actor("order scheduler", 0);
    else
      kill_actor("cloud driver", 1); // [0] is the router above it
  }
}

void test_fault_injector::kill_actor(const char* component, std::size_t index) {
  caf::scoped_actor self{sys_};
  self
    ->request(supervisor_, std::chrono::seconds(10), atom::get_v,
              std::string{component})
    .receive(
      [&](const std::vector<caf::actor>& actors) {
        if (actors.empty())
          return;
        auto& victim = actors[std::min(index, actors.size() - 1)];
        spdlog::warn("test fault: killing the {}", component);
        caf::anon_send_exit(victim, caf::exit_reason::kill);
      },
      [&](const caf::error& e) {
        spdlog::warn("test fault: cannot find the {}: {}", component,
                     message_of(e));
      });
}

} // namespace fogbow
