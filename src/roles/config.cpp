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

void read_bool(const toml::table& t, const char* key, bool& out,
               const std::string& where, const std::string& origin) {
  auto node = t.get(key);
  if (!node)
    return;
  if (!node->is_boolean())
    fail(origin, "'" + where + key + "' must be true or false");
  out = *node->value<bool>();
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

bool is_http_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

/// A table of string values only (e.g. service type → URL).
std::map<std::string, std::string> read_string_map(const toml::table& t,
                                                   const std::string& where,
                                                   const std::string& origin) {
  std::map<std::string, std::string> out;
  for (auto& [key, value] : t) {
    auto v = value.value<std::string>();
    if (!value.is_string() || !v)
      fail(origin, "'" + where + std::string{key.str()} + "' must be a string");
    out.emplace(std::string{key.str()}, *v);
  }
  return out;
}

void read_openstack(const toml::table& t, fogbow_config& c,
                    const std::string& origin) {
  const std::string w = "manager.driver.openstack.";
  auto& o = c.openstack;
  check_keys(t, {"auth_url", "region", "interface", "network_id", "image",
                 "workers", "request_timeout_ms", "poll_interval_ms",
                 "refresh_interval_ms", "build_timeout_ms",
                 "token_renew_before_s", "verify_tls", "volumes", "networks",
                 "endpoints", "accounts", "mapper"},
             w, origin);
  read_string(t, "auth_url", o.auth_url, w, origin);
  if (!is_http_url(o.auth_url))
    fail(origin, "'" + w + "auth_url' must be an http:// or https:// URL "
                   "(Keystone v3, e.g. http://127.0.0.1:5000/v3)");
  read_string(t, "region", o.region, w, origin);
  read_string(t, "interface", o.interface, w, origin);
  if (o.interface != "public" && o.interface != "internal"
      && o.interface != "admin")
    fail(origin, "'" + w + "interface' must be \"public\", \"internal\" or \"admin\"");
  read_string(t, "network_id", o.network_id, w, origin);
  read_string(t, "image", o.image, w, origin);
  read_int(t, "workers", o.workers, 1, 64, w, origin);
  read_int(t, "request_timeout_ms", o.request_timeout_ms, 100, 600000, w, origin);
  read_int(t, "poll_interval_ms", o.poll_interval_ms, 50, 600000, w, origin);
  read_int(t, "refresh_interval_ms", o.refresh_interval_ms, 100, 3600000, w, origin);
  read_int(t, "build_timeout_ms", o.build_timeout_ms, 1000, 86400000, w, origin);
  read_int(t, "token_renew_before_s", o.token_renew_before_s, 0, 86400, w, origin);
  read_bool(t, "verify_tls", o.verify_tls, w, origin);
  read_bool(t, "volumes", o.volumes, w, origin);
  read_bool(t, "networks", o.networks, w, origin);
  if (auto e = sub_table(t, "endpoints", w, origin)) {
    o.endpoints = read_string_map(*e, w + "endpoints.", origin);
    for (auto& [type, url] : o.endpoints)
      if (!is_http_url(url))
        fail(origin, "'" + w + "endpoints." + type + "' must be an http(s) URL");
  }
  std::set<std::string> names;
  if (auto accounts = sub_array(t, "accounts", w, origin))
    for (auto& node : *accounts) {
      auto at = node.as_table();
      if (!at)
        fail(origin, "'" + w + "accounts' entries must be tables");
      const std::string aw = w + "accounts[].";
      check_keys(*at, {"name", "username", "password", "user_domain",
                       "project_name", "project_id", "project_domain"},
                 aw, origin);
      openstack_account_entry a;
      read_string(*at, "name", a.name, aw, origin);
      read_string(*at, "username", a.username, aw, origin);
      read_string(*at, "password", a.password, aw, origin);
      read_string(*at, "user_domain", a.user_domain, aw, origin);
      read_string(*at, "project_name", a.project_name, aw, origin);
      read_string(*at, "project_id", a.project_id, aw, origin);
      read_string(*at, "project_domain", a.project_domain, aw, origin);
      if (a.name.empty() || a.username.empty())
        fail(origin, "every OpenStack account needs a 'name' and a 'username'");
      if (a.project_name.empty() && a.project_id.empty())
        fail(origin, "OpenStack account '" + a.name
                       + "' needs a 'project_name' or a 'project_id'");
      if (!names.insert(a.name).second)
        fail(origin, "OpenStack account '" + a.name + "' is defined twice");
      o.accounts.push_back(a);
    }
  if (o.accounts.empty())
    fail(origin, "the openstack driver needs at least one "
                 "[[manager.driver.openstack.accounts]]");
  if (auto m = sub_table(t, "mapper", w, origin)) {
    const std::string mw = w + "mapper.";
    check_keys(*m, {"plugin", "account", "default", "members"}, mw, origin);
    read_string(*m, "plugin", o.mapper, mw, origin);
    read_string(*m, "account", o.mapper_account, mw, origin);
    read_string(*m, "default", o.mapper_default, mw, origin);
    if (auto mem = sub_table(*m, "members", mw, origin))
      o.mapper_members = read_string_map(*mem, mw + "members.", origin);
  }
  if (o.mapper != "single" && o.mapper != "per-member")
    fail(origin, "'" + w + "mapper.plugin' must be \"single\" or \"per-member\"");
  if (o.mapper == "single") {
    if (o.mapper_account.empty())
      o.mapper_account = o.accounts.front().name;
    if (!o.mapper_members.empty() || !o.mapper_default.empty())
      fail(origin, "'" + w + "mapper.members' and 'default' are for the "
                     "per-member mapper");
  } else if (o.mapper_members.empty() && o.mapper_default.empty()) {
    fail(origin, "the per-member mapper needs 'members' or a 'default'");
  }
  auto check_account = [&](const std::string& name, const std::string& key) {
    if (!name.empty() && !names.count(name))
      fail(origin, "'" + w + "mapper." + key + "' names no configured account ('"
                     + name + "')");
  };
  check_account(o.mapper_account, "account");
  check_account(o.mapper_default, "default");
  for (auto& [member, account] : o.mapper_members)
    check_account(account, "members." + member);
}

void read_driver(const toml::table& t, fogbow_config& c,
                 const std::string& origin) {
  const std::string w = "manager.driver.";
  check_keys(t, {"kind", "instances_dir", "ip", "vcpu", "memory_mb",
                 "instances", "flavors", "openstack"},
             w, origin);
  read_string(t, "kind", c.driver_kind, w, origin);
  if (c.driver_kind != "local" && c.driver_kind != "instant"
      && c.driver_kind != "openstack")
    fail(origin, "'manager.driver.kind' must be \"local\", \"instant\" or "
                 "\"openstack\"");
  if (auto os = sub_table(t, "openstack", w, origin)) {
    if (c.driver_kind != "openstack")
      fail(origin, "'manager.driver.openstack' needs kind = \"openstack\"");
    read_openstack(*os, c, origin);
  } else if (c.driver_kind == "openstack") {
    fail(origin, "kind = \"openstack\" needs a [manager.driver.openstack] table");
  }
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
                    "retry_max_ms", "max_in_flight", "driver_timeout_ms",
                    "driver", "tunnel", "federation"},
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
    read_int(*m, "driver_timeout_ms", c.driver_timeout_ms, 100, 3600000, w,
             origin);
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
    check_keys(*id, {"plugin", "users", "auth_url", "cache_s", "timeout_ms",
                     "verify_tls"},
               w, origin);
    read_string(*id, "plugin", c.identity_plugin, w, origin);
    if (c.identity_plugin != "static-tokens"
        && c.identity_plugin != "keystone-v3")
      fail(origin, "'identity.plugin' must be \"static-tokens\" or \"keystone-v3\"");
    read_string(*id, "auth_url", c.keystone_auth_url, w, origin);
    read_int(*id, "cache_s", c.keystone_cache_s, 0, 86400, w, origin);
    read_int(*id, "timeout_ms", c.keystone_timeout_ms, 100, 600000, w, origin);
    read_bool(*id, "verify_tls", c.keystone_verify_tls, w, origin);
    if (c.identity_plugin == "keystone-v3") {
      if (!is_http_url(c.keystone_auth_url))
        fail(origin, "identity plugin keystone-v3 needs 'identity.auth_url' "
                     "(an http(s) Keystone v3 URL)");
      if (id->get("users"))
        fail(origin, "'identity.users' is for the static-tokens plugin");
    } else if (!c.keystone_auth_url.empty()) {
      fail(origin, "'identity.auth_url' is for the keystone-v3 plugin");
    }
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
