// The [http] deadlines and connection limits plus a TLS pair, as the HTTP
// servers of the manager and of the tunnel take them; and the [metrics]
// port's server, which every role may have.
#pragma once

#include "http/http_server.hpp"
#include "http/metrics_endpoint.hpp"
#include "roles/config.hpp"

#include <memory>
#include <string>

namespace fogbow {

/// `cert_file` and `key_file` (both or neither) are read here; throws
/// std::runtime_error naming `keys` ("http.tls") and the file when one
/// cannot be read or holds no PEM.
http_transport_config http_transport(const http_settings& http,
                                     const std::string& cert_file,
                                     const std::string& key_file,
                                     const std::string& keys);

/// The [metrics] port's server, started and logged; null when the port is
/// 0. Throws std::runtime_error when it cannot listen.
std::unique_ptr<metrics_server> start_metrics_server(const fogbow_config& c);

} // namespace fogbow
