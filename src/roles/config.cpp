#include "roles/config.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

namespace fogbow {

std::vector<flavor> default_flavors() {
  return {{"small", 1, 512, 10}, {"medium", 2, 1024, 20}, {"large", 4, 2048, 40}};
}

namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw std::runtime_error(origin + ": " + what);
}

/// Refuses keys a table should not have.
void check_keys(const toml::table& t, const std::set<std::string>& known,
                const std::string& where, const std::string& origin) {
  for (auto& [key, value] : t)
    if (!known.count(std::string{key.str()}))
      fail(origin, "unknown key '" + where + std::string{key.str()} + "'");
}

template <class T>
void read_int(const toml::table& t, const char* key, T& out, std::int64_t lo,
              std::int64_t hi, const std::string& where,
              const std::string& origin) {
  auto node = t.get(key);
  if (!node)
    return;
  auto v = node->value<std::int64_t>();
  if (!node->is_integer() || !v)
    fail(origin, "'" + where + key + "' must be an integer");
  if (*v < lo || *v > hi)
    fail(origin, "'" + where + key + "' must be between " + std::to_string(lo)
                   + " and " + std::to_string(hi));
  out = static_cast<T>(*v);
}

void read_string(const toml::table& t, const char* key, std::string& out,
                 const std::string& where, const std::string& origin) {
  auto node = t.get(key);
  if (!node)
    return;
  if (!node->is_string())
    fail(origin, "'" + where + key + "' must be a string");
  out = *node->value<std::string>();
}

const toml::table* sub_table(const toml::table& t, const char* key,
                             const std::string& where,
                             const std::string& origin) {
  auto node = t.get(key);
  if (!node)
    return nullptr;
  if (!node->is_table())
    fail(origin, "'" + where + key + "' must be a table");
  return node->as_table();
}

const toml::array* sub_array(const toml::table& t, const char* key,
                             const std::string& where,
                             const std::string& origin) {
  auto node = t.get(key);
  if (!node)
    return nullptr;
  if (!node->is_array())
    fail(origin, "'" + where + key + "' must be an array");
  return node->as_array();
}

constexpr std::int64_t int_max = std::numeric_limits<int>::max();

void read_driver(const toml::table& t, fogbow_config& c,
                 const std::string& origin) {
  const std::string w = "manager.driver.";
  check_keys(t, {"kind", "instances_dir", "ip", "vcpu", "memory_mb",
                 "instances", "flavors"},
             w, origin);
  read_string(t, "kind", c.driver_kind, w, origin);
  if (c.driver_kind != "local" && c.driver_kind != "instant")
    fail(origin, "'manager.driver.kind' must be \"local\" or \"instant\"");
  read_string(t, "instances_dir", c.driver_instances_dir, w, origin);
  read_string(t, "ip", c.driver_ip, w, origin);
  read_int(t, "vcpu", c.capacity.vcpu_total, 0, 1 << 20, w, origin);
  read_int(t, "memory_mb", c.capacity.memory_mb_total, 0, int_max, w, origin);
  read_int(t, "instances", c.capacity.instances_total, 0, 1 << 20, w, origin);
  if (auto flavors = sub_array(t, "flavors", w, origin)) {
    c.flavors.clear();
    for (auto& node : *flavors) {
      auto ft = node.as_table();
      if (!ft)
        fail(origin, "'manager.driver.flavors' entries must be tables");
      const std::string fw = "manager.driver.flavors[].";
      check_keys(*ft, {"name", "vcpu", "memory_mb", "disk_gb"}, fw, origin);
      flavor f;
      read_string(*ft, "name", f.name, fw, origin);
      if (f.name.empty())
        fail(origin, "every flavor needs a 'name'");
      read_int(*ft, "vcpu", f.vcpu, 1, 1 << 20, fw, origin);
      read_int(*ft, "memory_mb", f.memory_mb, 0, int_max, fw, origin);
      read_int(*ft, "disk_gb", f.disk_gb, 0, int_max, fw, origin);
      c.flavors.push_back(f);
    }
    if (c.flavors.empty())
      fail(origin, "'manager.driver.flavors' must not be empty");
  }
}

// --- tunnel (issue 4) ---

void read_tunnel(const toml::table& t, fogbow_config& c,
                 const std::string& origin) {
  const std::string w = "tunnel.";
  check_keys(t, {"ssh_bind", "ssh_port", "public_bind", "port_low",
                 "port_high", "http_bind", "http_port", "host_key",
                 "manager_secret", "idle_token_timeout_s", "client_timeout_s",
                 "login_timeout_s", "max_sessions"},
             w, origin);
  c.tunnel_configured = true;
  read_string(t, "ssh_bind", c.tunnel_ssh_bind, w, origin);
  read_int(t, "ssh_port", c.tunnel_ssh_port, 0, 65535, w, origin);
  read_string(t, "public_bind", c.tunnel_public_bind, w, origin);
  read_int(t, "port_low", c.tunnel_port_low, 1, 65535, w, origin);
  read_int(t, "port_high", c.tunnel_port_high, 1, 65535, w, origin);
  if (c.tunnel_port_high < c.tunnel_port_low)
    fail(origin, "'tunnel.port_high' must be >= 'tunnel.port_low'");
  read_string(t, "http_bind", c.tunnel_http_bind, w, origin);
  read_int(t, "http_port", c.tunnel_http_port, 0, 65535, w, origin);
  read_string(t, "host_key", c.tunnel_host_key, w, origin);
  read_string(t, "manager_secret", c.tunnel_manager_secret, w, origin);
  if (c.tunnel_manager_secret.size() < 16)
    fail(origin, "'tunnel.manager_secret' is required and must have at "
                 "least 16 characters");
  read_int(t, "idle_token_timeout_s", c.tunnel_idle_token_timeout_s, 0,
           365LL * 86400, w, origin);
  read_int(t, "client_timeout_s", c.tunnel_client_timeout_s, 5, 86400, w,
           origin);
  read_int(t, "login_timeout_s", c.tunnel_login_timeout_s, 1, 3600, w, origin);
  read_int(t, "max_sessions", c.tunnel_max_sessions, 1, 1000000, w, origin);
}

void read_manager_tunnel(const toml::table& t, fogbow_config& c,
                         const std::string& origin) {
  const std::string w = "manager.tunnel.";
  check_keys(t, {"url", "secret", "ssh_host", "public_host", "local_port"}, w,
             origin);
  c.manager_tunnel_configured = true;
  read_string(t, "url", c.manager_tunnel_url, w, origin);
  if (!c.manager_tunnel_url.starts_with("http://"))
    fail(origin, "'manager.tunnel.url' must be an http:// URL");
  read_string(t, "secret", c.manager_tunnel_secret, w, origin);
  if (c.manager_tunnel_secret.size() < 16)
    fail(origin, "'manager.tunnel.secret' must have at least 16 characters");
  read_string(t, "ssh_host", c.manager_tunnel_ssh_host, w, origin);
  read_string(t, "public_host", c.manager_tunnel_public_host, w, origin);
  if (c.manager_tunnel_ssh_host.empty() || c.manager_tunnel_public_host.empty())
    fail(origin, "'manager.tunnel' needs 'ssh_host' and 'public_host'");
  read_int(t, "local_port", c.manager_tunnel_local_port, 1, 65535, w, origin);
}

// --- federation (issue 3) ---

void read_bool(const toml::table& t, const char* key, bool& out,
               const std::string& where, const std::string& origin) {
  auto node = t.get(key);
  if (!node)
    return;
  if (!node->is_boolean())
    fail(origin, "'" + where + key + "' must be true or false");
  out = *node->value<bool>();
}

/// A full JID "user@domain/resource" without spaces.
void check_full_jid(const std::string& jid, const std::string& key,
                    const std::string& origin) {
  auto at = jid.find('@');
  auto slash = jid.find('/');
  if (at == std::string::npos || at == 0 || slash == std::string::npos
      || slash < at + 2 || slash + 1 == jid.size()
      || jid.find_first_of(" \t\r\n") != std::string::npos)
    fail(origin, "'" + key + "' must be a full JID like "
                 "\"user@xmpp.example/fogbow\"");
}

void read_xmpp(const toml::table& t, fogbow_config& c,
               const std::string& origin) {
  const std::string w = "xmpp.";
  check_keys(t, {"host", "port", "tls", "ignore_tls_errors",
                 "request_timeout_ms", "reconnect_max_ms"},
             w, origin);
  c.xmpp_configured = true;
  read_string(t, "host", c.xmpp_host, w, origin);
  if (c.xmpp_host.empty())
    fail(origin, "'xmpp.host' must not be empty");
  read_int(t, "port", c.xmpp_port, 1, 65535, w, origin);
  read_string(t, "tls", c.xmpp_tls, w, origin);
  if (c.xmpp_tls != "required" && c.xmpp_tls != "optional"
      && c.xmpp_tls != "disabled")
    fail(origin, "'xmpp.tls' must be \"required\", \"optional\" or "
                 "\"disabled\"");
  read_bool(t, "ignore_tls_errors", c.xmpp_ignore_tls_errors, w, origin);
  read_int(t, "request_timeout_ms", c.xmpp_request_timeout_ms, 100, 600000, w,
           origin);
  read_int(t, "reconnect_max_ms", c.xmpp_reconnect_max_ms, 250, 3600000, w,
           origin);
}

void read_federation(const toml::table& t, fogbow_config& c,
                     const std::string& origin) {
  const std::string w = "manager.federation.";
  check_keys(t, {"jid", "password", "rendezvous", "heartbeat_ms",
                 "page_size"},
             w, origin);
  c.federation_configured = true;
  read_string(t, "jid", c.federation_jid, w, origin);
  check_full_jid(c.federation_jid, w + "jid", origin);
  read_string(t, "password", c.federation_password, w, origin);
  read_string(t, "rendezvous", c.federation_rendezvous, w, origin);
  check_full_jid(c.federation_rendezvous, w + "rendezvous", origin);
  read_int(t, "heartbeat_ms", c.federation_heartbeat_ms, 100, 86400000, w,
           origin);
  read_int(t, "page_size", c.federation_page_size, 1, 10000, w, origin);
}

void read_rendezvous(const toml::table& t, fogbow_config& c,
                     const std::string& origin) {
  const std::string w = "rendezvous.";
  check_keys(t, {"jid", "password", "period_ms", "max_lost", "page_max",
                 "sync_page_max", "sync_interval_ms", "neighbors",
                 "whitelist", "whitelist_file"},
             w, origin);
  c.rendezvous_configured = true;
  read_string(t, "jid", c.rendezvous_jid, w, origin);
  check_full_jid(c.rendezvous_jid, w + "jid", origin);
  read_string(t, "password", c.rendezvous_password, w, origin);
  read_int(t, "period_ms", c.rendezvous_period_ms, 100, 86400000, w, origin);
  read_int(t, "max_lost", c.rendezvous_max_lost, 1, 1000, w, origin);
  read_int(t, "page_max", c.rendezvous_page_max, 1, 10000, w, origin);
  read_int(t, "sync_page_max", c.rendezvous_sync_page_max, 1, 10000, w,
           origin);
  read_int(t, "sync_interval_ms", c.rendezvous_sync_interval_ms, 100,
           86400000, w, origin);
  if (auto n = sub_array(t, "neighbors", w, origin))
    for (auto& node : *n) {
      auto v = node.value<std::string>();
      if (!v || !node.is_string())
        fail(origin, "'rendezvous.neighbors' must be a list of full JIDs");
      check_full_jid(*v, w + "neighbors[]", origin);
      c.rendezvous_neighbors.push_back(*v);
    }
  read_string(t, "whitelist", c.rendezvous_whitelist, w, origin);
  if (c.rendezvous_whitelist != "accept-any"
      && c.rendezvous_whitelist != "file")
    fail(origin, "'rendezvous.whitelist' must be \"accept-any\" or "
                 "\"file\"");
  read_string(t, "whitelist_file", c.rendezvous_whitelist_file, w, origin);
  if (c.rendezvous_whitelist == "file" && c.rendezvous_whitelist_file.empty())
    fail(origin, "'rendezvous.whitelist = \"file\"' needs "
                 "'rendezvous.whitelist_file'");
}

} // namespace

fogbow_config parse_config(const std::string& text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << e.description() << " (line " << e.source().begin.line << ", column "
        << e.source().begin.column << ")";
    fail(origin, msg.str());
  }
  fogbow_config c;
  c.flavors = default_flavors();
  check_keys(root, {"manager", "http", "identity", "authorization", "log",
                    "tunnel", "xmpp", "rendezvous"},
             "", origin);
  if (auto m = sub_table(root, "manager", "", origin)) {
    const std::string w = "manager.";
    check_keys(*m, {"member_id", "max_orders_per_request", "retry_initial_ms",
                    "retry_max_ms", "max_in_flight", "driver", "tunnel",
                    "federation"},
               w, origin);
    read_string(*m, "member_id", c.member_id, w, origin);
    if (c.member_id.empty() || c.member_id.find('@') != std::string::npos)
      fail(origin, "'manager.member_id' must be non-empty and contain no '@'");
    read_int(*m, "max_orders_per_request", c.max_orders_per_request, 1, 10000,
             w, origin);
    read_int(*m, "retry_initial_ms", c.retry_initial_ms, 10, 3600000, w,
             origin);
    read_int(*m, "retry_max_ms", c.retry_max_ms, 10, 86400000, w, origin);
    read_int(*m, "max_in_flight", c.max_in_flight, 1, 100000, w, origin);
    if (c.retry_max_ms < c.retry_initial_ms)
      fail(origin, "'manager.retry_max_ms' must be >= 'retry_initial_ms'");
    if (auto d = sub_table(*m, "driver", w, origin))
      read_driver(*d, c, origin);
    if (auto t = sub_table(*m, "tunnel", w, origin))
      read_manager_tunnel(*t, c, origin);
    if (auto f = sub_table(*m, "federation", w, origin))
      read_federation(*f, c, origin);
  }
  if (auto h = sub_table(root, "http", "", origin)) {
    const std::string w = "http.";
    check_keys(*h, {"bind", "port", "threads", "max_body_bytes", "timeout_ms"},
               w, origin);
    read_string(*h, "bind", c.http_bind, w, origin);
    read_int(*h, "port", c.http_port, 0, 65535, w, origin);
    read_int(*h, "threads", c.http_threads, 1, 256, w, origin);
    read_int(*h, "max_body_bytes", c.http_max_body_bytes, 1024, 64 << 20, w,
             origin);
    read_int(*h, "timeout_ms", c.http_timeout_ms, 100, 600000, w, origin);
  }
  if (auto id = sub_table(root, "identity", "", origin)) {
    const std::string w = "identity.";
    check_keys(*id, {"plugin", "users"}, w, origin);
    read_string(*id, "plugin", c.identity_plugin, w, origin);
    if (c.identity_plugin != "static-tokens")
      fail(origin, "'identity.plugin' must be \"static-tokens\"");
    if (auto users = sub_array(*id, "users", w, origin)) {
      std::set<std::string> ids;
      for (auto& node : *users) {
        auto ut = node.as_table();
        if (!ut)
          fail(origin, "'identity.users' entries must be tables");
        const std::string uw = "identity.users[].";
        check_keys(*ut, {"id", "name", "token"}, uw, origin);
        user_entry u;
        read_string(*ut, "id", u.id, uw, origin);
        read_string(*ut, "name", u.name, uw, origin);
        read_string(*ut, "token", u.token, uw, origin);
        if (u.id.empty() || u.token.empty())
          fail(origin, "every user needs an 'id' and a 'token'");
        if (u.token.size() < 8)
          fail(origin, "the token of user '" + u.id
                         + "' is shorter than 8 characters");
        if (!ids.insert(u.id).second)
          fail(origin, "user '" + u.id + "' is defined twice");
        if (u.name.empty())
          u.name = u.id;
        c.users.push_back(u);
      }
    }
  }
  if (auto a = sub_table(root, "authorization", "", origin)) {
    const std::string w = "authorization.";
    check_keys(*a, {"plugin", "users"}, w, origin);
    read_string(*a, "plugin", c.authorization_plugin, w, origin);
    if (c.authorization_plugin != "allow-all"
        && c.authorization_plugin != "user-whitelist")
      fail(origin, "'authorization.plugin' must be \"allow-all\" or "
                   "\"user-whitelist\"");
    if (auto users = sub_array(*a, "users", w, origin))
      for (auto& node : *users) {
        auto v = node.value<std::string>();
        if (!v)
          fail(origin, "'authorization.users' must be a list of user ids");
        c.authorized_users.push_back(*v);
      }
  }
  if (auto t = sub_table(root, "tunnel", "", origin))
    read_tunnel(*t, c, origin);
  if (auto l = sub_table(root, "log", "", origin)) {
    check_keys(*l, {"level"}, "log.", origin);
    read_string(*l, "level", c.log_level, "log.", origin);
  }
  if (auto x = sub_table(root, "xmpp", "", origin))
    read_xmpp(*x, c, origin);
  if (auto r = sub_table(root, "rendezvous", "", origin))
    read_rendezvous(*r, c, origin);
  if ((c.federation_configured || c.rendezvous_configured)
      && !c.xmpp_configured)
    fail(origin, "[manager.federation] and [rendezvous] need an [xmpp] "
                 "section naming the XMPP server");
  return c;
}

fogbow_config load_config(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error(path + ": cannot read the configuration file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_config(buf.str(), path);
}

} // namespace fogbow
