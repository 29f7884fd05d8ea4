// URLs as the HTTP client uses them. cpp-httplib connects to
// "scheme://host[:port]" only; a path after it (an OpenStack service's
// version prefix, a manager behind a reverse proxy) becomes a prefix of
// every request path.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fogbow {

struct split_url {
  std::string origin; ///< scheme://host[:port], the scheme in lower case
  std::string prefix; ///< path without trailing '/', may be empty
};

/// Splits an http:// or https:// URL (the scheme in any case); nullopt for
/// any other scheme, a missing scheme or a missing host.
std::optional<split_url> parse_url(std::string_view url);

} // namespace fogbow
