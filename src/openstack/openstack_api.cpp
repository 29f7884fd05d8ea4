#include "openstack/openstack_api.hpp"

#include "domain/errors.hpp"
#include "util/encoding.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace fogbow {

namespace {

using json = nlohmann::json;

constexpr const char* nova_microversion = "2.47"; // flavor inline in servers

std::shared_ptr<spdlog::logger> log() {
  static auto logger = [] {
    auto existing = spdlog::get("openstack");
    return existing ? existing : spdlog::default_logger()->clone("openstack");
  }();
  return logger;
}

http_options http_options_of(const openstack_endpoint_config& cfg) {
  return {
    std::chrono::milliseconds{cfg.request_timeout_ms}, cfg.verify_tls, {}, {}};
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  return to_lower(haystack).find(to_lower(needle)) != std::string::npos;
}

std::string join_url(const std::string& base, const std::string& path) {
  if (base.empty())
    return path;
  if (!base.empty() && base.back() == '/' && !path.empty()
      && path.front() == '/')
    return base.substr(0, base.size() - 1) + path;
  return base + path;
}

} // namespace

// -- JSON helpers shared by the OpenStack API files
// ----------------------------

std::string to_lower(std::string_view s) {
  std::string r{s};
  std::transform(r.begin(), r.end(), r.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return r;
}

int json_int_or(const nlohmann::json& j, const char* key, int fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number())
    return fallback;
  return it->get<int>();
}

std::string json_string_or(const nlohmann::json& j, const char* key,
                           std::string fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return fallback;
  return it->get<std::string>();
}

nlohmann::json parse_json_object(std::string_view body, std::string_view what) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw cloud_failure(errc::cloud_error,
                        std::string{what}
                          + ": the cloud answered with something "
                            "that is not a JSON object");
  return j;
}

void parse_absolute_limits(std::string_view body, std::string_view what,
                           std::initializer_list<absolute_limit> limits) {
  auto j = parse_json_object(body, what);
  auto l = j.find("limits");
  if (l == j.end() || !l->is_object() || !l->contains("absolute")
      || !(*l)["absolute"].is_object())
    throw cloud_failure(errc::cloud_error,
                        std::string{what}
                          + ": no 'absolute' limits in the answer");
  auto& a = (*l)["absolute"];
  for (auto& limit : limits) {
    limit.total = json_int_or(a, limit.total_key, -1);
    limit.used = json_int_or(a, limit.used_key, 0);
  }
}

/// Nova and Keystone timestamps: "2026-11-24T22:05:27.000000Z" or without
/// a zone ("2026-11-24T22:05:27Z" / "2026-11-24T22:05:27").
millis parse_cloud_time(const std::string& text) {
  if (text.empty())
    return 0;
  std::string t = text;
  bool has_zone = t.back() == 'Z' || t.find('+', 10) != std::string::npos
                  || t.find('-', 10) != std::string::npos;
  if (!has_zone)
    t += 'Z';
  // parse_iso8601 accepts up to millisecond precision digits? Trim the
  // fraction to 3 digits to be safe.
  auto dot = t.find('.');
  if (dot != std::string::npos) {
    auto end = dot + 1;
    while (end < t.size() && std::isdigit(static_cast<unsigned char>(t[end])))
      ++end;
    if (end - dot - 1 > 3)
      t.erase(dot + 4, end - dot - 4);
  }
  return parse_iso8601(t).value_or(0);
}

// -- HTTP answers ------------------------------------------------------------

std::string cloud_message(std::string_view body) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto m = json_string_or(j, "message"); !m.empty())
      return m;
    for (auto& [key, value] : j.items())
      if (value.is_object()) {
        if (auto m = json_string_or(value, "message"); !m.empty())
          return m;
      }
    if (auto it = j.find("NeutronError"); it != j.end() && it->is_object())
      return json_string_or(*it, "message");
  }
  // Plain text or HTML: strip tags, squeeze blanks, shorten.
  std::string text;
  bool in_tag = false;
  for (char c : body) {
    if (c == '<')
      in_tag = true;
    else if (c == '>')
      in_tag = false;
    else if (!in_tag) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!text.empty() && text.back() != ' ')
          text += ' ';
      } else {
        text += c;
      }
    }
  }
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  if (text.size() > 300)
    text = text.substr(0, 300) + "…";
  return text;
}

errc classify_http_error(int status, std::string_view message) {
  switch (status) {
  case 401:
    return errc::unauthorized;
  case 403:
    return contains_ci(message, "quota exceeded") ? errc::no_capacity
                                                  : errc::cloud_error;
  case 413: // old Nova "overLimit"
    return errc::no_capacity;
  case 404:
    return errc::not_found;
  case 400:
    return errc::invalid_argument;
  case 409: // Neutron: {"NeutronError": {"type": "OverQuota", …}}
    return contains_ci(message, "quota exceeded") ? errc::no_capacity
                                                  : errc::conflict;
  default:
    return errc::cloud_error;
  }
}

void throw_http_failure(const http_result& r, std::string_view what) {
  if (r.status == 0)
    throw cloud_failure(errc::cloud_error, std::string{what}
                                             + ": the cloud did not answer ("
                                             + r.transport_error + ")");
  auto msg = cloud_message(r.body);
  auto code = classify_http_error(r.status, msg);
  std::string text =
    std::string{what} + " failed (HTTP " + std::to_string(r.status) + ")";
  if (!msg.empty())
    text += ": " + msg;
  throw cloud_failure(code, text);
}

bool is_no_valid_host(std::string_view fault) {
  return contains_ci(fault, "no valid host");
}

// -- Keystone ----------------------------------------------------------------

keystone_token parse_token(std::string_view body, const std::string& interface,
                           const std::string& region) {
  auto j = parse_json_object(body, "Keystone token");
  auto t = j.find("token");
  if (t == j.end() || !t->is_object())
    throw cloud_failure(errc::cloud_error, "Keystone answered without a token");
  keystone_token k;
  k.expires_at = parse_cloud_time(json_string_or(*t, "expires_at"));
  k.issued_at = parse_cloud_time(json_string_or(*t, "issued_at"));
  if (auto u = t->find("user"); u != t->end() && u->is_object()) {
    k.user_id = json_string_or(*u, "id");
    k.user_name = json_string_or(*u, "name");
  }
  if (auto p = t->find("project"); p != t->end() && p->is_object())
    k.project_id = json_string_or(*p, "id");
  if (auto c = t->find("catalog"); c != t->end() && c->is_array())
    for (auto& svc : *c) {
      if (!svc.is_object())
        continue;
      auto type = json_string_or(svc, "type");
      auto eps = svc.find("endpoints");
      if (type.empty() || eps == svc.end() || !eps->is_array())
        continue;
      for (auto& ep : *eps) {
        if (!ep.is_object() || json_string_or(ep, "interface") != interface)
          continue;
        if (!region.empty() && json_string_or(ep, "region") != region
            && json_string_or(ep, "region_id") != region)
          continue;
        k.endpoints.emplace(type, json_string_or(ep, "url"));
        break;
      }
    }
  return k;
}

std::string password_auth_body(const openstack_account& a) {
  json project;
  if (!a.project_id.empty())
    project = {{"id", a.project_id}};
  else
    project = {{"name", a.project_name},
               {"domain", {{"name", a.project_domain}}}};
  json body = {{"auth",
                {{"identity",
                  {{"methods", {"password"}},
                   {"password",
                    {{"user",
                      {{"name", a.username},
                       {"domain", {{"name", a.user_domain}}},
                       {"password", a.password}}}}}}},
                 {"scope", {{"project", project}}}}}};
  return body.dump();
}

keystone_session::keystone_session(openstack_endpoint_config cfg,
                                   openstack_account account)
    : cfg_(std::move(cfg)), account_(std::move(account)) {}

std::string keystone_session::describe() const {
  return account_.username + "@"
         + (account_.project_id.empty() ? account_.project_name
                                        : account_.project_id);
}

keystone_token keystone_session::authenticate() {
  auto url = join_url(cfg_.auth_url, "/auth/tokens");
  auto r = http_call(url, "POST", {}, password_auth_body(account_),
                     http_options_of(cfg_));
  if (r.status != 0)
    ++token_requests_;
  if (r.status == 401) {
    auto msg = cloud_message(r.body);
    auto text = "Keystone refused the credentials of " + describe()
                + " (HTTP 401)" + (msg.empty() ? "" : ": " + msg);
    log()->error("{}", text);
    throw cloud_failure(errc::unauthorized, text);
  }
  if (r.status < 200 || r.status >= 300)
    throw_http_failure(r, "Keystone authentication of " + describe());
  auto token = parse_token(r.body, cfg_.interface, cfg_.region);
  token.value = r.header("X-Subject-Token");
  if (token.value.empty())
    throw cloud_failure(errc::cloud_error,
                        "Keystone answered without an X-Subject-Token header");
  return token;
}

keystone_token keystone_session::token() {
  std::lock_guard guard{mtx_};
  auto now = now_millis();
  if (token_) {
    auto lifetime = token_->expires_at - token_->issued_at;
    // A margin as long as the token's life would renew on every call:
    // keep at least 2 % of the lifetime between renewals.
    auto margin = std::min<std::int64_t>(cfg_.renew_before_ms,
                                         lifetime > 0 ? lifetime * 49 / 50
                                                      : cfg_.renew_before_ms);
    if (token_->expires_at == 0 || now < token_->expires_at - margin)
      return *token_;
    log()->info("renewing the token of {} ({} s before it expires)", describe(),
                (token_->expires_at - now) / 1000);
  }
  token_ = authenticate();
  log()->info("new Keystone token for {} (request #{}), valid until {}",
              describe(), token_requests_.load(),
              format_iso8601(token_->expires_at));
  return *token_;
}

void keystone_session::invalidate(const std::string& value) {
  std::lock_guard guard{mtx_};
  if (token_ && token_->value == value)
    token_.reset();
}

std::string keystone_session::endpoint(const std::string& service_type) {
  if (auto it = cfg_.overrides.find(service_type); it != cfg_.overrides.end())
    return it->second;
  auto t = token();
  auto it = t.endpoints.find(service_type);
  if (it == t.endpoints.end() || it->second.empty())
    throw cloud_failure(
      errc::cloud_error,
      "the service catalog has no " + cfg_.interface + " endpoint for '"
        + service_type + "'"
        + (cfg_.region.empty() ? "" : " in region " + cfg_.region));
  return it->second;
}

bool keystone_session::has_endpoint(const std::string& service_type) {
  if (cfg_.overrides.count(service_type))
    return true;
  auto t = token();
  auto it = t.endpoints.find(service_type);
  return it != t.endpoints.end() && !it->second.empty();
}

http_result keystone_session::call(
  const std::string& service_type, const std::string& method,
  const std::string& path, const std::string& body,
  const std::vector<std::pair<std::string, std::string>>& headers) {
  for (int attempt = 0;; ++attempt) {
    auto t = token();
    auto base = endpoint(service_type);
    auto hs = headers;
    hs.emplace_back("X-Auth-Token", t.value);
    auto r =
      http_call(join_url(base, path), method, hs, body, http_options_of(cfg_));
    if (r.status == 401 && attempt == 0) {
      log()->warn("{} {} answered 401 for {}: re-authenticating once", method,
                  service_type, describe());
      invalidate(t.value);
      continue;
    }
    return r;
  }
}

// -- Nova / Glance -----------------------------------------------------------

instance_state map_server_status(std::string_view status) {
  auto s = to_lower(status);
  if (s == "active")
    return instance_state::running;
  if (s == "error")
    return instance_state::failed;
  if (s == "deleted" || s == "soft_deleted")
    return instance_state::lost;
  // SHUTOFF/STOPPED/PAUSED/SUSPENDED: the VM exists but does not run.
  if (s == "shutoff" || s == "stopped" || s == "paused" || s == "suspended"
      || s == "shelved" || s == "shelved_offloaded")
    return instance_state::failed;
  return instance_state::spawning; // BUILD, REBUILD, REBOOT, MIGRATING, …
}

instance server_to_instance(const json& s) {
  instance x;
  x.id = json_string_or(s, "id");
  x.state = map_server_status(json_string_or(s, "status"));
  if (auto m = s.find("metadata"); m != s.end() && m->is_object())
    x.order_id = json_string_or(*m, "fogbow-order-id");
  if (auto f = s.find("flavor"); f != s.end() && f->is_object()) {
    x.size.name = json_string_or(*f, "original_name", json_string_or(*f, "id"));
    x.size.vcpu = json_int_or(*f, "vcpus", -1);
    x.size.memory_mb = json_int_or(*f, "ram", -1);
    x.size.disk_gb = json_int_or(*f, "disk", -1);
  }
  if (auto i = s.find("image"); i != s.end() && i->is_object())
    x.image = json_string_or(*i, "id");
  x.created_at = parse_cloud_time(json_string_or(s, "created"));
  // IP: the first fixed address (IPv4 preferred), else accessIPv4.
  std::string v4, v6;
  if (auto a = s.find("addresses"); a != s.end() && a->is_object())
    for (auto& [net, list] : a->items()) {
      if (!list.is_array())
        continue;
      for (auto& addr : list) {
        if (!addr.is_object())
          continue;
        auto ip = json_string_or(addr, "addr");
        if (ip.empty())
          continue;
        if (json_int_or(addr, "version", 4) == 6) {
          if (v6.empty())
            v6 = ip;
        } else if (v4.empty()) {
          v4 = ip;
        }
      }
    }
  x.ip = !v4.empty() ? v4 : !v6.empty() ? v6 : json_string_or(s, "accessIPv4");
  if (x.state == instance_state::failed) {
    if (auto f = s.find("fault"); f != s.end() && f->is_object())
      x.fault = json_string_or(*f, "message");
    if (x.fault.empty())
      x.fault = "server is " + json_string_or(s, "status");
  }
  return x;
}

cloud_resources parse_limits(std::string_view body) {
  cloud_resources r;
  parse_absolute_limits(
    body, "limits",
    {{"maxTotalCores", "totalCoresUsed", r.vcpu_total, r.vcpu_used},
     {"maxTotalRAMSize", "totalRAMUsed", r.memory_mb_total, r.memory_mb_used},
     {"maxTotalInstances", "totalInstancesUsed", r.instances_total,
      r.instances_used}});
  return r;
}

std::vector<nova_flavor> parse_flavors(std::string_view body) {
  auto j = parse_json_object(body, "flavors");
  std::vector<nova_flavor> out;
  auto fl = j.find("flavors");
  if (fl == j.end() || !fl->is_array())
    throw cloud_failure(errc::cloud_error,
                        "flavors: no 'flavors' list in the answer");
  for (auto& f : *fl) {
    if (!f.is_object())
      continue;
    if (auto d = f.find("OS-FLV-DISABLED:disabled");
        d != f.end() && d->is_boolean() && d->get<bool>())
      continue;
    nova_flavor nf;
    nf.id = json_string_or(f, "id");
    nf.size.name = json_string_or(f, "name", nf.id);
    nf.size.vcpu = json_int_or(f, "vcpus", 0);
    nf.size.memory_mb = json_int_or(f, "ram", 0);
    nf.size.disk_gb = json_int_or(f, "disk", 0);
    if (!nf.id.empty())
      out.push_back(std::move(nf));
  }
  return out;
}

openstack_cloud::openstack_cloud(std::shared_ptr<keystone_session> session,
                                 std::string member_id, std::string network_id,
                                 std::string default_image)
    : session_(std::move(session)), member_id_(std::move(member_id)),
      network_id_(std::move(network_id)),
      default_image_(std::move(default_image)) {}

namespace {

std::vector<std::pair<std::string, std::string>> nova_headers() {
  return {{"X-OpenStack-Nova-API-Version", nova_microversion}};
}

http_result checked(http_result r, std::string_view what) {
  if (r.status < 200 || r.status >= 300)
    throw_http_failure(r, what);
  return r;
}

} // namespace

std::vector<nova_flavor> openstack_cloud::flavors() {
  {
    std::lock_guard guard{mtx_};
    if (!flavors_.empty() && now_millis() - flavors_at_ < 60000)
      return flavors_;
  }
  auto r = checked(
    session_->call("compute", "GET", "/flavors/detail", {}, nova_headers()),
    "list flavors");
  auto fl = parse_flavors(r.body);
  std::lock_guard guard{mtx_};
  flavors_ = fl;
  flavors_at_ = now_millis();
  return fl;
}

std::string openstack_cloud::image_id(const std::string& wanted) {
  auto name = wanted.empty() ? default_image_ : wanted;
  if (name.empty())
    throw cloud_failure(
      errc::invalid_argument,
      "the order names no image and the driver has no default image");
  {
    std::lock_guard guard{mtx_};
    if (auto it = images_.find(name); it != images_.end())
      return it->second;
  }
  // By id first (a UUID-looking name), then by name.
  std::string found;
  if (name.size() == 36 && std::count(name.begin(), name.end(), '-') == 4) {
    auto r =
      session_->call("image", "GET", "/v2/images/" + percent_encode(name));
    if (r.status == 200)
      found = json_string_or(parse_json_object(r.body, "image"), "id");
    else if (r.status != 404)
      throw_http_failure(r, "look up image " + name);
  }
  if (found.empty()) {
    auto r = checked(
      session_->call("image", "GET", "/v2/images?name=" + percent_encode(name)),
      "look up image " + name);
    auto j = parse_json_object(r.body, "images");
    if (auto im = j.find("images"); im != j.end() && im->is_array())
      for (auto& i : *im)
        if (i.is_object() && json_string_or(i, "status") == "active") {
          found = json_string_or(i, "id");
          break;
        }
  }
  if (found.empty())
    throw cloud_failure(errc::invalid_argument,
                        "the cloud has no active image named or with id '"
                          + name + "'");
  std::lock_guard guard{mtx_};
  images_[name] = found;
  return found;
}

std::string openstack_cloud::create_server(const instance_spec& spec,
                                           const nova_flavor& f) {
  auto image = image_id(spec.image);
  json server = {
    {"name", "fogbow-" + spec.order_id},
    {"imageRef", image},
    {"flavorRef", f.id},
    {"metadata",
     {{"fogbow-order-id", spec.order_id}, {"fogbow-member", member_id_}}}};
  if (network_id_.empty())
    server["networks"] = "none";
  else
    server["networks"] = json::array({{{"uuid", network_id_}}});
  if (!spec.user_data.empty())
    server["user_data"] = base64_encode(spec.user_data);
  // The order's SSH key becomes a Nova keypair named after the order.
  bool with_key = !spec.public_key.empty();
  if (with_key) {
    json kp = {
      {"keypair",
       {{"name", "fogbow-" + spec.order_id}, {"public_key", spec.public_key}}}};
    auto k = session_->call("compute", "POST", "/os-keypairs", kp.dump(),
                            nova_headers());
    if (k.status != 409) // 409: imported by an earlier attempt of this order
      checked(k, "import the order's public key");
    server["key_name"] = "fogbow-" + spec.order_id;
  }
  http_result r;
  try {
    r = checked(session_->call("compute", "POST", "/servers",
                               json{{"server", server}}.dump(), nova_headers()),
                "create server");
  } catch (const cloud_failure&) {
    if (with_key)
      delete_keypair(spec.order_id);
    throw;
  }
  auto j = parse_json_object(r.body, "create server");
  auto id = j.contains("server") && j["server"].is_object()
              ? json_string_or(j["server"], "id")
              : std::string{};
  if (id.empty())
    throw cloud_failure(errc::cloud_error,
                        "create server: Nova returned no server id");
  return id;
}

std::optional<instance> openstack_cloud::get_server(const std::string& id) {
  auto r = session_->call("compute", "GET", "/servers/" + percent_encode(id),
                          {}, nova_headers());
  if (r.status == 404)
    return std::nullopt;
  checked(r, "get server " + id);
  auto j = parse_json_object(r.body, "get server");
  if (!j.contains("server") || !j["server"].is_object())
    throw cloud_failure(errc::cloud_error,
                        "get server: no server in the answer");
  return server_to_instance(j["server"]);
}

std::vector<instance> openstack_cloud::list_servers() {
  std::vector<instance> out;
  std::string path =
    "/servers/detail?name=" + percent_encode("^fogbow-") + "&limit=1000";
  for (int page = 0; page < 100; ++page) {
    auto r = checked(session_->call("compute", "GET", path, {}, nova_headers()),
                     "list servers");
    auto j = parse_json_object(r.body, "list servers");
    auto servers = j.find("servers");
    if (servers == j.end() || !servers->is_array())
      throw cloud_failure(errc::cloud_error,
                          "list servers: no server list in the answer");
    std::string last;
    for (auto& s : *servers) {
      if (!s.is_object())
        continue;
      last = json_string_or(s, "id");
      auto m = s.find("metadata");
      if (m == s.end() || !m->is_object()
          || json_string_or(*m, "fogbow-member") != member_id_)
        continue;
      out.push_back(server_to_instance(s));
      // Nova's listing leaves out the fault of an ERROR server: ask for it.
      if (out.back().state == instance_state::failed && !s.contains("fault")) {
        try {
          if (auto one = get_server(out.back().id); one && !one->fault.empty())
            out.back().fault = one->fault;
        } catch (const cloud_failure&) {
          // keep "server is ERROR"
        }
      }
    }
    if (servers->size() < 1000 || last.empty())
      break;
    path = "/servers/detail?name=" + percent_encode("^fogbow-")
           + "&limit=1000&marker=" + percent_encode(last);
  }
  return out;
}

void openstack_cloud::delete_server(const std::string& id) {
  auto r = session_->call("compute", "DELETE", "/servers/" + percent_encode(id),
                          {}, nova_headers());
  checked(r, "delete server " + id);
}

void openstack_cloud::delete_keypair(const std::string& order_id) noexcept {
  try {
    session_->call("compute", "DELETE",
                   "/os-keypairs/" + percent_encode("fogbow-" + order_id), {},
                   nova_headers());
  } catch (...) {
    // best effort: a leftover keypair holds no resources
  }
}

cloud_resources openstack_cloud::limits() {
  auto r =
    checked(session_->call("compute", "GET", "/limits", {}, nova_headers()),
            "read limits");
  return parse_limits(r.body);
}

} // namespace fogbow
