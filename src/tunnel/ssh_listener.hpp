// Listening sockets and the threads that accept on them: the SSH port
// (ssh_listener) and, through the same accept_thread, the public ports
// (public_ports).
#pragma once

#include "tunnel/ssh_handles.hpp"
#include "tunnel/ssh_server.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace fogbow::tunnel {

/// A non-blocking IPv4 listening socket on `address`:`port`; on failure an
/// empty unique_fd and the reason in `error`.
unique_fd listen_tcp(const std::string& address, int port, std::string& error);

/// The port `fd` is bound to.
int bound_port(int fd);

/// What an acceptor reports once it has accepted what was waiting.
enum class accept_status {
  drained,            ///< nothing more waits
  out_of_descriptors, ///< accept failed for want of file descriptors
};

/// What an accept that failed with `error` (errno) means for its acceptor.
accept_status accept_failure(int error);

/// A thread waiting (epoll) on listening sockets; when one is readable it
/// calls `on_ready(tag)` with the tag the socket was watched with. A socket
/// whose acceptor ran out of file descriptors is left alone for a moment
/// instead of being retried at once, so that a full descriptor table does
/// not turn into a busy loop.
class accept_thread {
public:
  using handler = std::function<accept_status(std::uint64_t tag)>;

  explicit accept_thread(handler on_ready);
  ~accept_thread(); ///< stop()

  accept_thread(const accept_thread&) = delete;
  accept_thread& operator=(const accept_thread&) = delete;

  /// Throws std::runtime_error when the kernel refuses the epoll set.
  void start();
  /// Joins the thread; idempotent.
  void stop();

  /// Thread-safe. `fd` stays owned by the caller, who calls forget() before
  /// closing it.
  void watch(int fd, std::uint64_t tag);
  void forget(int fd);

private:
  void loop();
  void back_off(std::uint64_t tag);
  void rearm_resting();

  handler on_ready_;
  unique_fd epoll_;
  unique_fd wake_;
  std::thread thread_;
  std::atomic<bool> stopping_ = false;
  std::mutex mtx_;                       ///< guards the two maps
  std::map<std::uint64_t, int> fds_;     ///< tag → watched socket
  std::map<std::uint64_t, int> resting_; ///< backed off until the next turn
};

/// The SSH port. Every connection accepted (non-blocking) gets the socket
/// options of a long-lived tunnel and is handed to `on_connection` with
/// its source address. It has an accept_thread of its own: the public
/// ports keep accepting visitors whatever happens here.
class ssh_listener {
public:
  using connection_handler =
    std::function<void(unique_fd socket, std::string address)>;

  ssh_listener(const ssh_server_config& cfg, connection_handler on_connection);

  /// Binds and starts accepting; returns the port. Throws
  /// std::runtime_error with a reason.
  int start();
  void stop();

private:
  accept_status accept_all();
  void tune(int fd) const;

  const ssh_server_config& cfg_;
  connection_handler on_connection_;
  unique_fd socket_;
  accept_thread thread_;
};

} // namespace fogbow::tunnel
