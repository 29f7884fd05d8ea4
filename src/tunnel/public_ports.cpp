#include "tunnel/public_ports.hpp"

#include "tunnel/ssh_session.hpp"

#include <cerrno>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace fogbow::tunnel {

public_ports::public_ports(std::string bind_address)
    : bind_address_(std::move(bind_address)),
      thread_([this](std::uint64_t tag) {
        return accept_visitors(static_cast<int>(tag));
      }) {}

void public_ports::start() {
  thread_.start();
}

void public_ports::stop() {
  thread_.stop();
  std::lock_guard guard{mtx_};
  stopped_ = true;
  ports_.clear();
}

bool public_ports::claim(int port,
                         const std::shared_ptr<tunnel_session>& session) {
  std::lock_guard guard{mtx_};
  if (stopped_ || session->closing())
    return false; // an ending session would never release it
  auto it = ports_.find(port);
  if (it != ports_.end()) {
    auto previous = std::exchange(it->second.holder, session);
    // Takeover: the old session (often a dead one that has not noticed
    // yet) is closed; its other ports go with it.
    if (previous && previous != session)
      previous->close();
    return true;
  }
  std::string error;
  auto socket = listen_tcp(bind_address_, port, error);
  if (!socket)
    return false;
  thread_.watch(socket.get(), static_cast<std::uint64_t>(port));
  ports_[port] = {std::move(socket), session};
  return true;
}

void public_ports::release(int port, const tunnel_session* session) {
  std::lock_guard guard{mtx_};
  auto it = ports_.find(port);
  if (it != ports_.end() && it->second.holder.get() == session)
    drop_locked(it);
}

void public_ports::release_all(const tunnel_session* session) {
  std::lock_guard guard{mtx_};
  for (auto it = ports_.begin(); it != ports_.end();) {
    auto next = std::next(it);
    if (it->second.holder.get() == session)
      drop_locked(it);
    it = next;
  }
}

void public_ports::close(int port) {
  std::shared_ptr<tunnel_session> holder;
  {
    std::lock_guard guard{mtx_};
    auto it = ports_.find(port);
    if (it == ports_.end())
      return;
    holder = it->second.holder;
    drop_locked(it);
  }
  if (holder)
    holder->close();
}

void public_ports::drop_locked(std::map<int, entry>::iterator it) {
  thread_.forget(it->second.socket.get());
  ports_.erase(it);
}

accept_status public_ports::accept_visitors(int port) {
  // Under the lock: the listening socket cannot be closed (and its number
  // reused) meanwhile, and the holder cannot change or go away.
  std::lock_guard guard{mtx_};
  auto it = ports_.find(port);
  if (it == ports_.end())
    return accept_status::drained;
  for (;;) {
    sockaddr_in sa{};
    socklen_t len = sizeof(sa);
    unique_fd fd{accept4(it->second.socket.get(),
                         reinterpret_cast<sockaddr*>(&sa), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC)};
    if (!fd)
      return accept_failure(errno);
    int yes = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
    it->second.holder->hand_visitor(
      {std::move(fd), port, ip, ntohs(sa.sin_port)});
  }
}

} // namespace fogbow::tunnel
