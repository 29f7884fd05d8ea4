// Start-up helpers shared by the roles (manager, tunnel): blocking asks
// that turn an actor's failure into an exception, and the data directory.
// Only for src/roles/*.cpp (pulls in caf/scoped_actor.hpp).
#pragma once

#include "actors/errors.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/system_messages.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

namespace fogbow {

/// Asks `hdl` synchronously during start-up, waiting at most `timeout`;
/// turns a failure into an exception that names `what`.
template <class Result, class Handle, class... Ts>
Result startup_ask(caf::actor_system& sys, const Handle& hdl,
                   std::chrono::seconds timeout, const char* what, Ts&&... xs) {
  caf::scoped_actor self{sys};
  // An actor that fails to start (e.g. the store cannot open its file)
  // quits with the reason; the monitor lets us report that reason instead
  // of "receiver down".
  self->monitor(hdl);
  Result result;
  caf::error failure;
  self->request(hdl, timeout, std::forward<Ts>(xs)...)
    .receive([&](Result& r) { result = std::move(r); },
             [&](caf::error& e) { failure = std::move(e); });
  if (failure == caf::sec::request_receiver_down)
    self->receive([&](caf::down_msg& down) {
      if (down.reason)
        failure = std::move(down.reason);
    });
  if (failure)
    throw std::runtime_error(std::string{what} + ": " + message_of(failure));
  return result;
}

/// Creates the data directory `dir` (and its parents) or throws.
void create_data_dir(const std::string& dir);

/// A supervisor gave up: asks main() to shut the process down as on
/// SIGTERM (it raises SIGTERM, which main waits for) and to exit with 1.
/// Callable from any thread; the caller has logged why.
void request_fatal_exit();

/// True once request_fatal_exit() was called: main() exits with 1.
bool fatal_exit_requested();

} // namespace fogbow
