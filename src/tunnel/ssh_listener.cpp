#include "tunnel/ssh_listener.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

namespace fogbow::tunnel {

namespace {

constexpr int listen_backlog = 1024;
constexpr std::uint64_t wake_tag = std::numeric_limits<std::uint64_t>::max();
/// How long a socket whose acceptor ran out of descriptors is left alone.
constexpr auto out_of_descriptors_pause = std::chrono::milliseconds(100);

} // namespace

unique_fd listen_tcp(const std::string& address, int port, std::string& error) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    error = "not an IPv4 address: " + address;
    return {};
  }
  unique_fd fd{socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (!fd) {
    error = std::string{"socket: "} + std::strerror(errno);
    return {};
  }
  int yes = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0
      || listen(fd.get(), listen_backlog) < 0) {
    error = "cannot listen on " + address + ":" + std::to_string(port) + ": "
            + std::strerror(errno);
    return {};
  }
  return fd;
}

accept_status accept_failure(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS
             || error == ENOMEM
           ? accept_status::out_of_descriptors
           : accept_status::drained;
}

int bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

// ---------------------------------------------------------------------------
// accept_thread

accept_thread::accept_thread(handler on_ready)
    : on_ready_(std::move(on_ready)) {}

accept_thread::~accept_thread() {
  stop();
}

void accept_thread::start() {
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  wake_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_ || !wake_)
    throw std::runtime_error(std::string{"SSH server: "}
                             + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_tag;
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
  thread_ = std::thread([this] { loop(); });
}

void accept_thread::stop() {
  if (!thread_.joinable() || stopping_.exchange(true))
    return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_.get(), &one, sizeof(one));
  thread_.join();
}

void accept_thread::watch(int fd, std::uint64_t tag) {
  std::lock_guard guard{mtx_};
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  fds_[tag] = fd;
}

void accept_thread::forget(int fd) {
  std::lock_guard guard{mtx_};
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  std::erase_if(fds_, [fd](auto& entry) { return entry.second == fd; });
  std::erase_if(resting_, [fd](auto& entry) { return entry.second == fd; });
}

void accept_thread::back_off(std::uint64_t tag) {
  std::lock_guard guard{mtx_};
  auto it = fds_.find(tag);
  if (it == fds_.end())
    return;
  epoll_event ev{};
  ev.events = 0; // still registered, but not reported until re-armed
  ev.data.u64 = tag;
  epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, it->second, &ev);
  resting_[tag] = it->second;
}

void accept_thread::rearm_resting() {
  std::lock_guard guard{mtx_};
  for (auto& [tag, fd] : resting_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
  }
  resting_.clear();
}

void accept_thread::loop() {
  using clock_type = std::chrono::steady_clock;
  auto rest_until = clock_type::time_point::max();
  epoll_event evs[64];
  while (!stopping_) {
    int timeout = -1;
    if (rest_until != clock_type::time_point::max())
      timeout = static_cast<int>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(
             rest_until - clock_type::now())
             .count()));
    int n = epoll_wait(epoll_.get(), evs, 64, timeout);
    if (clock_type::now() >= rest_until) {
      rearm_resting();
      rest_until = clock_type::time_point::max();
    }
    for (int i = 0; i < n; ++i) {
      auto tag = evs[i].data.u64;
      if (tag == wake_tag
          || on_ready_(tag) != accept_status::out_of_descriptors)
        continue;
      back_off(tag);
      rest_until =
        std::min(rest_until, clock_type::now() + out_of_descriptors_pause);
    }
  }
}

// ---------------------------------------------------------------------------
// ssh_listener

ssh_listener::ssh_listener(const ssh_server_config& cfg,
                           connection_handler on_connection)
    : cfg_(cfg), on_connection_(std::move(on_connection)),
      thread_([this](std::uint64_t) { return accept_all(); }) {}

int ssh_listener::start() {
  std::string error;
  socket_ = listen_tcp(cfg_.bind_address, cfg_.port, error);
  if (!socket_)
    throw std::runtime_error("SSH server: " + error);
  thread_.start();
  thread_.watch(socket_.get(), 0);
  return bound_port(socket_.get());
}

void ssh_listener::stop() {
  thread_.stop();
  socket_.reset();
}

/// Keep-alives and a user timeout notice a peer that vanished without a
/// FIN (a VM switched off) within about the idle timeout.
void ssh_listener::tune(int fd) const {
  int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes));
  int idle = std::max(5, cfg_.idle_timeout_s / 3), cnt = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
  unsigned user_timeout = static_cast<unsigned>(cfg_.idle_timeout_s) * 1000;
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
             sizeof(user_timeout));
}

accept_status ssh_listener::accept_all() {
  for (;;) {
    // Non-blocking: one login thread serves every connection until it has
    // logged in, so no write may wait for a peer.
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    unique_fd fd{accept4(socket_.get(), reinterpret_cast<sockaddr*>(&sa), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC)};
    if (!fd)
      return accept_failure(errno);
    tune(fd.get());
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
    on_connection_(std::move(fd), ip);
  }
}

} // namespace fogbow::tunnel
