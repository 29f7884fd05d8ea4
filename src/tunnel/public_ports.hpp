// The public ports: which session holds each forwarded port, its listening
// socket, and the thread that accepts visitors on all of them and hands
// each visitor to the port's session.
//
// Takeover: when a session claims a port another session holds, the port
// (its listening socket stays open) moves to the new session at once and
// the old session is closed.
#pragma once

#include "tunnel/ssh_listener.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace fogbow::tunnel {

class tunnel_session;

class public_ports {
public:
  /// Ports listen on `bind_address`.
  explicit public_ports(std::string bind_address);

  /// Throws std::runtime_error when the accepting thread cannot start.
  void start();
  /// Stops accepting and closes every listening socket.
  void stop();

  /// `session` now holds `port`: opens the port, or takes it over (closing
  /// its previous holder). False when the port cannot be opened, the
  /// ports are stopped or `session` is closing.
  bool claim(int port, const std::shared_ptr<tunnel_session>& session);

  /// Closes `port` if `session` still holds it (a cancelled forward, a
  /// session that ended).
  void release(int port, const tunnel_session* session);

  /// Closes every port `session` holds (a session that ended).
  void release_all(const tunnel_session* session);

  /// Closes `port` and the session that holds it.
  void close(int port);

private:
  struct entry {
    unique_fd socket;
    std::shared_ptr<tunnel_session> holder;
  };

  accept_status accept_visitors(int port);
  void drop_locked(std::map<int, entry>::iterator it);

  std::string bind_address_;
  accept_thread thread_;
  std::mutex mtx_; ///< guards the two below
  std::map<int, entry> ports_;
  bool stopped_ = false;
};

} // namespace fogbow::tunnel
