#include "http/tunnel_api.hpp"

#include "actors/errors.hpp"
#include "http/http_common.hpp"
#include "http/tunnel_request.hpp"
#include "util/encoding.hpp"
#include "util/log_safe.hpp"

#include <caf/all.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace fogbow {

namespace {

using json = nlohmann::json;

void text(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "text/plain");
}

} // namespace

struct tunnel_api::impl {
  caf::actor_system& sys;
  tunnel_allocator_actor allocator;
  tunnel_api_config cfg;
  httplib::Server server;
  listen_thread listening;
  std::mutex lifecycle;

  impl(caf::actor_system& sys, tunnel_allocator_actor allocator,
       tunnel_api_config cfg)
      : sys(sys), allocator(std::move(allocator)), cfg(std::move(cfg)) {
    configure_server(server, this->cfg.threads, std::size_t{64} * 1024);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      try {
        route(req, res);
      } catch (const std::exception& e) {
        spdlog::error("tunnel api: {} {}: {}", log_safe(req.method),
                      log_safe(req.path), log_safe(e.what()));
        text(res, 500, "Internal error");
      }
    };
    // httplib 0.11 waits for the peer to close on a POST without
    // Content-Length (what `curl -X POST` sends): answer those at once.
    server.set_pre_routing_handler(
      [handler](const httplib::Request& req, httplib::Response& res) {
        if (req.has_header("Content-Length")
            || req.has_header("Transfer-Encoding"))
          return httplib::Server::HandlerResponse::Unhandled;
        handler(req, res);
        return httplib::Server::HandlerResponse::Handled;
      });
    server.Get(".*", handler);
    server.Post(".*", handler);
    server.Delete(".*", handler);
    server.Put(".*", handler);
  }

  /// The secret the request carries (X-Auth-Token or Basic password).
  std::optional<std::string> credential(const httplib::Request& req) {
    std::optional<std::string> x_auth_token;
    if (req.has_header("X-Auth-Token"))
      x_auth_token = req.get_header_value("X-Auth-Token");
    return tunnel_request::credential(x_auth_token,
                                      req.get_header_value("Authorization"));
  }

  template <class T, class... Ts>
  std::optional<T> ask(httplib::Response& res, caf::error* err, Ts&&... xs) {
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

  void fail(httplib::Response& res, const caf::error& e) {
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

  enum class who { nobody, manager, instance };

  /// Manager, the instance of `token`'s family, or nobody (401/403 sent).
  who authorize(const httplib::Request& req, httplib::Response& res,
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

  void route(const httplib::Request& req, httplib::Response& res) {
    auto seg = tunnel_request::path_segments(req.path);
    const auto& m = req.method;
    if (seg.size() == 1 && seg[0] == "hostkey" && m == "GET") {
      auto sp = cfg.host_key.find(' ');
      return text(res, 200,
                  sp == std::string::npos ? cfg.host_key
                                          : cfg.host_key.substr(sp + 1));
    }
    if (seg.size() == 1 && seg[0] == "informations" && m == "GET") {
      if (authorize(req, res, {}) != who::manager)
        return;
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
    if (seg.size() < 2 || seg.size() > 3 || seg[0] != "token" || seg[1].empty())
      return text(res, seg.size() >= 1 && seg[0] == "token" ? 400 : 404,
                  seg.size() >= 1 && seg[0] == "token" ? "token id missing"
                                                       : "no such resource");
    const auto& id = seg[1];
    auto caller = authorize(req, res, id);
    if (caller == who::nobody)
      return;
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
  auto& cfg = impl_->cfg;
  return impl_->listening.start(impl_->server, cfg.bind_address, cfg.port,
                                cfg.listen_backlog, "tunnel API ");
}

void tunnel_api::stop() {
  std::lock_guard guard{impl_->lifecycle};
  impl_->listening.stop(impl_->server);
}

} // namespace fogbow
