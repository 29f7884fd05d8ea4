#include "http/http_common.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace fogbow {

void configure_server(httplib::Server& srv, int threads,
                      std::size_t max_body_bytes) {
  auto n = static_cast<size_t>(std::max(1, threads));
  srv.new_task_queue = [n] { return new httplib::ThreadPool(n); };
  srv.set_payload_max_length(max_body_bytes);
  srv.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
}

int listen_thread::start(httplib::Server& srv, const std::string& address,
                         int port, const std::string& who) {
  int bound = port == 0 ? srv.bind_to_any_port(address)
                        : (srv.bind_to_port(address, port) ? port : -1);
  if (bound < 0)
    throw std::runtime_error(who + "cannot listen on " + address + ":"
                             + std::to_string(port));
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
