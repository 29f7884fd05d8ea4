#include "tunnel/open_files.hpp"

#include <algorithm>

#include <sys/resource.h>

namespace fogbow::tunnel {

namespace {

/// Descriptors kept for everything but SSH clients and visitors.
constexpr long reserved_descriptors = 64;
/// What a logged-in session is counted at: its socket, eventfd and epoll
/// set, and at least one visitor or public port.
constexpr long descriptors_per_session = 4;

} // namespace

long raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY)
    return 1L << 20;
  return static_cast<long>(rl.rlim_cur);
}

connection_budget fit_to_open_files(long open_files,
                                    std::size_t max_unauthenticated,
                                    std::size_t max_sessions) {
  long usable = std::max(0L, open_files - reserved_descriptors);
  auto unauthenticated = std::clamp<std::size_t>(
    max_unauthenticated, 1, static_cast<std::size_t>(std::max(1L, usable / 4)));
  long left = usable - static_cast<long>(unauthenticated);
  auto sessions = std::clamp<std::size_t>(
    max_sessions, 1,
    static_cast<std::size_t>(std::max(1L, left / descriptors_per_session)));
  return {unauthenticated, sessions};
}

} // namespace fogbow::tunnel
