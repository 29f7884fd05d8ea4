// One SSH session of the tunnel server in two stages:
// - before login, it is one of many sessions a login_loop drives on one
//   thread (non-blocking key exchange and authentication, asking the
//   ssh_policy); it then holds its socket and nothing else;
// - once authenticated, it gets a thread of its own (serve()) for the
//   requests for remote forwards (`ssh -R`) and the relays of the visitors
//   of its ports: an ssh_event loop over the session socket, a wake-up
//   eventfd (for visitors handed over and for close()) and the epoll set
//   of the visitor sockets (port_forwarding).
#pragma once

#include "tunnel/port_forwarding.hpp"
#include "tunnel/ssh_handles.hpp"
#include "tunnel/ssh_server.hpp"

#include <libssh/callbacks.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fogbow::tunnel {

class public_ports;
class tunnel_session;

/// What every session uses of its server; outlives the sessions.
struct session_context {
  const ssh_server_config& config;
  ssh_policy& policy;
  public_ports& ports;
  /// Called (on the login thread) when a login succeeds, before the client
  /// hears of it: the server registers the session (so that the forwards
  /// that follow can claim ports) or refuses it (false: login denied).
  std::function<bool(const std::shared_ptr<tunnel_session>&)> logged_in;
};

/// Where a session stands in its login.
enum class login_progress { pending, authenticated, failed };

class tunnel_session : public std::enable_shared_from_this<tunnel_session> {
public:
  /// Makes `socket` (non-blocking), accepted on the SSH port, a server
  /// session of `bind`. nullptr (and the connection closed) when libssh
  /// refuses.
  static std::shared_ptr<tunnel_session> accept(ssh_bind bind, unique_fd socket,
                                                std::uint64_t id,
                                                session_context context);

  tunnel_session(const tunnel_session&) = delete;
  tunnel_session& operator=(const tunnel_session&) = delete;

  std::uint64_t id() const { return id_; }
  ssh_session ssh() const { return session_.get(); }

  /// Login stage (on the login thread). Installs the callbacks and starts
  /// the key exchange without blocking; the caller then polls the session
  /// (ssh_event_add_session) and looks at progress() after each round.
  /// False when the exchange cannot even start.
  bool begin_login();
  login_progress progress() const;
  /// Ends a session that did not log in (its socket closes).
  void abandon() { tear_down(); }

  /// The session's own thread, once authenticated: returns once the
  /// session is over and every port, channel and socket it had is closed.
  void serve();

  /// Asks the session to end. Thread-safe once logged in; returns at once.
  void close();

  /// Asked to end, or ending. Thread-safe.
  bool closing() const { return closing_; }

  /// A visitor for one of the session's ports. Thread-safe.
  void hand_visitor(visitor v);

private:
  tunnel_session(std::uint64_t id, session_context context,
                 session_ptr session);

  void forward_until_closed();
  void tear_down();
  bool is_closed() const;

  void accept_visitors();
  void on_global_request(ssh_message msg);
  bool grant_forward(const char* address, int port);
  bool record_login(const std::string& base);

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
  // Descriptors beyond the socket come with the login (record_login), so
  // that a connection that never logs in costs one descriptor only.
  session_ptr session_;
  unique_fd wake_; ///< eventfd: visitors waiting or close() called
  std::unique_ptr<port_forwarding> forwarding_;
  event_ptr event_; ///< serve()'s loop

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
