// The configuration of a fogbow process, read from one TOML file.
// Only src/roles/ reads it; every actor gets plain settings structs.
// Every key is documented in config/*.toml.
#pragma once

#include "domain/order.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fogbow {

struct user_entry {
  std::string id;
  std::string name;
  std::string token;
};

/// One OpenStack account of [[manager.driver.openstack.accounts]].
struct openstack_account_entry {
  std::string name;
  std::string username;
  std::string password;
  std::string user_domain = "Default";
  std::string project_name;
  std::string project_id;
  std::string project_domain = "Default";
};

/// [manager.driver.openstack]: see config/openstack.toml.
struct openstack_settings {
  std::string auth_url;
  std::string region;
  std::string interface = "public";
  std::string network_id;
  std::string image;
  int workers = 4;
  std::int64_t request_timeout_ms = 30000;
  std::int64_t poll_interval_ms = 1000;
  std::int64_t refresh_interval_ms = 10000;
  std::int64_t build_timeout_ms = 600000;
  std::int64_t token_renew_before_s = 60;
  bool verify_tls = true;
  std::map<std::string, std::string> endpoints; ///< service type → URL
  std::vector<openstack_account_entry> accounts;
  std::string mapper = "single";            ///< single | per-member
  std::string mapper_account;               ///< single: the account
  std::string mapper_default;               ///< per-member: fallback
  std::map<std::string, std::string> mapper_members; ///< member → account
};

struct fogbow_config {
  // [manager]
  std::string member_id = "manager.localhost";
  int max_orders_per_request = 100;
  std::int64_t retry_initial_ms = 1000;
  std::int64_t retry_max_ms = 60000;
  int max_in_flight = 64;

  // [manager.driver]
  std::string driver_kind = "local";    ///< local | instant | openstack
  std::string driver_instances_dir;     ///< default: <data-dir>/instances
  std::string driver_ip = "127.0.0.1";
  cloud_resources capacity{8, 0, 8192, 0, 8, 0};
  std::vector<flavor> flavors;          ///< default: small/medium/large
  openstack_settings openstack;         ///< kind = "openstack"

  // [http]
  std::string http_bind = "127.0.0.1";
  int http_port = 8182;
  int http_threads = 8;
  std::int64_t http_max_body_bytes = 1 << 20;
  std::int64_t http_timeout_ms = 5000;

  // [identity], [authorization]
  std::string identity_plugin = "static-tokens";
  std::vector<user_entry> users;
  // identity.plugin = "keystone-v3"
  std::string keystone_auth_url;
  std::int64_t keystone_cache_s = 60;
  std::int64_t keystone_timeout_ms = 10000;
  bool keystone_verify_tls = true;
  std::string authorization_plugin = "allow-all";
  std::vector<std::string> authorized_users;

  // [log]
  std::string log_level = "info";
};

/// The flavors used when the configuration names none.
std::vector<flavor> default_flavors();

/// Reads and checks a configuration file. Unknown keys, wrong types and
/// out-of-range values are errors (std::runtime_error naming the key and
/// the file): a typo in an operator's file must not be silently ignored.
fogbow_config load_config(const std::string& path);

/// Parses configuration text (same rules; `origin` names it in errors).
fogbow_config parse_config(const std::string& text, const std::string& origin);

} // namespace fogbow
