// The process's open-file limit, and how many connections of each kind
// the SSH server can afford within it.
#pragma once

#include <cstddef>

namespace fogbow::tunnel {

/// Raises the soft RLIMIT_NOFILE to the hard limit (a server that holds a
/// socket per client should not stop at the 1,024 of a login shell) and
/// returns the soft limit in force afterwards.
long raise_open_file_limit();

/// How many connections the SSH server admits at once.
struct connection_budget {
  std::size_t unauthenticated; ///< connections still logging in
  std::size_t sessions;        ///< logged-in sessions
};

/// The configured limits, lowered to fit `open_files` descriptors so that
/// the descriptor table never fills before the limits do: a connection
/// still logging in holds one descriptor, a logged-in session three plus
/// one per visitor and public port; some descriptors stay for the rest of
/// the process (listeners, database, HTTP API, logs). Connections still
/// logging in get at most a quarter, sessions (counted at four) the rest.
/// Each result is at least 1.
connection_budget fit_to_open_files(long open_files,
                                    std::size_t max_unauthenticated,
                                    std::size_t max_sessions);

} // namespace fogbow::tunnel
