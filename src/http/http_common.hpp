// What the REST API and the tunnel API do alike with their cpp-httplib
// server: thread pool and socket options, binding, the listening thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>

namespace httplib {
class Server;
} // namespace httplib

namespace fogbow {

/// `threads` concurrent requests (at least one), bodies up to
/// `max_body_bytes`.
void configure_server(httplib::Server& srv, int threads,
                      std::size_t max_body_bytes);

/// The thread an httplib server listens on.
class listen_thread {
public:
  /// Binds `srv` to `address`:`port` (0: any free port) with SO_REUSEADDR
  /// but without httplib's default SO_REUSEPORT (which would let a second
  /// server bind the same port and silently take half of the requests),
  /// listens with a queue of `backlog` pending connections (the kernel caps
  /// it at net.core.somaxconn), runs its loop on a thread of its own and
  /// waits until the loop runs (httplib's stop() does nothing before that,
  /// so a stop() right after cannot be lost) or has returned. Returns the
  /// bound port; throws std::runtime_error "<who>cannot listen on
  /// ADDRESS:PORT" when binding fails. Replaces `srv`'s socket options.
  int start(httplib::Server& srv, const std::string& address, int port,
            int backlog, const std::string& who);

  /// True once the loop has returned (at once: it failed to serve).
  bool returned() const { return returned_; }

  bool joinable() const { return thread_.joinable(); }

  void join() { thread_.join(); }

  /// Stops `srv` and joins; false when no thread was running.
  bool stop(httplib::Server& srv);

private:
  std::thread thread_;
  std::atomic<bool> returned_ = false;
};

} // namespace fogbow
