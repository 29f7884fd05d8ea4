#include "tunnel/ssh_server.hpp"

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include <algorithm>
#include <cctype>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <set>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace fogbow::tunnel {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::size_t io_buffer_size = 256 * 1024;
/// Bytes a visitor connection buffers from the channel before the channel
/// is left to libssh (whose window then stops the client).
constexpr std::size_t out_buffer_cap = 512 * 1024;
constexpr std::size_t session_stack_size = 512 * 1024;

std::once_flag libssh_initialised;

int make_listener(const std::string& address, int port, int backlog,
                  std::string& error) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    error = "not an IPv4 address: " + address;
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string{"socket: "} + std::strerror(errno);
    return -1;
  }
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0
      || listen(fd, backlog) < 0) {
    error = "cannot listen on " + address + ":" + std::to_string(port) + ": "
            + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

int bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

std::string key_line(ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
    return {};
  std::string line = std::string{ssh_key_type_to_char(ssh_key_type(key))}
                     + " " + b64;
  ssh_string_free_char(b64);
  return line;
}

struct visitor {
  int fd = -1;
  int port = 0;
  std::string ip;
  int peer_port = 0;
};

} // namespace

struct worker;

/// One visitor connection relayed through one forwarded-tcpip channel.
struct conn {
  worker* w = nullptr;
  visitor v;
  ssh_channel ch = nullptr;
  ssh_channel_callbacks_struct cb{};
  std::string out; ///< channel → socket, not yet sent
  std::string in;  ///< socket → channel, waiting for window
  bool open = false;
  bool sock_eof = false; ///< the visitor stopped sending
  bool eof_sent = false; ///< ... and the channel got our EOF
  bool chan_eof = false; ///< the SSH client stopped sending
  bool shut_wr = false;  ///< ... and the visitor got our FIN
  bool lib_pending = false; ///< libssh holds channel data we left there
  bool draining = false;
  bool dead = false;
  std::uint32_t events = 0; ///< what epoll watches now
  std::chrono::steady_clock::time_point last_open_check
    = std::chrono::steady_clock::now();
};

struct worker {
  ssh_server::impl* srv = nullptr;
  std::uint64_t id = 0;
  ssh_session session = nullptr;
  ssh_event event = nullptr;
  std::string peer;
  std::string user; ///< login name
  std::string base; ///< token family, set once authenticated
  bool authenticated = false;
  int auth_attempts = 0;
  int wake_fd = -1;
  int ep_fd = -1;
  std::atomic<bool> closing = false;
  std::mutex inbox_mtx;
  std::vector<visitor> inbox;
  std::map<int, std::string> my_ports; ///< port → address the client asked
  std::map<conn*, std::unique_ptr<conn>> conns;
  std::set<conn*> blocked; ///< to look at after this round of events
  /// `in` waits for the client's window; checked (no syscall) after each
  /// round, since a WINDOW_ADJUST arrives as an event of the session
  /// socket (libssh 0.10 has no callback for it).
  std::set<conn*> window_waiters;
  int tick_ms = 1000;       ///< how long the next round may wait
  std::unique_ptr<char[]> buf;
  clock_type::time_point last_keepalive = clock_type::now();
  ssh_server_callbacks_struct server_cb{};
  ssh_callbacks_struct cb{};

  char* io_buffer() {
    if (!buf)
      buf = std::make_unique<char[]>(io_buffer_size);
    return buf.get();
  }
  void run();
  void serve();
  void accept_visitors();
  void service();
  void watch(conn* c, std::uint32_t events);
  void on_readable(conn* c);
  void on_writable(conn* c);
  void push_to_channel(conn* c);
  void maybe_finish(conn* c);
  void reap();
  void mark_dead(conn* c) {
    if (!c->dead) {
      c->dead = true;
      graveyard.push_back(c);
    }
  }
  std::vector<conn*> graveyard; ///< dead, not yet freed
  void on_global(ssh_message msg);
  void release_ports();
};

struct port_entry {
  int listen_fd = -1;
  std::shared_ptr<worker> owner;
};

struct ssh_server::impl {
  ssh_server_config cfg;
  std::shared_ptr<ssh_policy> policy;
  ssh_bind bind = nullptr;
  ssh_key host_key = nullptr;
  std::string host_key_text;
  int listen_fd = -1;
  int ep_fd = -1;
  int ctl_fd = -1;
  std::thread acceptor;
  std::atomic<bool> stopping = false;
  bool started = false;

  mutable std::mutex mtx; ///< guards everything below
  std::map<std::uint64_t, std::shared_ptr<worker>> workers;
  std::map<int, port_entry> ports;
  std::uint64_t next_id = 1;
  std::size_t live_threads = 0;
  std::condition_variable all_done;

  void accept_loop();
  void accept_ssh();
  void accept_public(int port);
  void start_worker(int fd, std::string peer);
  bool claim_port(const std::shared_ptr<worker>& w, int port);
  void drop_port_locked(int port);
  void wake_locked(worker& w); ///< with `mtx` held
};

// ---------------------------------------------------------------------------
// libssh callbacks (C signatures, userdata = worker or conn)

namespace {

int on_auth_pubkey(ssh_session, const char* user, ssh_key pubkey,
                   char signature_state, void* ud);
int on_auth_password(ssh_session, const char* user, const char* password,
                     void* ud);
ssh_channel on_session_channel(ssh_session, void*) {
  return nullptr; // no shells, no exec, no subsystems
}
int on_message(ssh_session, ssh_message, void*) {
  return 1; // everything not handled elsewhere gets the default refusal
}
void on_global_request(ssh_session, ssh_message msg, void* ud) {
  static_cast<worker*>(ud)->on_global(msg);
}

int on_channel_data(ssh_session, ssh_channel, void* data, uint32_t len,
                    int is_stderr, void* ud) {
  auto* c = static_cast<conn*>(ud);
  if (is_stderr || c->dead)
    return static_cast<int>(len); // forwarded-tcpip has no stderr; discard
  if (c->draining || c->out.size() >= out_buffer_cap) {
    c->lib_pending = true;
    return 0;
  }
  auto* p = static_cast<const char*>(data);
  std::size_t done = 0;
  if (c->out.empty()) {
    auto n = send(c->v.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done = static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK
               && errno != EINTR) {
      c->w->mark_dead(c);
      return static_cast<int>(len);
    }
  }
  auto take = std::min<std::size_t>(len - done, out_buffer_cap - c->out.size());
  c->out.append(p + done, take);
  done += take;
  c->lib_pending = done < len;
  if (!c->out.empty())
    c->w->watch(c, c->events | EPOLLOUT);
  return static_cast<int>(done);
}

void on_channel_eof(ssh_session, ssh_channel, void* ud) {
  auto* c = static_cast<conn*>(ud);
  c->chan_eof = true;
  c->w->blocked.insert(c); // service() shuts the socket once `out` is sent
}

void on_channel_close(ssh_session, ssh_channel, void* ud) {
  auto* c = static_cast<conn*>(ud);
  if (!c->out.empty())
    [[maybe_unused]] auto n = send(c->v.fd, c->out.data(), c->out.size(),
                                   MSG_NOSIGNAL | MSG_DONTWAIT);
  c->w->mark_dead(c);
}

int on_wake(socket_t fd, int, void* ud) {
  std::uint64_t n;
  [[maybe_unused]] auto r = read(fd, &n, sizeof(n));
  static_cast<worker*>(ud)->accept_visitors();
  return 0;
}

int on_visitor_events(socket_t fd, int, void* ud) {
  auto* w = static_cast<worker*>(ud);
  epoll_event evs[64];
  int n = epoll_wait(fd, evs, 64, 0);
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<conn*>(evs[i].data.ptr);
    if (!w->conns.count(c) || c->dead)
      continue;
    if (evs[i].events & (EPOLLOUT | EPOLLERR))
      w->on_writable(c);
    if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
      w->on_readable(c);
  }
  return 0;
}

} // namespace

// ---------------------------------------------------------------------------
// worker: one SSH session

void worker::watch(conn* c, std::uint32_t events) {
  if (c->events == events || c->dead)
    return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = c;
  if (c->events == 0)
    epoll_ctl(ep_fd, EPOLL_CTL_ADD, c->v.fd, &ev);
  else if (events == 0)
    epoll_ctl(ep_fd, EPOLL_CTL_DEL, c->v.fd, nullptr);
  else
    epoll_ctl(ep_fd, EPOLL_CTL_MOD, c->v.fd, &ev);
  c->events = events;
}

void worker::accept_visitors() {
  std::vector<visitor> fresh;
  {
    std::lock_guard guard{inbox_mtx};
    fresh.swap(inbox);
  }
  for (auto& v : fresh) {
    auto addr = my_ports.count(v.port) ? my_ports[v.port] : std::string{};
    ssh_channel ch = closing ? nullptr : ssh_channel_new(session);
    if (!ch) {
      close(v.fd);
      continue;
    }
    auto c = std::make_unique<conn>();
    c->w = this;
    c->v = v;
    c->ch = ch;
    ssh_callbacks_init(&c->cb);
    c->cb.userdata = c.get();
    c->cb.channel_data_function = on_channel_data;
    c->cb.channel_eof_function = on_channel_eof;
    c->cb.channel_close_function = on_channel_close;
    ssh_set_channel_callbacks(ch, &c->cb);
    int rc = ssh_channel_open_reverse_forward(ch, addr.c_str(), v.port,
                                              v.ip.c_str(), v.peer_port);
    if (rc == SSH_ERROR)
      mark_dead(c.get());
    else if (rc == SSH_OK)
      c->open = true;
    auto* raw = c.get();
    conns.emplace(raw, std::move(c));
    if (raw->open)
      watch(raw, EPOLLIN);
    else
      blocked.insert(raw);
  }
}

void worker::push_to_channel(conn* c) {
  while (!c->in.empty() && !c->dead) {
    auto win = ssh_channel_window_size(c->ch);
    if (win == 0)
      return;
    auto n = std::min<std::size_t>(c->in.size(), win);
    int w = ssh_channel_write(c->ch, c->in.data(), static_cast<uint32_t>(n));
    if (w < 0) {
      c->w->mark_dead(c);
      return;
    }
    if (w == 0)
      return; // key re-exchange in progress
    c->in.erase(0, static_cast<std::size_t>(w));
  }
}

void worker::on_readable(conn* c) {
  if (!c->open || c->sock_eof || !c->in.empty())
    return;
  char* b = io_buffer();
  for (int round = 0; round < 8 && !c->dead; ++round) {
    auto win = ssh_channel_window_size(c->ch);
    if (win == 0) {
      watch(c, c->events & ~EPOLLIN);
      window_waiters.insert(c);
      return;
    }
    auto want = std::min<std::size_t>(io_buffer_size, win);
    auto n = recv(c->v.fd, b, want, 0);
    if (n == 0) {
      c->sock_eof = true;
      watch(c, c->events & ~EPOLLIN);
      blocked.insert(c); // service() sends the EOF
      return;
    }
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        c->w->mark_dead(c);
      return;
    }
    int w = ssh_channel_write(c->ch, b, static_cast<uint32_t>(n));
    if (w < 0) {
      c->w->mark_dead(c);
      return;
    }
    if (w < n) {
      c->in.assign(b + w, static_cast<std::size_t>(n - w));
      watch(c, c->events & ~EPOLLIN);
      if (ssh_channel_window_size(c->ch) == 0)
        window_waiters.insert(c);
      else
        blocked.insert(c); // key re-exchange: retried next round
      return;
    }
    if (static_cast<std::size_t>(n) < want)
      return; // drained for now
  }
}

void worker::on_writable(conn* c) {
  for (;;) {
    while (!c->out.empty()) {
      auto n = send(c->v.fd, c->out.data(), c->out.size(),
                    MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
          return; // EPOLLOUT stays armed
        c->w->mark_dead(c);
        return;
      }
      c->out.erase(0, static_cast<std::size_t>(n));
    }
    if (!c->lib_pending || c->dead)
      break;
    // Pull what was left inside libssh (this also reopens the window).
    c->draining = true;
    int n = ssh_channel_read_nonblocking(c->ch, io_buffer(),
                                         static_cast<uint32_t>(io_buffer_size),
                                         0);
    c->draining = false;
    if (n <= 0) {
      c->lib_pending = false;
      if (n < 0)
        c->w->mark_dead(c);
      break;
    }
    c->out.assign(io_buffer(), static_cast<std::size_t>(n));
  }
  if (c->out.empty())
    watch(c, c->events & ~EPOLLOUT);
  if (c->chan_eof)
    blocked.insert(c);
}

void worker::maybe_finish(conn* c) {
  if (c->dead)
    return;
  if (c->sock_eof && c->in.empty() && !c->eof_sent) {
    ssh_channel_send_eof(c->ch);
    c->eof_sent = true;
  }
  if (c->chan_eof && c->out.empty() && !c->lib_pending && !c->shut_wr) {
    shutdown(c->v.fd, SHUT_WR);
    c->shut_wr = true;
  }
  if (c->eof_sent && c->shut_wr)
    c->w->mark_dead(c); // both directions done: close the channel
}

void worker::service() {
  tick_ms = 1000;
  for (auto it = window_waiters.begin(); it != window_waiters.end();) {
    if ((*it)->dead || ssh_channel_window_size((*it)->ch) > 0) {
      blocked.insert(*it);
      it = window_waiters.erase(it);
    } else {
      ++it;
    }
  }
  if (blocked.empty())
    return reap();
  std::vector<conn*> todo(blocked.begin(), blocked.end());
  blocked.clear();
  for (auto* c : todo) {
    if (!conns.count(c) || c->dead)
      continue;
    if (!c->open && ssh_channel_is_open(c->ch)) {
      // Confirmed (seen without a syscall; the event loop read the reply).
      c->open = true;
      watch(c, EPOLLIN | (c->out.empty() ? 0u : EPOLLOUT));
    }
    if (!c->open) {
      // Still opening or refused: asking libssh polls the session socket,
      // so do it only now and then.
      auto now = clock_type::now();
      if (now - c->last_open_check < std::chrono::milliseconds(100)) {
        blocked.insert(c);
        tick_ms = std::min(tick_ms, 100);
        continue;
      }
      c->last_open_check = now;
      int rc = ssh_channel_open_reverse_forward(
        c->ch, my_ports.count(c->v.port) ? my_ports[c->v.port].c_str() : "",
        c->v.port, c->v.ip.c_str(), c->v.peer_port);
      if (rc == SSH_AGAIN) {
        blocked.insert(c);
        tick_ms = std::min(tick_ms, 100);
        continue;
      }
      if (rc != SSH_OK) {
        c->w->mark_dead(c);
        continue;
      }
      c->open = true;
      watch(c, EPOLLIN | (c->out.empty() ? 0u : EPOLLOUT));
    }
    push_to_channel(c);
    if (c->dead)
      continue;
    if (!c->in.empty()) {
      if (ssh_channel_window_size(c->ch) == 0) {
        window_waiters.insert(c);
      } else {
        blocked.insert(c); // key re-exchange in progress
        tick_ms = std::min(tick_ms, 10);
      }
      continue;
    }
    if (!c->sock_eof && !(c->events & EPOLLIN))
      watch(c, c->events | EPOLLIN);
    maybe_finish(c); // an unfinished flush resumes from on_writable
  }
  reap();
}

void worker::reap() {
  if (graveyard.empty())
    return;
  for (auto* c : graveyard) {
    auto it = conns.find(c);
    if (it == conns.end())
      continue;
    watch(c, 0);
    c->events = 0;
    close(c->v.fd);
    if (ssh_channel_is_open(c->ch))
      ssh_channel_close(c->ch);
    ssh_remove_channel_callbacks(c->ch, &c->cb);
    ssh_channel_free(c->ch);
    blocked.erase(c);
    window_waiters.erase(c);
    conns.erase(it);
  }
  graveyard.clear();
  if (conns.empty())
    buf.reset();
}

void worker::on_global(ssh_message msg) {
  int type = ssh_message_subtype(msg);
  if (type == SSH_GLOBAL_REQUEST_TCPIP_FORWARD) {
    const char* addr = ssh_message_global_request_address(msg);
    int port = ssh_message_global_request_port(msg);
    bool ok = authenticated && !closing && port > 0 && port <= 65535
              && srv->policy->forward(id, base, port);
    if (ok) {
      my_ports[port] = addr ? addr : "";
      auto self = [this] {
        std::lock_guard guard{srv->mtx};
        return srv->workers.count(id) ? srv->workers[id]
                                      : std::shared_ptr<worker>{};
      }();
      ok = self && srv->claim_port(self, port);
      if (!ok)
        my_ports.erase(port);
    }
    if (ok)
      ssh_message_global_request_reply_success(msg, static_cast<uint16_t>(port));
    else
      ssh_message_reply_default(msg);
    return;
  }
  if (type == SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD) {
    int port = ssh_message_global_request_port(msg);
    if (my_ports.erase(port)) {
      std::lock_guard guard{srv->mtx};
      auto it = srv->ports.find(port);
      if (it != srv->ports.end() && it->second.owner.get() == this)
        srv->drop_port_locked(port);
      ssh_message_global_request_reply_success(msg, 0);
      return;
    }
  }
  ssh_message_reply_default(msg); // keep-alives and anything else
}

void worker::release_ports() {
  std::lock_guard guard{srv->mtx};
  for (auto& [port, addr] : my_ports) {
    auto it = srv->ports.find(port);
    if (it != srv->ports.end() && it->second.owner.get() == this)
      srv->drop_port_locked(port);
  }
  my_ports.clear();
}

namespace {

int on_auth_pubkey(ssh_session, const char* user, ssh_key pubkey,
                   char signature_state, void* ud) {
  auto* w = static_cast<worker*>(ud);
  if (signature_state != SSH_PUBLICKEY_STATE_NONE
      && signature_state != SSH_PUBLICKEY_STATE_VALID)
    return SSH_AUTH_DENIED;
  auto base = w->srv->policy->check_key(user, key_line(pubkey));
  if (!base) {
    if (signature_state == SSH_PUBLICKEY_STATE_VALID)
      ++w->auth_attempts;
    return SSH_AUTH_DENIED;
  }
  if (signature_state == SSH_PUBLICKEY_STATE_NONE)
    return SSH_AUTH_SUCCESS; // "this key would do": the client signs next
  w->user = user;
  w->base = *base;
  w->authenticated = true;
  return SSH_AUTH_SUCCESS;
}

int on_auth_password(ssh_session, const char* user, const char* password,
                     void* ud) {
  auto* w = static_cast<worker*>(ud);
  auto base = w->srv->policy->check_password(user, password);
  if (!base) {
    ++w->auth_attempts;
    return SSH_AUTH_DENIED;
  }
  w->user = user;
  w->base = *base;
  w->authenticated = true;
  return SSH_AUTH_SUCCESS;
}

} // namespace

void worker::serve() {
  auto& cfg = srv->cfg;
  long timeout = cfg.login_timeout_s;
  ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout);
  ssh_callbacks_init(&server_cb);
  server_cb.userdata = this;
  server_cb.auth_pubkey_function = on_auth_pubkey;
  server_cb.auth_password_function = on_auth_password;
  server_cb.channel_open_request_session_function = on_session_channel;
  ssh_set_server_callbacks(session, &server_cb);
  ssh_callbacks_init(&cb);
  cb.userdata = this;
  cb.global_request_function = on_global_request;
  ssh_set_callbacks(session, &cb);
  ssh_set_message_callback(session, on_message, this);
  ssh_set_auth_methods(session,
                       SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_PASSWORD);
  if (ssh_handle_key_exchange(session) != SSH_OK)
    return;
  event = ssh_event_new();
  if (!event || ssh_event_add_session(event, session) != SSH_OK)
    return;
  auto deadline = clock_type::now() + std::chrono::seconds(cfg.login_timeout_s);
  while (!authenticated) {
    if (closing || auth_attempts >= cfg.max_auth_attempts
        || clock_type::now() > deadline)
      return;
    if (ssh_event_dopoll(event, 200) == SSH_ERROR
        || (ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
      return;
  }
  ssh_set_blocking(session, 0);
  ssh_event_add_fd(event, wake_fd, POLLIN, on_wake, this);
  ssh_event_add_fd(event, ep_fd, POLLIN, on_visitor_events, this);
  // A session that forwards nothing is useless: it must ask for its port
  // within the login timeout.
  auto forward_deadline
    = clock_type::now() + std::chrono::seconds(cfg.login_timeout_s);
  auto keepalive_every = std::chrono::seconds(
    std::max(1, cfg.idle_timeout_s / 3));
  while (!closing && !srv->stopping) {
    // Every wait is an event (socket, eventfd, window adjust); the tick
    // only bounds how late a refused channel open or a key re-exchange is
    // noticed, and paces keep-alives.
    int rc = ssh_event_dopoll(event, tick_ms);
    if (rc == SSH_ERROR
        || (ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
      break;
    accept_visitors();
    service();
    auto now = clock_type::now();
    if (my_ports.empty() && now > forward_deadline)
      break;
    if (now - last_keepalive > keepalive_every) {
      last_keepalive = now;
      ssh_send_keepalive(session); // makes TCP_USER_TIMEOUT notice a dead peer
    }
  }
}

void worker::run() {
  serve();
  for (auto& [c, owned] : conns)
    mark_dead(c);
  if (!conns.empty())
    reap();
  release_ports();
  {
    std::lock_guard guard{inbox_mtx};
    for (auto& v : inbox)
      close(v.fd);
    inbox.clear();
  }
  if (event) {
    ssh_event_remove_session(event, session);
    ssh_event_free(event);
    event = nullptr;
  }
  ssh_disconnect(session);
  ssh_free(session);
  session = nullptr;
  if (authenticated)
    srv->policy->closed(id, base);
  {
    // Others write to wake_fd only under this lock and only while it is
    // open: after this block nobody finds or wakes this session.
    std::lock_guard guard{srv->mtx};
    srv->workers.erase(id);
    close(wake_fd);
    wake_fd = -1;
  }
  close(ep_fd);
}

// ---------------------------------------------------------------------------
// server

std::optional<std::string> parse_public_key(const std::string& line) {
  auto trimmed = line;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.pop_back();
  auto sp = trimmed.find(' ');
  if (sp == std::string::npos || trimmed.find('\n') != std::string::npos)
    return std::nullopt;
  auto type = trimmed.substr(0, sp);
  auto rest = trimmed.substr(sp + 1);
  auto b64 = rest.substr(0, rest.find(' '));
  auto kt = ssh_key_type_from_name(type.c_str());
  if (kt == SSH_KEYTYPE_UNKNOWN)
    return std::nullopt;
  ssh_key key = nullptr;
  if (ssh_pki_import_pubkey_base64(b64.c_str(), kt, &key) != SSH_OK)
    return std::nullopt;
  auto out = key_line(key);
  ssh_key_free(key);
  if (out.empty())
    return std::nullopt;
  return out;
}

bool ssh_server::impl::claim_port(const std::shared_ptr<worker>& w, int port) {
  std::lock_guard guard{mtx};
  {
    auto it = ports.find(port);
    if (it != ports.end()) {
      auto previous = it->second.owner;
      it->second.owner = w; // the port moves at once; its socket stays open
      if (previous && previous != w) {
        // Takeover: the old session (often a dead one that has not
        // noticed yet) is closed; its other ports go with it.
        previous->closing = true;
        wake_locked(*previous);
      }
    } else {
      std::string error;
      int fd = make_listener(cfg.public_bind, port, 1024, error);
      if (fd < 0)
        return false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = static_cast<std::uint64_t>(port);
      epoll_ctl(ep_fd, EPOLL_CTL_ADD, fd, &ev);
      ports[port] = {fd, w};
    }
  }
  return true;
}

void ssh_server::impl::wake_locked(worker& w) {
  if (w.wake_fd < 0)
    return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(w.wake_fd, &one, sizeof(one));
}

void ssh_server::impl::drop_port_locked(int port) {
  auto it = ports.find(port);
  if (it == ports.end())
    return;
  epoll_ctl(ep_fd, EPOLL_CTL_DEL, it->second.listen_fd, nullptr);
  close(it->second.listen_fd);
  ports.erase(it);
}

void ssh_server::impl::start_worker(int fd, std::string peer) {
  auto w = std::make_shared<worker>();
  w->srv = this;
  w->peer = std::move(peer);
  w->session = ssh_new();
  w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  w->ep_fd = epoll_create1(EPOLL_CLOEXEC);
  if (!w->session || w->wake_fd < 0 || w->ep_fd < 0
      || ssh_bind_accept_fd(bind, w->session, fd) != SSH_OK) {
    if (w->session)
      ssh_free(w->session);
    close(fd);
    if (w->wake_fd >= 0)
      close(w->wake_fd);
    if (w->ep_fd >= 0)
      close(w->ep_fd);
    return;
  }
  {
    std::lock_guard guard{mtx};
    w->id = next_id++;
    workers[w->id] = w;
    ++live_threads;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, session_stack_size);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  auto* arg = new std::shared_ptr<worker>(w);
  pthread_t tid;
  int rc = pthread_create(
    &tid, &attr,
    [](void* p) -> void* {
      std::unique_ptr<std::shared_ptr<worker>> hold{
        static_cast<std::shared_ptr<worker>*>(p)};
      auto& w = **hold;
      w.run();
      auto* srv = w.srv;
      std::lock_guard guard{srv->mtx};
      srv->workers.erase(w.id);
      if (--srv->live_threads == 0)
        srv->all_done.notify_all();
      return nullptr;
    },
    arg);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    delete arg;
    ssh_free(w->session);
    std::lock_guard guard{mtx};
    workers.erase(w->id);
    --live_threads;
  }
}

void ssh_server::impl::accept_ssh() {
  for (;;) {
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len,
                     SOCK_CLOEXEC);
    if (fd < 0)
      return;
    std::size_t n;
    {
      std::lock_guard guard{mtx};
      n = workers.size();
    }
    if (n >= static_cast<std::size_t>(cfg.max_sessions)) {
      close(fd);
      continue;
    }
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes));
    int idle = std::max(5, cfg.idle_timeout_s / 3), cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    unsigned user_timeout = static_cast<unsigned>(cfg.idle_timeout_s) * 1000;
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
               sizeof(user_timeout));
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
    start_worker(fd, std::string{ip} + ":" + std::to_string(ntohs(sa.sin_port)));
  }
}

void ssh_server::impl::accept_public(int port) {
  // Under the lock: the listening socket cannot be closed (and its number
  // reused) meanwhile, and the owner cannot change or go away.
  std::lock_guard guard{mtx};
  for (;;) {
    auto it = ports.find(port);
    if (it == ports.end())
      return;
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    int fd = accept4(it->second.listen_fd, reinterpret_cast<sockaddr*>(&sa),
                     &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return;
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
    auto& owner = *it->second.owner;
    {
      std::lock_guard inbox_guard{owner.inbox_mtx};
      owner.inbox.push_back({fd, port, ip, ntohs(sa.sin_port)});
    }
    wake_locked(owner);
  }
}

void ssh_server::impl::accept_loop() {
  constexpr std::uint64_t ssh_key_tag = 1ull << 32;
  constexpr std::uint64_t ctl_tag = 2ull << 32;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ssh_key_tag;
  epoll_ctl(ep_fd, EPOLL_CTL_ADD, listen_fd, &ev);
  ev.data.u64 = ctl_tag;
  epoll_ctl(ep_fd, EPOLL_CTL_ADD, ctl_fd, &ev);
  epoll_event evs[64];
  while (!stopping) {
    int n = epoll_wait(ep_fd, evs, 64, -1);
    for (int i = 0; i < n; ++i) {
      auto tag = evs[i].data.u64;
      if (tag == ssh_key_tag)
        accept_ssh();
      else if (tag == ctl_tag)
        continue;
      else
        accept_public(static_cast<int>(tag));
    }
  }
}

ssh_server::ssh_server(ssh_server_config cfg, std::shared_ptr<ssh_policy> policy)
  : impl_(std::make_unique<impl>()) {
  impl_->cfg = std::move(cfg);
  impl_->policy = std::move(policy);
}

ssh_server::~ssh_server() {
  stop();
  if (impl_->bind)
    ssh_bind_free(impl_->bind);
  if (impl_->host_key)
    ssh_key_free(impl_->host_key);
}

int ssh_server::start() {
  auto& d = *impl_;
  if (d.started)
    throw std::logic_error("ssh_server::start called twice");
  std::call_once(libssh_initialised, [] { ssh_init(); });
  namespace fs = std::filesystem;
  if (d.cfg.host_key_path.empty())
    throw std::runtime_error("no host key path configured");
  if (fs::exists(d.cfg.host_key_path)) {
    if (ssh_pki_import_privkey_file(d.cfg.host_key_path.c_str(), nullptr,
                                    nullptr, nullptr, &d.host_key)
        != SSH_OK)
      throw std::runtime_error("cannot read the SSH host key "
                               + d.cfg.host_key_path);
  } else {
    std::error_code ec;
    fs::create_directories(fs::path{d.cfg.host_key_path}.parent_path(), ec);
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &d.host_key) != SSH_OK
        || ssh_pki_export_privkey_file(d.host_key, nullptr, nullptr, nullptr,
                                       d.cfg.host_key_path.c_str())
             != SSH_OK)
      throw std::runtime_error("cannot create the SSH host key "
                               + d.cfg.host_key_path);
    fs::permissions(d.cfg.host_key_path,
                    fs::perms::owner_read | fs::perms::owner_write, ec);
  }
  d.host_key_text = key_line(d.host_key);
  d.bind = ssh_bind_new();
  if (!d.bind
      || ssh_bind_options_set(d.bind, SSH_BIND_OPTIONS_IMPORT_KEY, d.host_key)
           != SSH_OK)
    throw std::runtime_error("cannot set up the SSH server: "
                             + std::string{ssh_get_error(d.bind)});
  // IMPORT_KEY takes ownership of the key; keep our own copy for host_key().
  d.host_key = nullptr;
  std::string error;
  d.listen_fd = make_listener(d.cfg.bind_address, d.cfg.port, 1024, error);
  if (d.listen_fd < 0)
    throw std::runtime_error("SSH server: " + error);
  int port = bound_port(d.listen_fd);
  d.ep_fd = epoll_create1(EPOLL_CLOEXEC);
  d.ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  d.started = true;
  d.acceptor = std::thread([&d] { d.accept_loop(); });
  return port;
}

void ssh_server::stop() {
  auto& d = *impl_;
  if (!d.started || d.stopping.exchange(true))
    return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(d.ctl_fd, &one, sizeof(one));
  d.acceptor.join();
  std::unique_lock lock{d.mtx};
  for (auto& [id, w] : d.workers) {
    w->closing = true;
    d.wake_locked(*w);
  }
  d.all_done.wait(lock, [&] { return d.live_threads == 0; });
  for (auto& [port, entry] : d.ports)
    close(entry.listen_fd);
  d.ports.clear();
  lock.unlock();
  close(d.listen_fd);
  close(d.ep_fd);
  close(d.ctl_fd);
}

std::string ssh_server::host_key() const {
  return impl_->host_key_text;
}

void ssh_server::close_session(std::uint64_t sid) {
  std::lock_guard guard{impl_->mtx};
  auto it = impl_->workers.find(sid);
  if (it == impl_->workers.end())
    return;
  it->second->closing = true;
  impl_->wake_locked(*it->second);
}

void ssh_server::close_port(int port) {
  std::lock_guard guard{impl_->mtx};
  auto it = impl_->ports.find(port);
  if (it == impl_->ports.end())
    return;
  auto owner = it->second.owner;
  impl_->drop_port_locked(port);
  if (owner) {
    owner->closing = true;
    impl_->wake_locked(*owner);
  }
}

std::vector<ssh_session_info> ssh_server::sessions() const {
  std::lock_guard guard{impl_->mtx};
  std::vector<ssh_session_info> out;
  for (auto& [id, w] : impl_->workers) {
    ssh_session_info info;
    info.id = id;
    info.peer = w->peer;
    for (auto& [port, entry] : impl_->ports)
      if (entry.owner == w)
        info.ports.push_back(port);
    out.push_back(std::move(info));
  }
  return out;
}

} // namespace fogbow::tunnel
