// The configuration of a fogbow process, read from one TOML file.
// Only src/roles/ reads it; every actor gets plain settings structs.
//
// One struct per TOML section; a field's initializer is the key's default.
// Every key is declared once more, in the key table of config.cpp (its
// TOML name, range or allowed values, help text): parsing, validation,
// `fogbow config defaults` and the test that checks the documentation of
// config/all-in-one.toml all come from that table.
#pragma once

#include "domain/order.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fogbow {

/// One entry of [[identity.users]].
struct user_entry {
  std::string id;
  std::string name; ///< default: the id
  std::string token;
  std::string token_sha256; ///< instead of token: its SHA-256, hex
};

/// One entry of [[manager.driver.openstack.accounts]].
struct openstack_account_entry {
  std::string name;
  std::string username;
  std::string password;
  std::string user_domain = "Default";
  std::string project_name;
  std::string project_id;
  std::string project_domain = "Default";
};

/// [manager.driver.openstack.mapper]: which account serves which member.
struct openstack_mapper_settings {
  std::string plugin = "single"; ///< single | per-member
  std::string account;           ///< single: default the first account
  std::string default_account;   ///< per-member: fallback (key `default`)
  std::map<std::string, std::string> members; ///< member → account
};

/// [manager.driver.openstack]: present when kind = "openstack".
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
  openstack_mapper_settings mapper;
};

/// The flavors used when the configuration names none.
std::vector<flavor> default_flavors();

/// [manager.driver]
struct driver_settings {
  std::string kind = "local";    ///< local | instant | openstack
  std::string sandbox = "bwrap"; ///< local driver: bwrap | none
  std::string instances_dir;     ///< default: <data-dir>/instances
  std::string ip = "127.0.0.1";
  int vcpu = 8;
  int memory_mb = 8192;
  int instances = 8;
  std::vector<flavor> flavors = default_flavors();
  openstack_settings openstack; ///< read when kind = "openstack"

  /// The totals above as the drivers take them.
  cloud_resources capacity() const {
    return {vcpu, 0, memory_mb, 0, instances, 0};
  }
};

/// [manager.tunnel]: how the manager uses a tunnel; present = used.
struct manager_tunnel_settings {
  bool configured = false;
  std::string url;         ///< the tunnel's HTTP API
  std::string secret;      ///< its manager_secret
  std::string ssh_host;    ///< what instances connect to
  std::string public_host; ///< shown in ssh_public_address
  int local_port = 22;     ///< instance port published as "ssh"
};

/// [manager.federation]: the manager's XMPP account, its rendezvous, and
/// how it serves and forwards orders (the policy plugins of
/// federation/member_policies.hpp).
struct federation_settings {
  bool configured = false;
  std::string jid;
  std::string password;
  std::string rendezvous;
  std::int64_t heartbeat_ms = 3000;
  std::int64_t page_size = 100;
  /// 1..3600: a member that has not answered an order in this time is
  /// skipped
  std::int64_t forward_timeout_s = 20;
  std::string member_picker = "round-robin";   ///< round-robin | nof
  std::string member_validator = "accept-any"; ///< accept-any | whitelist
  /// whitelist: members whose orders this site serves (bare JIDs)
  std::vector<std::string> donate_to;
  /// whitelist: members this site forwards to (bare JIDs)
  std::vector<std::string> receive_from;
  std::string capacity_controller = "unlimited"; ///< unlimited|fixed|fairness
  /// fixed: cap for members not listed in donated_caps
  std::int64_t max_donated = 0;
  /// fixed: bare JID -> most instances it may hold here
  std::map<std::string, std::int64_t> donated_caps;
  /// fairness: pairwise | global | two-fold
  std::string fairness_mode = "two-fold";
  /// fairness: % of the cloud the cap moves by each period
  std::int64_t fairness_delta_pct = 5;
  /// fairness: consumed/donated in %; below it the cap shrinks
  std::int64_t fairness_min_pct = 75;
  /// fairness: consumed/donated in %; above it the cap grows
  std::int64_t fairness_max_pct = 95;
  /// Who a served order may preempt when the cloud is full: fcfs | nof
  std::string prioritization = "fcfs";
  /// Who a local order may preempt among local instances: fcfs | nof
  std::string local_prioritization = "fcfs";
  /// nof: local orders come before every served one
  bool nof_prioritize_local = true;
  /// nof: a member's debt may go below zero and gets no √donated bonus
  bool nof_trustworthy = false;
  /// 100..3600000: refresh of remote instances' state
  std::int64_t monitor_interval_ms = 5000;
  /// 1..86400: provider asks requesters instancebeingused
  std::int64_t probe_interval_s = 30;
  /// 1..604800: reclaim a requester's instances after it was unreachable
  /// this long
  std::int64_t requester_grace_s = 300;
};

/// [manager.accounting]: the usage counted per user and member.
struct accounting_settings {
  /// 1..86400: how often running instances' use is added to the totals
  std::int64_t period_s = 60;
  /// user ids that may see every user's usage
  std::vector<std::string> admins;
};

/// [manager]
struct manager_settings {
  /// This member's id: a name without '@', or a bare JID. With
  /// [manager.federation] it is the bare JID of federation.jid (parse_config
  /// sets it; an explicit different value is an error).
  std::string member_id = "manager.localhost";
  int max_orders_per_request = 100;
  std::int64_t retry_initial_ms = 1000;
  std::int64_t retry_max_ms = 60000;
  int max_in_flight = 64;
  /// How long the scheduler waits for one cloud driver call.
  std::int64_t driver_timeout_ms = 120000;
  driver_settings driver;
  manager_tunnel_settings tunnel;
  federation_settings federation;
  accounting_settings accounting;
};

/// [http]: the manager's REST API.
struct http_settings {
  std::string bind = "127.0.0.1";
  int port = 8182;
  int threads = 8;
  std::int64_t max_body_bytes = 1 << 20;
  std::int64_t timeout_ms = 5000;
  int listen_backlog = 1024;
  int header_timeout_s = 10;
  int idle_timeout_s = 60;
  int max_connections = 4096;
  int max_connections_per_address = 256;
  std::string tls_cert; ///< PEM file; with tls_key, HTTPS only
  std::string tls_key;
  std::string dashboard_dir; ///< "": found beside the binary or in the sources
  int max_page_size = 1000;  ///< largest `limit` of a list request
};

/// [identity]: who a token belongs to.
struct identity_settings {
  std::string plugin = "static-tokens"; ///< static-tokens | keystone-v3 | ldap
  std::vector<user_entry> users;        ///< static-tokens
  std::string auth_url;                 ///< keystone-v3
  std::int64_t cache_s = 60;
  std::int64_t timeout_ms = 10000; ///< keystone-v3, ldap
  bool verify_tls = true;          ///< keystone-v3, ldap
  // ldap: see ldap_identity_config
  std::string ldap_url;
  bool ldap_start_tls = false;
  std::string ldap_ca_file;
  std::string ldap_bind_dn;
  std::string ldap_search_base;
  std::string ldap_search_filter = "(uid={user})";
  std::string ldap_service_dn;
  std::string ldap_service_password;
  std::string ldap_user_attribute = "uid";
  std::string ldap_name_attribute = "cn";
  std::int64_t token_ttl_s = 3600;
  int max_failures = 5;
  int max_failures_per_address = 20;
  std::int64_t lockout_s = 300;
};

/// [authorization]: what an authenticated user may do.
struct authorization_settings {
  std::string plugin = "allow-all"; ///< allow-all | user-whitelist
  std::vector<std::string> users;
};

/// [log]
struct log_settings {
  std::string level = "info";
  std::string format = "text"; ///< text | json
};

/// [metrics]: Prometheus series at GET /metrics.
struct metrics_settings {
  bool enabled = true;            ///< on the REST and tunnel API ports
  std::string bind = "127.0.0.1"; ///< the metrics-only server
  int port = 0;                   ///< 0: no metrics-only server
};

/// [tunnel]: the tunnel role; present = configured.
struct tunnel_settings {
  bool configured = false;
  std::string ssh_bind = "0.0.0.0";
  int ssh_port = 2222;
  std::string public_bind = "0.0.0.0";
  int port_low = 20000;
  int port_high = 30000;
  std::string http_bind = "127.0.0.1";
  int http_port = 2223;
  std::string http_tls_cert; ///< PEM file; with http_tls_key, HTTPS only
  std::string http_tls_key;
  std::string host_key; ///< default: <data-dir>/tunnel_host_ed25519
  std::string manager_secret;
  std::int64_t idle_token_timeout_s = 86400;
  int client_timeout_s = 90;
  int login_timeout_s = 30;
  int max_sessions = 10000;
  int max_unauthenticated = 1000;
  int max_unauthenticated_per_address = 64;
  int max_named_tokens_per_token = 16;
  int max_forwards_per_session = 32;
};

/// [xmpp]: the XMPP server the roles of this process connect to.
struct xmpp_settings {
  bool configured = false;
  std::string host = "127.0.0.1";
  int port = 5222;
  std::string tls = "required"; ///< required | optional | disabled
  bool ignore_tls_errors = false;
  std::int64_t request_timeout_ms = 5000;
  std::int64_t reconnect_max_ms = 5000;
};

/// [rendezvous]: the rendezvous role; present = configured.
struct rendezvous_settings {
  bool configured = false;
  std::string jid;
  std::string password;
  std::int64_t period_ms = 3000;
  std::int64_t max_lost = 3;
  std::int64_t page_max = 100;
  std::int64_t sync_page_max = 100;
  std::int64_t sync_interval_ms = 3000;
  std::vector<std::string> neighbors;
  std::string whitelist = "accept-any"; ///< accept-any | file
  std::string whitelist_file;
};

struct fogbow_config {
  /// The file it was loaded from (load_config); empty otherwise.
  std::string config_file;
  manager_settings manager;
  http_settings http;
  identity_settings identity;
  authorization_settings authorization;
  log_settings log;
  metrics_settings metrics;
  tunnel_settings tunnel;
  xmpp_settings xmpp;
  rendezvous_settings rendezvous;
};

/// Reads and checks a configuration file. Unknown keys, wrong types and
/// out-of-range values are errors (std::runtime_error naming the key and
/// the file, one line per error): a typo in an operator's file must not be
/// silently ignored.
fogbow_config load_config(const std::string& path);

/// Parses configuration text (same rules; `origin` names it in errors).
fogbow_config parse_config(const std::string& text, const std::string& origin);

/// Every error of a configuration text, each "origin: message"; empty when
/// parse_config would accept it.
std::vector<std::string> config_errors(const std::string& text,
                                       const std::string& origin);

/// One key of the key table, for documentation and its tests.
struct config_key_doc {
  std::string name;          ///< TOML name inside its section
  std::string type;          ///< string, integer, boolean, array, table
  std::string default_value; ///< a TOML value, or "" when computed at start
  std::string example;       ///< a TOML value worth showing, or ""
  std::string allowed;       ///< range, allowed values or rule; "" = any
  std::string help;
};

/// One section of the key table.
struct config_section_doc {
  std::string path; ///< "manager.driver.flavors"
  bool array;       ///< [[path]]: a list of entries
  bool optional;    ///< absent unless written (its presence changes things)
  std::string help;
  std::vector<config_key_doc> keys;
};

/// Every section with its keys, in the order of `fogbow config defaults`.
std::vector<config_section_doc> config_sections();

/// A complete, commented TOML file: every key with its help and default.
/// Optional sections and list entries are commented out, so that the text
/// as printed loads and means the defaults.
std::string default_config_text();

} // namespace fogbow
