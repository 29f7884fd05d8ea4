#include "http/http_common.hpp"

#include <httplib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace fogbow {

void configure_server(httplib::Server& srv, int threads,
                      std::size_t max_body_bytes) {
  auto n = static_cast<size_t>(std::max(1, threads));
  srv.new_task_queue = [n] { return new httplib::ThreadPool(n); };
  srv.set_payload_max_length(max_body_bytes);
}

int listen_thread::start(httplib::Server& srv, const std::string& address,
                         int port, int backlog, const std::string& who) {
  // httplib 0.11 binds and listens with a fixed backlog of 5 and keeps the
  // socket private; the socket-options hook sees each socket it tries, the
  // last one is the bound one.
  auto bound_sock = std::make_shared<socket_t>(INVALID_SOCKET);
  srv.set_socket_options([bound_sock](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *bound_sock = sock;
  });
  int bound = port == 0 ? srv.bind_to_any_port(address)
                        : (srv.bind_to_port(address, port) ? port : -1);
  if (bound < 0)
    throw std::runtime_error(who + "cannot listen on " + address + ":"
                             + std::to_string(port));
  // On Linux, listen() on a listening socket sets its backlog anew.
  if (::listen(*bound_sock, std::max(1, backlog)) != 0)
    throw std::runtime_error(who + "cannot set the listen backlog on " + address
                             + ":" + std::to_string(bound) + ": "
                             + std::strerror(errno));
  thread_ = std::thread([this, &srv] {
    srv.listen_after_bind();
    returned_ = true;
  });
  while (!srv.is_running() && !returned_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

bool listen_thread::stop(httplib::Server& srv) {
  if (!thread_.joinable())
    return false;
  srv.stop();
  thread_.join();
  return true;
}

} // namespace fogbow
