#include "net/http_client.hpp"

#include <httplib.h>

#include <strings.h>

namespace fogbow {

namespace {

transport_failure failure_of(httplib::Error err) {
  switch (err) {
  case httplib::Error::Success:
    return transport_failure::none;
  case httplib::Error::Connection:
    return transport_failure::refused;
  case httplib::Error::ConnectionTimeout:
    return transport_failure::connect_timeout;
  case httplib::Error::Read:
    return transport_failure::no_answer;
  case httplib::Error::SSLConnection:
  case httplib::Error::SSLServerVerification:
  case httplib::Error::SSLLoadingCerts:
    return transport_failure::tls;
  default:
    return transport_failure::other;
  }
}

} // namespace

std::string http_result::header(std::string_view name) const {
  for (auto& [key, value] : headers)
    if (key.size() == name.size()
        && strncasecmp(key.data(), name.data(), name.size()) == 0)
      return value;
  return {};
}

std::optional<http_client> http_client::to(std::string_view base_url,
                                           http_options options) {
  auto base = parse_url(base_url);
  if (!base)
    return std::nullopt;
  return http_client{std::move(*base), std::move(options)};
}

http_result http_client::request(std::string_view method,
                                 const std::string& path,
                                 const http_headers& headers,
                                 const std::string& body) const {
  http_result out;
  httplib::Client cli{base_.origin};
  cli.set_connection_timeout(options_.timeout);
  cli.set_read_timeout(options_.timeout);
  cli.set_write_timeout(options_.timeout);
  cli.enable_server_certificate_verification(options_.verify_tls);
  if (!options_.ca_cert_file.empty())
    cli.set_ca_cert_path(options_.ca_cert_file.c_str());
  httplib::Headers hs{{"Accept", "application/json"}};
  for (auto& [k, v] : options_.default_headers)
    hs.emplace(k, v);
  for (auto& [k, v] : headers)
    hs.emplace(k, v);
  auto target = base_.prefix + path;
  if (target.empty())
    target = "/";
  constexpr auto json_type = "application/json";
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET")
    res = cli.Get(target, hs);
  else if (method == "POST")
    res = cli.Post(target, hs, body, json_type);
  else if (method == "PUT")
    res = cli.Put(target, hs, body, json_type);
  else if (method == "PATCH")
    res = cli.Patch(target, hs, body, json_type);
  else if (method == "DELETE")
    res = cli.Delete(target, hs);
  else {
    out.transport_error = "unsupported method " + std::string{method};
    out.failure = transport_failure::other;
    return out;
  }
  if (!res) {
    out.transport_error = httplib::to_string(res.error());
    out.failure = failure_of(res.error());
    return out;
  }
  out.status = res->status;
  out.body = std::move(res->body);
  out.headers.assign(res->headers.begin(), res->headers.end());
  return out;
}

http_result http_call(const std::string& url, std::string_view method,
                      const http_headers& headers, const std::string& body,
                      const http_options& options) {
  auto client = http_client::to(url, options);
  if (!client) {
    http_result out;
    out.transport_error = "not an http(s) URL: " + url;
    out.failure = transport_failure::other;
    return out;
  }
  return client->request(method, {}, headers, body);
}

} // namespace fogbow
