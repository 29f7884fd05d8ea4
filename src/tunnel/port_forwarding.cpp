#include "tunnel/port_forwarding.hpp"

#include "metrics/metrics.hpp"

#include <algorithm>
#include <cerrno>

#include <sys/epoll.h>
#include <sys/socket.h>

namespace fogbow::tunnel {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::size_t io_buffer_size = std::size_t{256} * 1024;
/// Bytes a relay buffers from the channel before the channel is left to
/// libssh (whose window then stops the client).
constexpr std::size_t out_buffer_cap = std::size_t{512} * 1024;
/// How often a channel still opening is asked about (asking polls the
/// session socket).
constexpr auto open_check_interval = std::chrono::milliseconds(100);

bool would_block(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

} // namespace

/// One visitor connection relayed through one forwarded-tcpip channel.
struct port_forwarding::relay {
  port_forwarding* owner = nullptr;
  visitor v;
  std::string address; ///< what the client asked the port for
  channel_ptr channel;
  ssh_channel_callbacks_struct callbacks{};
  std::string out; ///< channel → socket, not yet sent
  std::string in;  ///< socket → channel, waiting for window
  bool open = false;
  bool sock_eof = false;    ///< the visitor stopped sending
  bool eof_sent = false;    ///< ... and the channel got our EOF
  bool chan_eof = false;    ///< the SSH client stopped sending
  bool shut_wr = false;     ///< ... and the visitor got our FIN
  bool lib_pending = false; ///< libssh holds channel data we left there
  bool draining = false;
  bool dead = false;
  std::uint32_t events = 0; ///< what epoll watches now
  clock_type::time_point last_open_check = clock_type::now();

  ssh_channel ch() const { return channel.get(); }

  ~relay() {
    if (!channel)
      return;
    if (ssh_channel_is_open(ch()))
      ssh_channel_close(ch());
    ssh_remove_channel_callbacks(ch(), &callbacks);
  }
};

port_forwarding::port_forwarding(ssh_session session)
    : session_(session), epoll_(epoll_create1(EPOLL_CLOEXEC)) {}

port_forwarding::~port_forwarding() {
  close_all();
}

char* port_forwarding::io_buffer() {
  if (!buffer_)
    buffer_ = std::make_unique<char[]>(io_buffer_size);
  return buffer_.get();
}

void port_forwarding::mark_dead(relay& r) {
  if (!r.dead) {
    r.dead = true;
    graveyard_.push_back(&r);
  }
}

void port_forwarding::watch(relay& r, std::uint32_t events) {
  if (r.events == events || r.dead)
    return;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &r;
  if (r.events == 0)
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, r.v.socket.get(), &ev);
  else if (events == 0)
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, r.v.socket.get(), nullptr);
  else
    epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, r.v.socket.get(), &ev);
  r.events = events;
}

// ---------------------------------------------------------------------------
// channel callbacks (libssh calls them from inside the session's event loop)

int port_forwarding::on_channel_data(ssh_session, ssh_channel, void* data,
                                     std::uint32_t len, int is_stderr,
                                     void* ud) {
  auto& r = *static_cast<relay*>(ud);
  if (is_stderr || r.dead)
    return static_cast<int>(len); // forwarded-tcpip has no stderr; discard
  return r.owner->take_channel_data(r, static_cast<const char*>(data), len);
}

int port_forwarding::take_channel_data(relay& r, const char* data,
                                       std::uint32_t len) {
  if (r.draining || r.out.size() >= out_buffer_cap) {
    r.lib_pending = true;
    return 0;
  }
  std::size_t done = 0;
  if (r.out.empty()) {
    auto n = send(r.v.socket.get(), data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done = static_cast<std::size_t>(n);
    } else if (n < 0 && !would_block(errno)) {
      mark_dead(r);
      return static_cast<int>(len);
    }
  }
  auto take = std::min<std::size_t>(len - done, out_buffer_cap - r.out.size());
  r.out.append(data + done, take);
  done += take;
  metrics::add_forwarded_bytes(metrics::direction::from_instance, done);
  r.lib_pending = done < len;
  if (!r.out.empty())
    watch(r, r.events | EPOLLOUT);
  return static_cast<int>(done);
}

void port_forwarding::on_channel_eof(ssh_session, ssh_channel, void* ud) {
  auto& r = *static_cast<relay*>(ud);
  r.chan_eof = true;
  r.owner->blocked_.insert(&r); // service() shuts the socket once `out` is sent
}

void port_forwarding::on_channel_close(ssh_session, ssh_channel, void* ud) {
  auto& r = *static_cast<relay*>(ud);
  if (!r.out.empty()) [[maybe_unused]]
    auto n = send(r.v.socket.get(), r.out.data(), r.out.size(),
                  MSG_NOSIGNAL | MSG_DONTWAIT);
  r.owner->mark_dead(r);
}

// ---------------------------------------------------------------------------
// relays

void port_forwarding::open(visitor v, const std::string& address) {
  channel_ptr channel{ssh_channel_new(session_)};
  if (!channel)
    return; // the visitor's socket closes with `v`
  auto owned = std::make_unique<relay>();
  auto& r = *owned;
  r.owner = this;
  r.v = std::move(v);
  r.address = address;
  r.channel = std::move(channel);
  ssh_callbacks_init(&r.callbacks);
  r.callbacks.userdata = &r;
  r.callbacks.channel_data_function = on_channel_data;
  r.callbacks.channel_eof_function = on_channel_eof;
  r.callbacks.channel_close_function = on_channel_close;
  ssh_set_channel_callbacks(r.ch(), &r.callbacks);
  relays_.emplace(&r, std::move(owned));
  int rc = ssh_channel_open_reverse_forward(r.ch(), r.address.c_str(), r.v.port,
                                            r.v.ip.c_str(), r.v.peer_port);
  if (rc == SSH_ERROR)
    mark_dead(r);
  else if (rc == SSH_OK)
    r.open = true;
  if (r.open)
    watch(r, EPOLLIN);
  else
    blocked_.insert(&r);
}

void port_forwarding::on_socket_events() {
  epoll_event evs[64];
  int n = epoll_wait(epoll_.get(), evs, 64, 0);
  for (int i = 0; i < n; ++i) {
    auto* r = static_cast<relay*>(evs[i].data.ptr);
    if (!relays_.count(r) || r->dead)
      continue;
    if (evs[i].events & (EPOLLOUT | EPOLLERR))
      on_writable(*r);
    if (!r->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
      on_readable(*r);
  }
}

void port_forwarding::push_to_channel(relay& r) {
  while (!r.in.empty() && !r.dead) {
    auto win = ssh_channel_window_size(r.ch());
    if (win == 0)
      return;
    auto n = std::min<std::size_t>(r.in.size(), win);
    int w = ssh_channel_write(r.ch(), r.in.data(), static_cast<uint32_t>(n));
    if (w < 0) {
      mark_dead(r);
      return;
    }
    if (w == 0)
      return; // key re-exchange in progress
    r.in.erase(0, static_cast<std::size_t>(w));
  }
}

void port_forwarding::on_readable(relay& r) {
  if (!r.open || r.sock_eof || !r.in.empty())
    return;
  char* b = io_buffer();
  for (int round = 0; round < 8 && !r.dead; ++round) {
    auto win = ssh_channel_window_size(r.ch());
    if (win == 0) {
      watch(r, r.events & ~EPOLLIN);
      window_waiters_.insert(&r);
      return;
    }
    auto want = std::min<std::size_t>(io_buffer_size, win);
    auto n = recv(r.v.socket.get(), b, want, 0);
    if (n == 0) {
      r.sock_eof = true;
      watch(r, r.events & ~EPOLLIN);
      blocked_.insert(&r); // service() sends the EOF
      return;
    }
    if (n < 0) {
      if (!would_block(errno))
        mark_dead(r);
      return;
    }
    metrics::add_forwarded_bytes(metrics::direction::to_instance,
                                 static_cast<std::uint64_t>(n));
    int w = ssh_channel_write(r.ch(), b, static_cast<uint32_t>(n));
    if (w < 0) {
      mark_dead(r);
      return;
    }
    if (w < n) {
      r.in.assign(b + w, static_cast<std::size_t>(n - w));
      watch(r, r.events & ~EPOLLIN);
      if (ssh_channel_window_size(r.ch()) == 0)
        window_waiters_.insert(&r);
      else
        blocked_.insert(&r); // key re-exchange: retried next round
      return;
    }
    if (static_cast<std::size_t>(n) < want)
      return; // drained for now
  }
}

/// Pulls what was left inside libssh (this also reopens the window); false
/// when nothing more is there.
bool port_forwarding::drain_libssh(relay& r) {
  r.draining = true;
  int n = ssh_channel_read_nonblocking(
    r.ch(), io_buffer(), static_cast<uint32_t>(io_buffer_size), 0);
  r.draining = false;
  if (n <= 0) {
    r.lib_pending = false;
    if (n < 0)
      mark_dead(r);
    return false;
  }
  r.out.assign(io_buffer(), static_cast<std::size_t>(n));
  metrics::add_forwarded_bytes(metrics::direction::from_instance,
                               static_cast<std::uint64_t>(n));
  return true;
}

void port_forwarding::on_writable(relay& r) {
  for (;;) {
    while (!r.out.empty()) {
      auto n = send(r.v.socket.get(), r.out.data(), r.out.size(),
                    MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (!would_block(errno))
          mark_dead(r);
        return; // when it would block, EPOLLOUT stays armed
      }
      r.out.erase(0, static_cast<std::size_t>(n));
    }
    if (!r.lib_pending || r.dead || !drain_libssh(r))
      break;
  }
  if (r.out.empty())
    watch(r, r.events & ~EPOLLOUT);
  if (r.chan_eof)
    blocked_.insert(&r);
}

void port_forwarding::maybe_finish(relay& r) {
  if (r.dead)
    return;
  if (r.sock_eof && r.in.empty() && !r.eof_sent) {
    ssh_channel_send_eof(r.ch());
    r.eof_sent = true;
  }
  if (r.chan_eof && r.out.empty() && !r.lib_pending && !r.shut_wr) {
    shutdown(r.v.socket.get(), SHUT_WR);
    r.shut_wr = true;
  }
  if (r.eof_sent && r.shut_wr)
    mark_dead(r); // both directions done: close the channel
}

// ---------------------------------------------------------------------------
// after each round

/// True once the channel is open; false while it is still opening (the
/// relay stays blocked) or was refused (the relay is dead).
bool port_forwarding::finish_opening(relay& r) {
  if (r.open)
    return true;
  if (!ssh_channel_is_open(r.ch())) {
    // Still opening or refused: asking libssh polls the session socket,
    // so do it only now and then.
    auto now = clock_type::now();
    if (now - r.last_open_check < open_check_interval) {
      blocked_.insert(&r);
      tick_ms_ = std::min(tick_ms_, 100);
      return false;
    }
    r.last_open_check = now;
    int rc = ssh_channel_open_reverse_forward(
      r.ch(), r.address.c_str(), r.v.port, r.v.ip.c_str(), r.v.peer_port);
    if (rc == SSH_AGAIN) {
      blocked_.insert(&r);
      tick_ms_ = std::min(tick_ms_, 100);
      return false;
    }
    if (rc != SSH_OK) {
      mark_dead(r);
      return false;
    }
  }
  // Confirmed (usually seen without a syscall: the event loop read the
  // reply).
  r.open = true;
  watch(r, EPOLLIN | (r.out.empty() ? 0u : EPOLLOUT));
  return true;
}

void port_forwarding::service_one(relay& r) {
  if (!finish_opening(r))
    return;
  push_to_channel(r);
  if (r.dead)
    return;
  if (!r.in.empty()) {
    if (ssh_channel_window_size(r.ch()) == 0) {
      window_waiters_.insert(&r);
    } else {
      blocked_.insert(&r); // key re-exchange in progress
      tick_ms_ = std::min(tick_ms_, 10);
    }
    return;
  }
  if (!r.sock_eof && !(r.events & EPOLLIN))
    watch(r, r.events | EPOLLIN);
  maybe_finish(r); // an unfinished flush resumes from on_writable
}

void port_forwarding::wake_window_waiters() {
  for (auto it = window_waiters_.begin(); it != window_waiters_.end();) {
    if ((*it)->dead || ssh_channel_window_size((*it)->ch()) > 0) {
      blocked_.insert(*it);
      it = window_waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

int port_forwarding::service() {
  tick_ms_ = 1000;
  wake_window_waiters();
  std::vector<relay*> todo(blocked_.begin(), blocked_.end());
  blocked_.clear();
  for (auto* r : todo)
    if (relays_.count(r) && !r->dead)
      service_one(*r);
  reap();
  return tick_ms_;
}

void port_forwarding::reap() {
  if (graveyard_.empty())
    return;
  for (auto* r : graveyard_) {
    auto it = relays_.find(r);
    if (it == relays_.end())
      continue;
    blocked_.erase(r);
    window_waiters_.erase(r);
    // Closes the channel and the visitor's socket (which leaves the epoll
    // set with it).
    relays_.erase(it);
  }
  graveyard_.clear();
  if (relays_.empty())
    buffer_.reset();
}

void port_forwarding::close_all() {
  for (auto& [r, owned] : relays_)
    mark_dead(*r);
  reap();
}

} // namespace fogbow::tunnel
