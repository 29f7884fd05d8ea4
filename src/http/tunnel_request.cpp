#include "http/tunnel_request.hpp"

#include "util/encoding.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace fogbow::tunnel_request {

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    out.emplace_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  return out;
}

std::optional<std::string>
credential(const std::optional<std::string>& x_auth_token,
           std::string_view authorization) {
  if (x_auth_token)
    return x_auth_token;
  if (authorization.rfind("Basic ", 0) == 0) {
    auto decoded = base64_decode(authorization.substr(6));
    auto colon = decoded.find(':');
    if (colon != std::string::npos)
      return decoded.substr(colon + 1);
  }
  return std::nullopt;
}

std::optional<int> port_segment(std::string_view segment) {
  int port = 0;
  const auto* end = segment.data() + segment.size();
  auto [ptr, ec] = std::from_chars(segment.data(), end, port);
  if (segment.empty() || segment.front() == '-' || ec != std::errc{}
      || ptr != end || port < 1 || port > 65535)
    return std::nullopt;
  return port;
}

std::variant<std::string, body_error> register_body(std::string_view body) {
  using json = nlohmann::json;
  if (body.empty())
    return std::string{};
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()
      || (parsed.contains("secret") && !parsed["secret"].is_string()))
    return body_error{"body must be {\"secret\": \"...\"}"};
  for (auto& [k, v] : parsed.items())
    if (k != "secret")
      return body_error{"unknown field '" + k + "'"};
  return parsed.value("secret", std::string{});
}

} // namespace fogbow::tunnel_request
