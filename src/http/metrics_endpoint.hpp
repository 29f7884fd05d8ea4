// GET /metrics: the process's Prometheus series, on the REST and tunnel API
// ports and on a server of its own ([metrics] port) that answers nothing
// else, which is how a rendezvous (no other HTTP port) is scraped.
#pragma once

#include "http/http_server.hpp"

#include <memory>
#include <string_view>

namespace fogbow {

/// The path the series are served at.
inline constexpr std::string_view metrics_path = "/metrics";

/// The answer to `method` on metrics_path: 200 with the text exposition
/// for GET and HEAD, 405 (plain text, with Allow) for anything else.
http_response metrics_response(std::string_view method);

/// A server of GET /metrics alone (404 for every other path). No token:
/// bind it where only the scraper reaches it.
class metrics_server {
public:
  metrics_server(std::string bind_address, int port,
                 http_transport_config transport);
  ~metrics_server(); ///< stops it

  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Listens and serves; returns the bound port. Throws as
  /// http_server::start() does ("metrics server cannot listen on ...").
  int start();
  void stop();

private:
  class handler;
  std::unique_ptr<handler> handler_;
  http_server server_;
};

} // namespace fogbow
