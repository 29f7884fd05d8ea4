// The visitor side of one SSH session: each visitor accepted on a public
// port is relayed through its own forwarded-tcpip channel to the client.
//
// Used by the session's thread only. Every socket is non-blocking and flow
// control follows the SSH windows: a visitor is read only while its channel
// has window, and channel data is left inside libssh (whose window then
// stops the client) once a visitor's send buffer is full. A slow visitor or
// a stuck client therefore only ever stalls its own relay.
#pragma once

#include "tunnel/ssh_handles.hpp"

#include <libssh/callbacks.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fogbow::tunnel {

/// A connection accepted on a public port, on its way to the session that
/// holds the port.
struct visitor {
  unique_fd socket;
  int port = 0; ///< the public port it came in on
  std::string ip;
  int peer_port = 0;
};

class port_forwarding {
public:
  /// `session` must outlive this object.
  explicit port_forwarding(ssh_session session);
  ~port_forwarding();

  port_forwarding(const port_forwarding&) = delete;
  port_forwarding& operator=(const port_forwarding&) = delete;

  /// False when the kernel refused an epoll set.
  bool usable() const { return static_cast<bool>(epoll_); }

  /// Readable when a visitor socket has something to do; the session's
  /// event loop watches it and then calls on_socket_events().
  int events_fd() const { return epoll_.get(); }

  /// Opens a forwarded-tcpip channel for `v` to `address`:port, the address
  /// the client asked the port for.
  void open(visitor v, const std::string& address);

  void on_socket_events();

  /// Moves on every relay that waits for something the event loop does not
  /// report (a channel confirmation, a window adjust, a key re-exchange);
  /// called after each round. Returns how long the next round may wait.
  int service();

  /// Closes every relay (channels and visitor sockets).
  void close_all();

private:
  struct relay;

  static int on_channel_data(ssh_session, ssh_channel, void* data,
                             std::uint32_t len, int is_stderr, void* ud);
  static void on_channel_eof(ssh_session, ssh_channel, void* ud);
  static void on_channel_close(ssh_session, ssh_channel, void* ud);

  int take_channel_data(relay& r, const char* data, std::uint32_t len);
  void watch(relay& r, std::uint32_t events);
  void on_readable(relay& r);
  void on_writable(relay& r);
  bool drain_libssh(relay& r);
  void push_to_channel(relay& r);
  bool finish_opening(relay& r);
  void service_one(relay& r);
  void wake_window_waiters();
  void maybe_finish(relay& r);
  void mark_dead(relay& r);
  void reap();
  char* io_buffer();

  ssh_session session_;
  unique_fd epoll_;
  std::map<relay*, std::unique_ptr<relay>> relays_;
  std::set<relay*> blocked_; ///< to look at after this round of events
  /// Their `in` waits for the client's window; checked (no syscall) after
  /// each round, since a WINDOW_ADJUST arrives as an event of the session
  /// socket (libssh 0.10 has no callback for it).
  std::set<relay*> window_waiters_;
  std::vector<relay*> graveyard_; ///< dead, not yet freed
  int tick_ms_ = 1000;
  std::unique_ptr<char[]> buffer_;
};

} // namespace fogbow::tunnel
