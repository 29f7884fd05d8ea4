// The one HTTP client of fogbow: cpp-httplib set up the same way for the
// CLI, the cloud API libraries and the tunnel client (timeouts on connect,
// read and write; TLS verification; JSON bodies). Every call BLOCKS, so
// actors call it only from detached or worker actors.
#pragma once

#include "net/url.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fogbow {

using http_headers = std::vector<std::pair<std::string, std::string>>;

struct http_options {
  /// Applies to connecting, to reading and to writing, each.
  std::chrono::milliseconds timeout{30000};
  bool verify_tls = true;
  http_headers default_headers; ///< sent with every request
  /// PEM file of the CAs that https:// servers are checked against;
  /// empty: the system's CAs.
  std::string ca_cert_file;
};

/// Why a request got no answer at all.
enum class transport_failure : std::uint8_t {
  none,            ///< there is an answer (any status)
  refused,         ///< could not connect
  connect_timeout, ///< no connection within the timeout
  no_answer,       ///< connected, but the answer did not come (in time)
  tls,             ///< TLS handshake or certificate check failed
  other,
};

/// What a blocking HTTP call returned. `status` 0 = no answer at all.
struct http_result {
  int status = 0;
  std::string body;
  std::string transport_error; ///< why there was no answer, readable
  transport_failure failure = transport_failure::none;
  http_headers headers; ///< of the answer

  /// The first answer header named `name` (any case), or "".
  std::string header(std::string_view name) const;
};

/// Requests to one base URL. Each request opens its own connection, so one
/// client may serve several threads.
class http_client {
public:
  /// nullopt unless `base_url` is an http(s) URL (see parse_url).
  static std::optional<http_client> to(std::string_view base_url,
                                       http_options options = {});

  /// GET, POST, PUT, PATCH or DELETE of the base URL's path + `path`
  /// ("/" when both are empty). Sends "Accept: application/json"; a body
  /// goes as application/json. Never throws: a failure is in the result.
  http_result request(std::string_view method, const std::string& path,
                      const http_headers& headers = {},
                      const std::string& body = {}) const;

private:
  http_client(split_url base, http_options options)
      : base_(std::move(base)), options_(std::move(options)) {}

  split_url base_;
  http_options options_;
};

/// One request to a full URL; a URL that is not http(s) is a transport
/// failure (status 0) naming it.
http_result http_call(const std::string& url, std::string_view method,
                      const http_headers& headers, const std::string& body,
                      const http_options& options);

} // namespace fogbow
