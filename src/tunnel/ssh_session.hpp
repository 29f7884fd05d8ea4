// One SSH session of the tunnel server, served by a thread of its own:
// key exchange, login (asking the ssh_policy), then the requests for
// remote forwards (`ssh -R`) and the relays of the visitors of its ports.
//
// The thread runs an ssh_event loop over the session socket, a wake-up
// eventfd (for visitors handed over and for close()) and the epoll set of
// the visitor sockets (port_forwarding).
#pragma once

#include "tunnel/port_forwarding.hpp"
#include "tunnel/ssh_handles.hpp"
#include "tunnel/ssh_server.hpp"

#include <libssh/callbacks.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fogbow::tunnel {

class public_ports;

/// What every session uses of its server; outlives the sessions.
struct session_context {
  const ssh_server_config& config;
  ssh_policy& policy;
  public_ports& ports;
};

class tunnel_session {
public:
  /// Makes `socket`, accepted on the SSH port, a server session of `bind`.
  /// nullptr (and the connection closed) when libssh or the kernel refuses.
  static std::shared_ptr<tunnel_session> accept(ssh_bind bind, unique_fd socket,
                                                std::uint64_t id,
                                                session_context context);

  tunnel_session(const tunnel_session&) = delete;
  tunnel_session& operator=(const tunnel_session&) = delete;

  std::uint64_t id() const { return id_; }

  /// The session's thread: returns once the session is over and every
  /// port, channel and socket it had is closed.
  void run();

  /// Asks the session to end. Thread-safe; returns at once.
  void close();

  /// Asked to end, or ending. Thread-safe.
  bool closing() const { return closing_; }

  /// A visitor for one of the session's ports. Thread-safe.
  void hand_visitor(visitor v);

private:
  tunnel_session(std::uint64_t id, session_context context, session_ptr session,
                 unique_fd wake);

  bool handshake();
  bool log_in();
  void forward_until_closed();
  void tear_down();
  bool is_closed() const;

  void accept_visitors();
  void on_global_request(ssh_message msg);
  bool grant_forward(const char* address, int port);
  void record_login(const std::string& base);

  static int on_auth_pubkey(ssh_session, const char* user, ssh_key key,
                            char signature_state, void* ud);
  static int on_auth_password(ssh_session, const char* user,
                              const char* password, void* ud);
  static void on_global(ssh_session, ssh_message msg, void* ud);
  static int on_wake(int fd, int revents, void* ud);
  static int on_visitor_events(int fd, int revents, void* ud);

  const std::uint64_t id_;
  session_context ctx_;
  // Declared in the order they can go: the event loop first, the relays'
  // channels before their session.
  session_ptr session_;
  unique_fd wake_; ///< eventfd: visitors waiting or close() called
  port_forwarding forwarding_;
  event_ptr event_;

  std::string base_; ///< token family, set once authenticated
  bool authenticated_ = false;
  int auth_attempts_ = 0;
  std::atomic<bool> closing_ = false;
  std::mutex inbox_mtx_; ///< guards inbox_
  std::vector<visitor> inbox_;
  std::map<int, std::string> forwarded_; ///< port → address the client asked
  ssh_server_callbacks_struct server_callbacks_{};
  ssh_callbacks_struct callbacks_{};
};

} // namespace fogbow::tunnel
