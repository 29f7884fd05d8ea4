#include "roles/http_transport.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace fogbow {

http_transport_config http_transport(const http_settings& http,
                                     const std::string& cert_file,
                                     const std::string& key_file,
                                     const std::string& keys) {
  http_transport_config t;
  t.header_timeout = std::chrono::seconds{http.header_timeout_s};
  t.idle_timeout = std::chrono::seconds{http.idle_timeout_s};
  t.max_connections = http.max_connections;
  t.max_connections_per_address = http.max_connections_per_address;
  if (cert_file.empty() != key_file.empty())
    throw std::runtime_error("'" + keys + "_cert' and '" + keys
                             + "_key' go together: set both or neither");
  if (!cert_file.empty()) {
    t.tls_cert_pem = read_pem_file(cert_file, "'" + keys + "_cert'");
    t.tls_key_pem = read_pem_file(key_file, "'" + keys + "_key'");
    if (t.tls_key_pem.find("PRIVATE KEY-----") == std::string::npos
        || t.tls_key_pem.find("ENCRYPTED") != std::string::npos)
      throw std::runtime_error("'" + keys + "_key' " + key_file
                               + ": no unencrypted PEM private key in it");
  }
  return t;
}

std::unique_ptr<metrics_server> start_metrics_server(const fogbow_config& c) {
  if (c.metrics.port == 0)
    return nullptr;
  auto server = std::make_unique<metrics_server>(
    c.metrics.bind, c.metrics.port, http_transport(c.http, "", "", "metrics"));
  int port = server->start();
  spdlog::info("metrics on http://{}:{}{}", c.metrics.bind, port, metrics_path);
  return server;
}

} // namespace fogbow
