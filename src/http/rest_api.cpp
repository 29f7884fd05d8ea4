#include "http/rest_api.hpp"

#include "actors/errors.hpp"
#include "http/http_server.hpp"
#include "http/json_codec.hpp"
#include "http/metrics_endpoint.hpp"
#include "http/openapi_document.hpp"
#include "http/paging_params.hpp"
#include "http/static_files.hpp"
#include "metrics/metrics.hpp"
#include "util/log_safe.hpp"

#include <caf/all.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#ifndef FOGBOW_VERSION
#define FOGBOW_VERSION "dev"
#endif

namespace fogbow {

namespace {

using json = nlohmann::json;

enum class resource {
  status,
  orders,
  order,
  instances, ///< GET /v1/{computes,volumes,networks,attachments}
  instance,  ///< ... /{id}
  members,
  quota,
  usage,
  member_usage,
  tokens,  ///< POST /v1/tokens: a password for a token
  openapi, ///< GET /v1/openapi.json: this API described (docs/openapi.yaml)
  metrics, ///< GET /metrics: Prometheus series (outside /v1: not the API's)
};

// Collections of instances, one per order kind: (path segment, kind).
constexpr std::array<std::pair<std::string_view, resource_kind>, 4>
  instance_collections{{
    {"computes", resource_kind::compute},
    {"volumes", resource_kind::volume},
    {"networks", resource_kind::network},
    {"attachments", resource_kind::attachment},
  }};

struct route {
  resource res;
  std::string id; ///< the {id} path segment, if the route has one
  resource_kind kind = resource_kind::compute; ///< instance routes
};

std::optional<route> match_route(std::string_view path) {
  if (path == metrics_path)
    return route{resource::metrics, {}};
  constexpr std::string_view prefix = "/v1/";
  if (!path.starts_with(prefix))
    return std::nullopt;
  path.remove_prefix(prefix.size());
  std::vector<std::string_view> seg;
  while (seg.size() < 4) {
    auto slash = path.find('/');
    seg.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      path = {};
      break;
    }
    path.remove_prefix(slash + 1);
  }
  if (!path.empty()
      || std::any_of(seg.begin(), seg.end(), [](auto s) { return s.empty(); }))
    return std::nullopt;
  auto id = seg.size() > 1 ? std::string{seg[1]} : std::string{};
  if (seg.size() == 1 && seg[0] == "status")
    return route{resource::status, {}};
  if (seg.size() == 1 && seg[0] == "orders")
    return route{resource::orders, {}};
  if (seg.size() == 2 && seg[0] == "orders")
    return route{resource::order, id};
  for (auto [name, kind] : instance_collections)
    if (seg[0] == name && seg.size() <= 2)
      return route{seg.size() == 1 ? resource::instances : resource::instance,
                   id, kind};
  if (seg.size() == 1 && seg[0] == "tokens")
    return route{resource::tokens, {}};
  if (seg.size() == 1 && seg[0] == "openapi.json")
    return route{resource::openapi, {}};
  if (seg.size() == 1 && seg[0] == "members")
    return route{resource::members, {}};
  if (seg.size() == 3 && seg[0] == "members" && seg[2] == "quota")
    return route{resource::quota, id};
  if (seg.size() == 1 && seg[0] == "usage")
    return route{resource::usage, {}};
  if (seg.size() == 3 && seg[0] == "members" && seg[2] == "usage")
    return route{resource::member_usage, id};
  return std::nullopt;
}

query_lookup query_of(const http_request& req) {
  return [&req](std::string_view name) { return req.query_value(name); };
}

void reply(http_response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

void reply_error(http_response& res, const api_error& e) {
  reply(res, e.http_status, error_to_json(e));
}

// Only application/json (any parameters, e.g. charset) or nothing at all.
bool is_json_content_type(std::string_view value) {
  auto media = value.substr(0, value.find(';'));
  auto first = media.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return false;
  media = media.substr(first, media.find_last_not_of(" \t") + 1 - first);
  constexpr std::string_view expected = "application/json";
  return media.size() == expected.size()
         && std::equal(
           media.begin(), media.end(), expected.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
}

std::shared_ptr<spdlog::logger> http_logger() {
  if (auto log = spdlog::get("http"))
    return log;
  try {
    return spdlog::stderr_color_mt("http");
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get("http"); // another thread registered it first
  }
}

// Bodies of the status codes the server answers by itself (malformed
// request, body over the limit, ...), so that every answer is JSON.
api_error error_for_status(int status, size_t max_body_bytes) {
  switch (status) {
  case 400:
    return {400, "bad_request", "malformed HTTP request"};
  case 404:
    return {404, "not_found", "no such resource"};
  case 413:
    return {413, "payload_too_large",
            "request body is larger than " + std::to_string(max_body_bytes)
              + " bytes"};
  case 414:
    return {414, "uri_too_long", "request target is too long"};
  case 415:
    return {415, "unsupported_media_type",
            "Content-Encoding must be identity (no compression)"};
  case 500:
    return {500, "internal", "internal error"};
  default:
    return {status, "http_" + std::to_string(status),
            "request failed with HTTP status " + std::to_string(status)};
  }
}

} // namespace

// One routed, authenticated request.
struct call {
  const http_request& req;
  std::string_view body;
  route target;
  user caller; ///< empty on routes open to anyone
};

struct rest_api::impl : http_handler {
  using handler = void (impl::*)(const call&, http_response&);

  struct endpoint {
    resource res;
    std::string_view method;
    std::string_view action; ///< empty: open to anyone, no token needed
    handler fn;
    resource_kind kind = resource_kind::compute; ///< instance routes only
  };

  static const std::array<endpoint, 24> endpoints;

  /// What admit() found, for serve().
  struct admitted {
    const endpoint* ep;
    route target;
    user caller;
  };

  caf::actor_system& sys;
  order_scheduler_actor scheduler;
  std::shared_ptr<const identity_plugin> identity;
  std::shared_ptr<const authorization_plugin> authorization;
  rest_api_config cfg;
  order_limits limits;
  std::shared_ptr<spdlog::logger> log = http_logger();
  std::mutex lifecycle; ///< serialises start() and stop()
  bool started = false;
  bool running = false;
  http_server server; ///< last: stopped before the rest goes

  impl(caf::actor_system& sys, order_scheduler_actor scheduler,
       std::shared_ptr<const identity_plugin> identity,
       std::shared_ptr<const authorization_plugin> authorization,
       rest_api_config cfg)
      : sys(sys), scheduler(std::move(scheduler)),
        identity(std::move(identity)), authorization(std::move(authorization)),
        cfg(std::move(cfg)), server(server_config(this->cfg), *this) {
    limits.max_count = this->cfg.max_count;
  }

  ~impl() override { server.stop(); }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  static http_server_config server_config(const rest_api_config& cfg) {
    http_server_config out;
    out.bind_address = cfg.bind_address;
    out.port = cfg.port;
    out.listen_backlog = cfg.listen_backlog;
    out.threads = cfg.threads;
    out.max_body_bytes = cfg.max_body_bytes;
    out.transport = cfg.transport;
    out.name = "REST API";
    out.metrics_label = "rest";
    return out;
  }

  // --- http_handler ---------------------------------------------------------

  // Before the body: its Content-Type, the route, the method, the token.
  std::optional<http_response> admit(http_request& req) override {
    http_response res;
    if (req.has_body && req.has_header("Content-Type")
        && !is_json_content_type(req.header("Content-Type"))) {
      reply_error(res, {415, "unsupported_media_type",
                        "Content-Type must be application/json"});
      return res;
    }
    if (!guarded(req, res, [&] { return admit_route(req, res); }))
      return res;
    return std::nullopt;
  }

  // Routing and the authorization plugins only compute; the identity
  // plugin says whether it waits (Keystone may).
  bool admit_may_block(const http_request&) const override {
    return identity->may_block();
  }

  http_response serve(http_request& req) override {
    http_response res;
    guarded(req, res, [&] {
      auto& a = std::any_cast<admitted&>(req.context);
      call c{req, req.body, std::move(a.target), std::move(a.caller)};
      (this->*a.ep->fn)(c, res);
      return true;
    });
    return res;
  }

  http_response error_response(int status) override {
    http_response res;
    reply_error(res, error_for_status(status, cfg.max_body_bytes));
    return res;
  }

  void completed(const http_request& req, int status,
                 std::size_t bytes) noexcept override {
    // The arguments are escaped before spdlog looks at the level: spare
    // that work on every request when nobody reads it.
    if (!log->should_log(spdlog::level::debug))
      return;
    try {
      log->debug("{} {} {} -> {} ({} bytes)", req.remote_address,
                 log_safe(req.method), log_safe(req.path), status, bytes);
    } catch (...) {
    }
  }

  // Runs `step`; whatever escapes becomes a JSON 500 with a generic
  // message (and false).
  template <class Step>
  bool guarded(const http_request& req, http_response& res,
               Step step) noexcept {
    try {
      return step();
    } catch (const std::exception& e) {
      log->error("{} {}: unexpected exception: {}", log_safe(req.method),
                 log_safe(req.path), log_safe(e.what()));
    } catch (...) {
      log->error("{} {}: unexpected exception", log_safe(req.method),
                 log_safe(req.path));
    }
    res = {};
    reply_error(res, {500, "internal", "internal error"});
    return false;
  }

  // Finds the endpoint and the caller; false with the answer in `res`
  // (404, 405, 401, 403) when there is none.
  bool admit_route(http_request& req, http_response& res) {
    auto r = match_route(req.path);
    if (r && r->res == resource::metrics && !cfg.metrics)
      r.reset();
    if (!r && is_dashboard_path(req.path)) {
      serve_dashboard(req, res);
      return false; // answered before any body, like a refusal
    }
    if (!r) {
      reply_error(res, {404, "not_found", "no such resource"});
      return false;
    }
    std::string_view method = req.method;
    if (method == "HEAD")
      method = "GET";
    const endpoint* ep = nullptr;
    std::string allow;
    for (auto& e : endpoints) {
      bool of_instances =
        r->res == resource::instances || r->res == resource::instance;
      if (e.res != r->res || (of_instances && e.kind != r->kind))
        continue;
      allow += allow.empty() ? "" : ", ";
      allow += e.method;
      if (e.method == method)
        ep = &e;
    }
    if (!ep) {
      res.set_header("Allow", allow);
      reply_error(res,
                  {405, "method_not_allowed",
                   req.method + " is not allowed here; allowed: " + allow});
      return false;
    }
    admitted a{ep, std::move(*r), {}};
    if (!ep->action.empty()) {
      auto u = authenticate(req, res);
      if (!u)
        return false;
      if (!authorization->is_authorized(*u, ep->action)) {
        reply_error(
          res, {403, "forbidden",
                "user '" + u->id + "' may not " + std::string{ep->action}});
        return false;
      }
      a.caller = std::move(*u);
    }
    req.context = std::move(a);
    return true;
  }

  // The dashboard's static files, open to anyone: they hold no data; the
  // page asks the API with the user's token like any other client.
  void serve_dashboard(const http_request& req, http_response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      return reply_error(res, {405, "method_not_allowed",
                               req.method
                                 + " is not allowed here; allowed: "
                                   "GET, HEAD"});
    }
    constexpr size_t max_file_bytes = 4 << 20;
    auto found = resolve_dashboard_file(cfg.dashboard_dir, req.path);
    auto body =
      found ? read_static_file(found->file, max_file_bytes) : std::nullopt;
    if (!body)
      return reply_error(res, {404, "not_found", "no such resource"});
    for (auto& [name, value] : dashboard_security_headers())
      res.set_header(name, value);
    res.status = 200;
    res.set_content(*body, std::string{found->content_type});
  }

  // Answers 401 itself when there is no valid token.
  std::optional<user> authenticate(const http_request& req,
                                   http_response& res) {
    auto n = req.header_count("X-Auth-Token");
    if (n != 1) {
      reply_error(res, {401, "unauthorized",
                        n == 0 ? "missing X-Auth-Token header"
                               : "more than one X-Auth-Token header"});
      return std::nullopt;
    }
    auto u = identity->authenticate(req.header("X-Auth-Token"));
    if (!u)
      reply_error(res, {401, "unauthorized", "invalid token"});
    return u;
  }

  /// `who`: the actor that was asked, as the user reads it.
  api_error to_api_error(const caf::error& e,
                         std::string_view who = "the order scheduler") const {
    switch (code_of(e)) {
    case errc::not_found:
      return {404, "not_found", message_of(e)};
    case errc::invalid_argument:
      return {400, "invalid_argument", message_of(e)};
    case errc::no_matching_flavor:
      return {400, "no_matching_flavor", message_of(e)};
    case errc::unauthorized:
      return {401, "unauthorized", message_of(e)};
    case errc::conflict:
      return {409, "conflict", message_of(e)};
    case errc::unsupported:
      return {501, "not_implemented", message_of(e)};
    case errc::cloud_error:
      return {502, "cloud_error", message_of(e)};
    case errc::no_capacity:
      return {503, "no_capacity", message_of(e)};
    case errc::storage_failure:
      return {503, "storage_failure", message_of(e)};
    case errc::unavailable:
      return {503, "unavailable", message_of(e)};
    case errc::timeout:
      return {504, "timeout", message_of(e)};
    case errc::none:
      break;
    }
    if (e == caf::sec::request_timeout)
      return {504, "timeout",
              std::string{who} + " did not answer within "
                + std::to_string(cfg.actor_timeout.count()) + " ms"};
    if (e == caf::sec::request_receiver_down)
      return {503, "unavailable", std::string{who} + " is not running"};
    log->error("unexpected error from {}: {}", who, log_safe(sys.render(e)));
    return {500, "internal", "internal error"};
  }

  // One blocking request to the scheduler; `on_reply` gets the reply, an
  // error becomes the matching JSON error answer.
  template <class OnReply, class... Ts>
  void ask(http_response& res, OnReply on_reply, Ts&&... xs) {
    caf::scoped_actor self{sys};
    self->request(scheduler, cfg.actor_timeout, std::forward<Ts>(xs)...)
      .receive(on_reply,
               [&](const caf::error& e) { reply_error(res, to_api_error(e)); });
  }

  template <class T, class F>
  static json array_of(const std::vector<T>& xs, F to_json) {
    json out = json::array();
    for (auto& x : xs)
      out.push_back(to_json(x));
    return out;
  }

  void get_status(const call&, http_response& res) {
    ask(
      res,
      [&](const status_report& s) {
        reply(res, 200,
              status_to_json(s, FOGBOW_VERSION, cfg.roles, now_millis()));
      },
      atom::status_v);
  }

  void create_orders(const call& c, http_response& res) {
    if (!c.req.has_header("Content-Length")
        && !c.req.has_header("Transfer-Encoding"))
      return reply_error(res,
                         {411, "length_required",
                          "a JSON body with a Content-Length is required"});
    auto parsed = parse_order_request(c.body, limits);
    if (auto e = std::get_if<api_error>(&parsed))
      return reply_error(res, *e);
    auto& request = std::get<order_request>(parsed);
    request.prototype.user_id = c.caller.id;
    request.prototype.user_name = c.caller.name;
    ask(
      res,
      [&](const std::vector<order>& os) {
        reply(res, 201, json{{"orders", array_of(os, order_to_json)}});
      },
      atom::create_v, std::move(request.prototype), request.count);
  }

  // Open to anyone: the plugin checks the password, throttles guessing,
  // and never logs either the password or the token; neither does this.
  void create_token(const call& c, http_response& res) {
    auto parsed = parse_login_request(c.body);
    if (auto e = std::get_if<api_error>(&parsed))
      return reply_error(res, *e);
    auto& creds = std::get<login_request>(parsed);
    auto r = identity->login(creds.user, creds.password, c.req.remote_address);
    using outcome = login_result::outcome;
    switch (r.result) {
    case outcome::ok:
      res.set_header("Cache-Control", "no-store");
      return reply(res, 201,
                   json{{"token", r.token},
                        {"expires_at", format_iso8601(r.expires_ms)},
                        {"user", {{"id", r.who.id}, {"name", r.who.name}}}});
    case outcome::refused:
      return reply_error(res,
                         {401, "unauthorized", "wrong user name or password"});
    case outcome::throttled:
      res.set_header("Retry-After", std::to_string(r.retry_after_s));
      return reply_error(res, {429, "too_many_requests",
                               "too many failed logins; retry in "
                                 + std::to_string(r.retry_after_s) + " s"});
    case outcome::unavailable:
      return reply_error(res, {503, "unavailable",
                               "the identity service ("
                                 + std::string{identity->name()}
                                 + ") cannot be reached; retry later"});
    case outcome::unsupported:
      break;
    }
    reply_error(res, {501, "not_implemented",
                      "the identity plugin " + std::string{identity->name()}
                        + " takes tokens, not passwords"});
  }

  // The order gauges are read from the scheduler at each scrape; the rest
  // is counted as it happens. Without its answer the series go out anyway:
  // a scrape must work when the manager is in trouble.
  void get_metrics(const call& c, http_response& res) {
    caf::scoped_actor self{sys};
    self->request(scheduler, cfg.actor_timeout, atom::status_v)
      .receive(
        [&](const status_report& s) {
          std::vector<metrics::order_count> counts;
          for (auto& c : s.orders)
            counts.push_back({std::string{to_string(c.kind)},
                              std::string{to_string(c.state)}, c.count});
          metrics::set_orders(counts);
          metrics::set_instances(s.instances);
        },
        [&](const caf::error& e) {
          log->warn("GET /metrics without order counts: {}",
                    log_safe(sys.render(e)));
        });
    res = metrics_response(c.req.method);
  }

  void get_openapi(const call&, http_response& res) {
    res.status = 200;
    res.set_content(std::string{openapi_json()}, "application/json");
  }

  // The page a list request asks for, or false with the 400 sent.
  bool read_page_query(const call& c, list_filters filters, page_query& q,
                       http_response& res) {
    auto parsed = parse_page_query(query_of(c.req), filters, cfg.max_page_size);
    if (auto e = std::get_if<api_error>(&parsed)) {
      reply_error(res, *e);
      return false;
    }
    q = std::get<page_query>(std::move(parsed));
    return true;
  }

  void list_orders(const call& c, http_response& res) {
    page_query q;
    if (!read_page_query(c, list_filters::orders, q, res))
      return;
    ask(
      res,
      [&](const page<order>& p) {
        auto last = p.items.empty() ? std::string{} : p.items.back().id;
        reply(res, 200,
              json{{"orders", array_of(p.items, order_to_json)},
                   {"links", page_links("/v1/orders", q, p.more, last)}});
      },
      atom::list_v, c.caller.id, q);
  }

  void get_order(const call& c, http_response& res) {
    ask(
      res, [&](const order& o) { reply(res, 200, order_to_json(o)); },
      atom::get_v, c.caller.id, c.target.id);
  }

  void delete_order(const call& c, http_response& res) {
    ask(
      res, [&](const order& o) { reply(res, 200, order_to_json(o)); },
      atom::erase_v, c.caller.id, c.target.id);
  }

  // The public addresses of compute instances, always present (null
  // until known): a remote instance brings the ones of its provider's
  // tunnel; local ones come from ours. A tunnel that does not answer
  // leaves them null rather than failing the request.
  json with_tunnel(const std::vector<instance>& xs) {
    json out = json::array();
    std::vector<std::string> ids;
    for (auto& x : xs) {
      auto j = instance_to_json(x);
      j["ssh_public_address"] = x.ssh_public_address.empty()
                                  ? json(nullptr)
                                  : json(x.ssh_public_address);
      j["extra_ports"] = json::object();
      for (auto& [name, addr] : x.extra_ports)
        j["extra_ports"][name] = addr;
      if (x.ssh_public_address.empty())
        ids.push_back(x.order_id);
      out.push_back(std::move(j));
    }
    if (!cfg.tunnel || ids.empty())
      return out;
    tunnel_addresses found;
    caf::scoped_actor self{sys};
    self->request(cfg.tunnel, cfg.actor_timeout, atom::tunnel_ports_v, ids)
      .receive([&](tunnel_addresses& a) { found = std::move(a); },
               [&](const caf::error& e) {
                 log->warn("tunnel addresses unavailable: {}", message_of(e));
               });
    for (auto& j : out)
      for (auto& e : found.entries)
        if (e.order_id == j["order_id"]) {
          j["ssh_public_address"] = e.ssh_public_address;
          for (auto& [name, addr] : e.extra_ports)
            j["extra_ports"][name] = addr;
        }
    return out;
  }

  json instances_to_json(resource_kind kind, const std::vector<instance>& xs) {
    if (kind == resource_kind::compute)
      return with_tunnel(xs);
    return array_of(xs, instance_to_json);
  }

  static std::string_view collection_name(resource_kind kind) {
    for (auto [name, k] : instance_collections)
      if (k == kind)
        return name;
    return "instances";
  }

  void list_instances(const call& c, http_response& res) {
    auto kind = c.target.kind;
    page_query q;
    if (!read_page_query(c, list_filters::instances, q, res))
      return;
    auto path = "/v1/" + std::string{collection_name(kind)};
    ask(
      res,
      [&](const page<instance>& p) {
        auto last = p.items.empty() ? std::string{} : p.items.back().id;
        reply(res, 200,
              json{{collection_name(kind), instances_to_json(kind, p.items)},
                   {"links", page_links(path, q, p.more, last)}});
      },
      atom::instances_v, c.caller.id, kind, q);
  }

  // The scheduler finds an instance of any kind; under another kind's
  // path it does not exist.
  std::optional<instance> find_instance(const call& c, http_response& res) {
    std::optional<instance> found;
    ask(
      res,
      [&](const instance& x) {
        if (x.kind == c.target.kind)
          found = x;
        else
          reply_error(res, {404, "not_found",
                            "no " + std::string{to_string(c.target.kind)} + " "
                              + c.target.id});
      },
      atom::instance_v, c.caller.id, c.target.id);
    return found;
  }

  void get_instance(const call& c, http_response& res) {
    if (auto x = find_instance(c, res))
      reply(res, 200, instances_to_json(x->kind, {*x})[0]);
  }

  void delete_instance(const call& c, http_response& res) {
    if (!find_instance(c, res))
      return;
    ask(
      res, [&](atom::ok) { res.status = 204; }, atom::erase_instance_v,
      c.caller.id, c.target.id);
  }

  // One blocking request to another actor than the scheduler; `who`
  // names it in errors.
  template <class Handle, class OnReply, class... Ts>
  void ask_other(const Handle& hdl, std::string_view who, http_response& res,
                 OnReply on_reply, Ts&&... xs) {
    caf::scoped_actor self{sys};
    self->request(hdl, cfg.actor_timeout, std::forward<Ts>(xs)...)
      .receive(on_reply, [&](const caf::error& e) {
        reply_error(res, to_api_error(e, who));
      });
  }

  // The member list is the federation's, not a user's, and holds at most
  // a few thousand entries: it is paged here, by id, not in the actors.
  void list_members(const call& c, http_response& res) {
    page_query q;
    if (!read_page_query(c, list_filters::none, q, res))
      return;
    auto on_reply = [&](const std::vector<member_info>& ms) {
      std::vector<const member_info*> all;
      all.reserve(ms.size());
      for (auto& m : ms)
        all.push_back(&m);
      std::sort(all.begin(), all.end(),
                [](auto* a, auto* b) { return a->id < b->id; });
      auto p = take_page(
        all, q, [](const member_info&) { return true; },
        [](const member_info& m) { return m.id; });
      if (!p)
        return reply_error(res, {400, "invalid_argument",
                                 "marker " + q.marker + " is not a member"});
      auto out = array_of(p->items, member_to_json);
      if (cfg.accounting && !add_exchanges(out, res))
        return;
      auto last = p->items.empty() ? std::string{} : p->items.back().id;
      reply(res, 200,
            json{{"members", std::move(out)},
                 {"links", page_links("/v1/members", q, p->more, last)}});
    };
    if (!cfg.members)
      ask(res, on_reply, atom::members_v);
    else
      ask_other(cfg.members, "the member registry", res, on_reply,
                atom::members_v);
  }

  // What passed between us and each listed member (vCPU·minutes, every
  // user) and our Network of Favors debt to it; false when the accounting
  // did not answer (the error is the reply).
  bool add_exchanges(json& members, http_response& res) {
    std::optional<fed::exchange_table> table;
    ask_other(
      cfg.accounting, "the accounting", res,
      [&](fed::exchange_table& t) { table = std::move(t); }, atom::exchanges_v);
    if (!table)
      return false;
    for (auto& m : members) {
      if (m["self"].get<bool>())
        continue;
      auto it = table->find(m["id"].get<std::string>());
      auto x = it == table->end() ? fed::member_exchange{} : it->second;
      m["consumed_vcpu_minutes"] = x.consumed;
      m["donated_vcpu_minutes"] = x.donated;
      m["debt"] = fed::nof_debt(x, cfg.nof);
    }
    return true;
  }

  // GET /v1/usage and /v1/members/{id}/usage: the caller's own use of
  // every cloud; an admin may name a user (`?user=ID`) or everyone
  // (`?user=*`), and then sees what other members' users used here too.
  void get_usage(const call& c, http_response& res) {
    if (!cfg.accounting)
      return reply_error(res, {501, "not_implemented", "no accounting"});
    auto who = c.req.query_value("user").value_or(c.caller.id);
    if (who.empty())
      return reply_error(
        res, {400, "invalid_argument", "user must be a user id or *"});
    bool admin =
      std::find(cfg.usage_admins.begin(), cfg.usage_admins.end(), c.caller.id)
      != cfg.usage_admins.end();
    if (who != c.caller.id && !admin)
      return reply_error(res, {403, "forbidden",
                               "only an accounting admin may see the usage "
                               "of other users"});
    const auto& self_id = cfg.member_id;
    const auto& member = c.target.id;
    auto involves_member = [&](const usage_record& r) {
      if (member == self_id)
        return r.requesting == self_id && r.providing == self_id;
      return member.empty() || r.requesting == member || r.providing == member;
    };
    auto on_rows = [&](std::vector<usage_record>& rows) {
      std::erase_if(rows, [&](const usage_record& r) {
        return !(admin || r.requesting == self_id) || !involves_member(r);
      });
      reply(res, 200,
            usage_to_json(rows, self_id, who,
                          c.target.id.empty() ? nullptr : &c.target.id));
    };
    ask_other(cfg.accounting, "the accounting", res, on_rows, atom::usage_v,
              who == "*" ? std::string{} : who);
  }

  void get_quota(const call& c, http_response& res) {
    ask(
      res, [&](const quota_report& q) { reply(res, 200, quota_to_json(q)); },
      atom::quota_v, c.caller.id, c.target.id);
  }
};

const std::array<rest_api::impl::endpoint, 24> rest_api::impl::endpoints{{
  {resource::status, "GET", {}, &impl::get_status},
  {resource::orders, "GET", action::order_read, &impl::list_orders},
  {resource::orders, "POST", action::order_create, &impl::create_orders},
  {resource::order, "GET", action::order_read, &impl::get_order},
  {resource::order, "DELETE", action::order_delete, &impl::delete_order},
  {resource::instances, "GET", action::compute_read, &impl::list_instances,
   resource_kind::compute},
  {resource::instance, "GET", action::compute_read, &impl::get_instance,
   resource_kind::compute},
  {resource::instance, "DELETE", action::compute_delete, &impl::delete_instance,
   resource_kind::compute},
  {resource::instances, "GET", action::volume_read, &impl::list_instances,
   resource_kind::volume},
  {resource::instance, "GET", action::volume_read, &impl::get_instance,
   resource_kind::volume},
  {resource::instance, "DELETE", action::volume_delete, &impl::delete_instance,
   resource_kind::volume},
  {resource::instances, "GET", action::network_read, &impl::list_instances,
   resource_kind::network},
  {resource::instance, "GET", action::network_read, &impl::get_instance,
   resource_kind::network},
  {resource::instance, "DELETE", action::network_delete, &impl::delete_instance,
   resource_kind::network},
  {resource::instances, "GET", action::attachment_read, &impl::list_instances,
   resource_kind::attachment},
  {resource::instance, "GET", action::attachment_read, &impl::get_instance,
   resource_kind::attachment},
  {resource::instance, "DELETE", action::attachment_delete,
   &impl::delete_instance, resource_kind::attachment},
  {resource::members, "GET", action::member_read, &impl::list_members},
  {resource::quota, "GET", action::quota_read, &impl::get_quota},
  {resource::usage, "GET", action::usage_read, &impl::get_usage},
  {resource::member_usage, "GET", action::usage_read, &impl::get_usage},
  {resource::tokens, "POST", {}, &impl::create_token},
  {resource::openapi, "GET", {}, &impl::get_openapi},
  {resource::metrics, "GET", {}, &impl::get_metrics},
}};

rest_api::rest_api(caf::actor_system& sys, order_scheduler_actor scheduler,
                   std::shared_ptr<const identity_plugin> identity,
                   std::shared_ptr<const authorization_plugin> authorization,
                   rest_api_config cfg)
    : impl_(std::make_unique<impl>(sys, std::move(scheduler),
                                   std::move(identity),
                                   std::move(authorization), std::move(cfg))) {}

rest_api::~rest_api() {
  stop();
}

int rest_api::start() {
  std::lock_guard guard{impl_->lifecycle};
  if (impl_->started)
    throw std::logic_error("rest_api::start called twice");
  impl_->started = true;
  int port = impl_->server.start();
  impl_->running = true;
  impl_->log->info("REST API listening on {}:{}{}", impl_->cfg.bind_address,
                   port,
                   impl_->cfg.transport.tls_cert_pem.empty() ? "" : " (HTTPS)");
  return port;
}

void rest_api::stop() {
  std::lock_guard guard{impl_->lifecycle};
  if (!impl_->running)
    return;
  impl_->server.stop();
  impl_->running = false;
  impl_->log->info("REST API stopped");
}

} // namespace fogbow
