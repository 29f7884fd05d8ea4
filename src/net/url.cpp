#include "net/url.hpp"

#include <algorithm>
#include <cctype>

namespace fogbow {

std::optional<split_url> parse_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return std::nullopt;
  std::string scheme{url.substr(0, scheme_end)};
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "http" && scheme != "https")
    return std::nullopt;
  auto rest = url.substr(scheme_end + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (authority.empty())
    return std::nullopt;
  split_url r;
  r.origin = scheme + "://" + std::string{authority};
  if (slash != std::string_view::npos)
    r.prefix = std::string{rest.substr(slash)};
  while (!r.prefix.empty() && r.prefix.back() == '/')
    r.prefix.pop_back();
  return r;
}

} // namespace fogbow
