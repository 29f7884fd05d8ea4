// The SSH server of the tunnel role (libssh 0.10 server mode).
//
// Plain OpenSSH clients log in with `ssh -N -R PORT:127.0.0.1:LOCAL
// TOKEN@host` and get the public port PORT forwarded to their LOCAL port.
// The server knows nothing about tokens itself: every decision (which key
// or password belongs to which login, which port a login may receive) is
// asked from an ssh_policy, which the tunnel role implements with the
// tunnel_allocator actor.
//
// Threads: one accepts SSH connections (ssh_listener), one accepts
// visitors on every forwarded public port (public_ports), one drives the
// key exchange and login of every connection that has not logged in yet
// (login_loop, with caps on such connections globally and per source
// address, and a deadline), and one serves each logged-in SSH session
// (tunnel_session). A session thread runs an ssh_event
// loop over its session socket, a wake-up eventfd and an epoll set with the
// session's visitor sockets (port_forwarding); every visitor socket is
// non-blocking and flow control follows the SSH windows, so a slow or
// stuck client only ever stalls its own thread. Visitors accepted on a
// public port are handed to the session that currently holds the port.
//
// Takeover: when a session asks for a port another session holds, the port
// (its listening socket stays open) moves to the new session at once and
// the old session is closed.
//
// Refused: shells, exec, subsystems, `direct-tcpip` (-L/-D), agent and X11
// forwarding, forwards of ports the policy does not grant, and forwards
// beyond max_forwards_per_session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace fogbow::tunnel {

struct ssh_server_config {
  std::string bind_address = "0.0.0.0"; ///< SSH listening address
  int port = 2222;                      ///< 0: any free port
  std::string public_bind = "0.0.0.0";  ///< where forwarded ports listen
  std::string host_key_path;            ///< ed25519 key, created if missing
  int login_timeout_s = 30; ///< key exchange + authentication deadline
  int idle_timeout_s = 90;  ///< closed when the client is silent so long
  int max_sessions = 10000; ///< logged in; lowered to fit the open files
  /// Connections still logging in, in all and from one IPv4 address; the
  /// global one is lowered to fit the open files. When all are taken, a
  /// newcomer from an address holding fewer pushes out the oldest of the
  /// busiest address; otherwise it is closed at once.
  int max_unauthenticated = 1000;
  int max_unauthenticated_per_address = 64;
  int max_auth_attempts = 6;
  /// Most ports one session forwards at a time; a `tcpip-forward` beyond
  /// it is refused before the policy is asked.
  int max_forwards_per_session = 32;
};

/// What the server asks its owner; called from session threads, so it must
/// be thread-safe. Each call may block briefly (it waits for an actor).
class ssh_policy {
public:
  virtual ~ssh_policy() = default;
  /// `key` is an OpenSSH public key line ("ssh-ed25519 AAAA..."). Returns
  /// the token family (base token) the login belongs to when the key is
  /// the one registered for it.
  virtual std::optional<std::string> check_key(const std::string& user,
                                               const std::string& key) = 0;
  /// Same for the token's secret used as a password.
  virtual std::optional<std::string>
  check_password(const std::string& user, const std::string& password) = 0;
  /// Session `sid` of family `base` asks for `port`; true grants it. The
  /// port must be the session's by then: the owner calls
  /// ssh_server::claim_port in the same step as its check, so that a
  /// deletion (close_port) either comes before (the port is refused) or
  /// after (the session is closed).
  virtual bool forward(std::uint64_t sid, const std::string& base,
                       int port) = 0;
  /// The session ended (also after a takeover closed it).
  virtual void closed(std::uint64_t sid, const std::string& base) = 0;
};

/// Checks an OpenSSH public key line ("type base64 [comment]") with
/// libssh; returns it without the comment, or nullopt when it is not a key.
std::optional<std::string> parse_public_key(const std::string& line);

class ssh_server {
public:
  ssh_server(ssh_server_config cfg, std::shared_ptr<ssh_policy> policy);
  ~ssh_server(); ///< stop()

  ssh_server(const ssh_server&) = delete;
  ssh_server& operator=(const ssh_server&) = delete;

  /// Loads or creates the host key, raises the open-file limit (see
  /// raise_open_file_limit), binds and starts accepting. Returns the SSH
  /// port. Throws std::runtime_error with a reason.
  int start();

  /// Closes every session and joins every thread. Idempotent.
  void stop();

  /// The limits in force once started: the configured ones lowered to fit
  /// the open-file limit.
  struct limits_in_force {
    long open_files = 0;
    std::size_t unauthenticated = 0;
    std::size_t per_address = 0;
    std::size_t sessions = 0;
  };
  limits_in_force limits() const;

  /// The host public key as OpenSSH writes it: "ssh-ed25519 AAAA...".
  std::string host_key() const;

  /// Gives `port` to session `sid`: opens it, or takes it over from the
  /// session that holds it (which is closed). False when the session is
  /// gone or the port cannot be opened. See ssh_policy::forward.
  bool claim_port(std::uint64_t sid, int port);

  /// Stops forwarding `port`: closes its listening socket and the session
  /// that holds it. Used when a token is deleted.
  void close_port(int port);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace fogbow::tunnel
