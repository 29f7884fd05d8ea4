#include "http/tunnel_api.hpp"

#include "actors/errors.hpp"
#include "http/http_server.hpp"
#include "http/metrics_endpoint.hpp"
#include "http/tunnel_request.hpp"
#include "util/encoding.hpp"
#include "util/log_safe.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace fogbow {

namespace {

using json = nlohmann::json;

void text(http_response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "text/plain");
}

std::string_view status_text(int status) {
  switch (status) {
  case 413:
    return "Request body too large";
  case 414:
    return "Request target too long";
  case 415:
    return "Content-Encoding must be identity";
  case 500:
    return "Internal error";
  default:
    return "Bad request";
  }
}

} // namespace

struct tunnel_api::impl : http_handler {
  caf::actor_system& sys;
  tunnel_allocator_actor allocator;
  tunnel_api_config cfg;
  std::mutex lifecycle;
  http_server server; ///< last: stopped before the rest goes

  enum class who { nobody, manager, instance };

  impl(caf::actor_system& sys, tunnel_allocator_actor allocator,
       tunnel_api_config cfg)
      : sys(sys), allocator(std::move(allocator)), cfg(std::move(cfg)),
        server(server_config(this->cfg), *this) {}

  ~impl() override { server.stop(); }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  static http_server_config server_config(const tunnel_api_config& cfg) {
    http_server_config out;
    out.bind_address = cfg.bind_address;
    out.port = cfg.port;
    out.listen_backlog = cfg.listen_backlog;
    out.threads = cfg.threads;
    out.max_body_bytes = std::size_t{64} * 1024;
    out.transport = cfg.transport;
    out.name = "tunnel API";
    out.metrics_label = "tunnel";
    return out;
  }

  // Routes and authenticates before the body; the caller goes to serve().
  std::optional<http_response> admit(http_request& req) override {
    http_response res;
    try {
      auto caller = admit_route(req, res);
      if (!caller)
        return res;
      req.context = *caller;
      return std::nullopt;
    } catch (const std::exception& e) {
      spdlog::error("tunnel api: {} {}: {}", log_safe(req.method),
                    log_safe(req.path), log_safe(e.what()));
      return error_response(500);
    }
  }

  http_response serve(http_request& req) override {
    http_response res;
    try {
      route(req, std::any_cast<who>(req.context), res);
    } catch (const std::exception& e) {
      spdlog::error("tunnel api: {} {}: {}", log_safe(req.method),
                    log_safe(req.path), log_safe(e.what()));
      return error_response(500);
    }
    return res;
  }

  http_response error_response(int status) override {
    http_response res;
    text(res, status, std::string{status_text(status)});
    return res;
  }

  /// The secret the request carries (X-Auth-Token or Basic password).
  std::optional<std::string> credential(const http_request& req) {
    std::optional<std::string> x_auth_token;
    if (req.has_header("X-Auth-Token"))
      x_auth_token = req.header("X-Auth-Token");
    return tunnel_request::credential(x_auth_token,
                                      req.header("Authorization"));
  }

  template <class T, class... Ts>
  std::optional<T> ask(http_response& res, caf::error* err, Ts&&... xs) {
    std::optional<T> out;
    caf::scoped_actor self{sys};
    self->request(allocator, cfg.actor_timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); },
               [&](caf::error& e) {
                 if (err)
                   *err = e;
                 else
                   fail(res, e);
               });
    return out;
  }

  void fail(http_response& res, const caf::error& e) {
    switch (code_of(e)) {
    case errc::not_found:
      return text(res, 404, message_of(e));
    case errc::unauthorized:
      return text(res, 403, message_of(e));
    case errc::invalid_argument:
      return text(res, 400, message_of(e));
    case errc::no_capacity:
      return text(res, 403, message_of(e));
    case errc::conflict: // a per-token quota (see tunnel_allocator.hpp)
      res.status = 429;
      return res.set_content(
        json{
          {"error", {{"code", "quota_exceeded"}, {"message", message_of(e)}}}}
          .dump(),
        "application/json");
    default:
      break;
    }
    text(res, 503, "tunnel allocator unavailable: " + message_of(e));
  }

  /// Manager, the instance of `token`'s family, or nobody (401/403 sent).
  who authorize(const http_request& req, http_response& res,
                const std::string& token) {
    auto secret = credential(req);
    if (!secret || secret->empty()) {
      res.set_header("WWW-Authenticate", "Basic realm=\"fogbow-tunnel\"");
      text(res, 401, "credentials required (X-Auth-Token or Basic)");
      return who::nobody;
    }
    if (same_secret(*secret, cfg.manager_secret))
      return who::manager;
    if (token.empty()) {
      text(res, 403, "only the manager may do this");
      return who::nobody;
    }
    caf::error err;
    auto base =
      ask<std::string>(res, &err, atom::tunnel_auth_v, token, *secret);
    if (!base) {
      if (code_of(err) == errc::unauthorized || code_of(err) == errc::none)
        text(res, 403, "this credential does not own token " + token);
      else
        fail(res, err);
      return who::nobody;
    }
    return who::instance;
  }

  std::string pair(int port) {
    return std::to_string(port) + ":" + std::to_string(cfg.ssh_port);
  }

  /// Who asks, once the path is known: nullopt with the answer in `res`
  /// (404, 400, 401, 403) when the request goes no further.
  std::optional<who> admit_route(const http_request& req, http_response& res) {
    auto seg = tunnel_request::path_segments(req.path);
    if (seg.size() == 1 && seg[0] == "hostkey" && req.method == "GET")
      return who::nobody; // open to anyone
    if (cfg.metrics && req.path == metrics_path)
      return who::nobody; // like the manager's: for the operator's scraper
    if (seg.size() == 1 && seg[0] == "informations" && req.method == "GET") {
      auto caller = authorize(req, res, {});
      if (caller == who::nobody)
        return std::nullopt;
      return caller;
    }
    if (seg.size() < 2 || seg.size() > 3 || seg[0] != "token"
        || seg[1].empty()) {
      text(res, seg.size() >= 1 && seg[0] == "token" ? 400 : 404,
           seg.size() >= 1 && seg[0] == "token" ? "token id missing"
                                                : "no such resource");
      return std::nullopt;
    }
    auto caller = authorize(req, res, seg[1]);
    if (caller == who::nobody)
      return std::nullopt;
    return caller;
  }

  void route(const http_request& req, who caller, http_response& res) {
    auto seg = tunnel_request::path_segments(req.path);
    const auto& m = req.method;
    if (cfg.metrics && req.path == metrics_path) {
      res = metrics_response(m);
      return;
    }
    if (seg.size() == 1 && seg[0] == "hostkey" && m == "GET") {
      auto sp = cfg.host_key.find(' ');
      return text(res, 200,
                  sp == std::string::npos ? cfg.host_key
                                          : cfg.host_key.substr(sp + 1));
    }
    if (seg.size() == 1 && seg[0] == "informations" && m == "GET") {
      if (caller != who::manager)
        return text(res, 403, "only the manager may do this");
      auto list =
        ask<std::vector<tunnel_token_info>>(res, nullptr, atom::list_v);
      if (!list)
        return;
      json out = json::array();
      for (auto& t : *list)
        out.push_back({{"token", t.id},
                       {"port", t.port},
                       {"ssh-server-port", cfg.ssh_port},
                       {"active", t.active}});
      res.status = 200;
      return res.set_content(out.dump(), "application/json");
    }
    if (seg.size() < 2 || seg[0] != "token")
      return text(res, 405, "");
    const auto& id = seg[1];
    if (seg.size() == 2 && m == "POST") {
      std::string secret;
      if (caller == who::manager) {
        auto body = tunnel_request::register_body(req.body);
        if (auto* e = std::get_if<tunnel_request::body_error>(&body))
          return text(res, 400, e->message);
        secret = std::get<std::string>(body);
      }
      auto port =
        caller == who::manager
          ? ask<int>(res, nullptr, atom::tunnel_register_v, id, secret)
          : ask<int>(res, nullptr, atom::tunnel_allocate_v, id);
      if (port)
        text(res, 200, pair(*port));
      return;
    }
    if (seg.size() == 3 && seg[2] == "key" && m == "POST") {
      auto key = cfg.parse_key ? cfg.parse_key(req.body) : std::nullopt;
      if (!key)
        return text(res, 400, "body must be one OpenSSH public key line");
      if (auto port = ask<int>(res, nullptr, atom::tunnel_set_key_v, id, *key))
        text(res, 200, pair(*port));
      return;
    }
    if (seg.size() == 2 && m == "GET") {
      if (auto port = ask<int>(res, nullptr, atom::get_v, id))
        text(res, 200, std::to_string(*port));
      return;
    }
    if (seg.size() == 3 && seg[2] == "all" && m == "GET") {
      auto fam =
        ask<tunnel_family_ports>(res, nullptr, atom::tunnel_family_v, id);
      if (!fam)
        return;
      json out = json::object();
      for (auto& [name, port] : fam->ports)
        out[name] = port;
      res.status = 200;
      return res.set_content(out.dump(), "application/json");
    }
    if (seg.size() == 3 && m == "DELETE") {
      auto port = tunnel_request::port_segment(seg[2]);
      caf::error err;
      if (port
          && ask<atom::ok>(res, &err, atom::erase_v, id, *port).has_value())
        return text(res, 200, "OK");
      if (code_of(err) == errc::storage_failure)
        return fail(res, err);
      return text(res, 405, "Token can not delete this port");
    }
    if (seg.size() == 2 && m == "DELETE") {
      if (caller != who::manager)
        return text(res, 403, "only the manager may release a token family");
      if (ask<atom::ok>(res, nullptr, atom::tunnel_release_v, id))
        text(res, 200, "OK");
      return;
    }
    text(res, 405, "");
  }
};

tunnel_api::tunnel_api(caf::actor_system& sys, tunnel_allocator_actor allocator,
                       tunnel_api_config cfg)
    : impl_(std::make_unique<impl>(sys, std::move(allocator), std::move(cfg))) {
}

tunnel_api::~tunnel_api() {
  stop();
}

int tunnel_api::start() {
  std::lock_guard guard{impl_->lifecycle};
  return impl_->server.start();
}

void tunnel_api::stop() {
  std::lock_guard guard{impl_->lifecycle};
  impl_->server.stop();
}

} // namespace fogbow
