// The [http] deadlines and connection limits plus a TLS pair, as the HTTP
// servers of the manager and of the tunnel take them.
#pragma once

#include "http/http_server.hpp"
#include "roles/config.hpp"

#include <string>

namespace fogbow {

/// `cert_file` and `key_file` (both or neither) are read here; throws
/// std::runtime_error naming `keys` ("http.tls") and the file when one
/// cannot be read or holds no PEM.
http_transport_config http_transport(const http_settings& http,
                                     const std::string& cert_file,
                                     const std::string& key_file,
                                     const std::string& keys);

} // namespace fogbow
