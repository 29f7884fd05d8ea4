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
  bool volumes = true;  ///< volume + attachment orders (Cinder v3 + Nova)
  bool networks = true; ///< network orders (Neutron)
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
  /// How long the scheduler waits for one cloud driver call.
  std::int64_t driver_timeout_ms = 120000;

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

  // [tunnel]: the tunnel role (issue 4); present = configured.
  bool tunnel_configured = false;
  std::string tunnel_ssh_bind = "0.0.0.0";
  int tunnel_ssh_port = 2222;
  std::string tunnel_public_bind = "0.0.0.0";
  int tunnel_port_low = 20000;
  int tunnel_port_high = 30000;
  std::string tunnel_http_bind = "127.0.0.1";
  int tunnel_http_port = 2223;
  std::string tunnel_host_key; ///< default: <data-dir>/tunnel_host_ed25519
  std::string tunnel_manager_secret;
  std::int64_t tunnel_idle_token_timeout_s = 86400;
  int tunnel_client_timeout_s = 90;
  int tunnel_login_timeout_s = 30;
  int tunnel_max_sessions = 10000;

  // [manager.tunnel]: how the manager uses a tunnel; present = used.
  bool manager_tunnel_configured = false;
  std::string manager_tunnel_url;         ///< the tunnel's HTTP API
  std::string manager_tunnel_secret;      ///< its manager_secret
  std::string manager_tunnel_ssh_host;    ///< what instances connect to
  std::string manager_tunnel_public_host; ///< shown in ssh_public_address
  int manager_tunnel_local_port = 22;     ///< instance port published as "ssh"
  // --- federation (issue 3) ---
  // [xmpp]: the XMPP server the roles of this process connect to.
  bool xmpp_configured = false;
  std::string xmpp_host = "127.0.0.1";
  int xmpp_port = 5222;
  std::string xmpp_tls = "required"; ///< required | optional | disabled
  bool xmpp_ignore_tls_errors = false;
  std::int64_t xmpp_request_timeout_ms = 5000;
  std::int64_t xmpp_reconnect_max_ms = 5000;

  // [manager.federation]: the manager's XMPP account and its rendezvous.
  bool federation_configured = false;
  std::string federation_jid;
  std::string federation_password;
  std::string federation_rendezvous;
  std::int64_t federation_heartbeat_ms = 3000;
  std::int64_t federation_page_size = 100;

  // [rendezvous]
  bool rendezvous_configured = false;
  std::string rendezvous_jid;
  std::string rendezvous_password;
  std::int64_t rendezvous_period_ms = 3000;
  std::int64_t rendezvous_max_lost = 3;
  std::int64_t rendezvous_page_max = 100;
  std::int64_t rendezvous_sync_page_max = 100;
  std::int64_t rendezvous_sync_interval_ms = 3000;
  std::vector<std::string> rendezvous_neighbors;
  std::string rendezvous_whitelist = "accept-any"; ///< accept-any | file
  std::string rendezvous_whitelist_file;
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
