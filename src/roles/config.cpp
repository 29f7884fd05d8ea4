#include "roles/config.hpp"

#include "roles/config_schema.hpp"

#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

namespace fogbow {

std::vector<flavor> default_flavors() {
  return {
    {"small", 1, 512, 10}, {"medium", 2, 1024, 20}, {"large", 4, 2048, 40}};
}

namespace {

using namespace config_schema;

constexpr std::int64_t int_max = std::numeric_limits<int>::max();
constexpr std::int64_t day_ms = 86400000;

// --- rules a string value must follow ---------------------------------------

bool is_http_url(const std::string& s) {
  return s.starts_with("http://") || s.starts_with("https://");
}

/// A full JID "user@domain/resource" without spaces.
bool is_full_jid(const std::string& jid) {
  auto at = jid.find('@');
  auto slash = jid.find('/');
  return at != std::string::npos && at != 0 && slash != std::string::npos
         && slash >= at + 2 && slash + 1 != jid.size()
         && jid.find_first_of(" \t\r\n") == std::string::npos;
}

const string_rule keystone_url{
  is_http_url, "must be an http:// or https:// URL (Keystone v3, e.g. "
               "http://127.0.0.1:5000/v3)"};
const string_rule ldap_url_rule{[](const std::string& s) {
                                  return s.empty() || s.starts_with("ldap://")
                                         || s.starts_with("ldaps://");
                                },
                                "must be an ldap:// or ldaps:// URL"};
const string_rule http_or_https_url{is_http_url, "must be an http(s) URL"};
const string_rule full_jid{is_full_jid, "must be a full JID like "
                                        "\"user@xmpp.example/fogbow\""};
/// A bare JID "user@domain": one '@' with text on both sides, no resource.
bool is_bare_jid(const std::string& jid) {
  auto at = jid.find('@');
  return at != std::string::npos && at != 0 && at + 1 != jid.size()
         && jid.find('@', at + 1) == std::string::npos
         && jid.find('/') == std::string::npos
         && jid.find_first_of(" \t\r\n") == std::string::npos;
}

/// The bare part of a full JID.
std::string bare_jid_of(const std::string& jid) {
  return jid.substr(0, jid.find('/'));
}

const string_rule member_id_rule{
  [](const std::string& s) {
    return !s.empty() && s.find_first_of(" \t\r\n") == std::string::npos
           && (s.find('@') == std::string::npos || is_bare_jid(s));
  },
  "must be a name without '@' or a bare JID (user@domain, no '/')"};
const string_rule bare_jid{is_bare_jid, "must be bare JIDs like "
                                        "\"site-b@xmpp.example.org\""};
const string_rule secret_length{
  [](const std::string& s) { return s.size() >= 16; },
  "must have at least 16 characters"};
const string_rule required_secret{
  [](const std::string& s) { return s.size() >= 16; },
  "is required and must have at least 16 characters"};
const string_rule sha256_hex_rule{
  [](const std::string& s) {
    return s.empty()
           || (s.size() == 64
               && s.find_first_not_of("0123456789abcdefABCDEF")
                    == std::string::npos);
  },
  "must be 64 hex digits (a SHA-256)"};
const string_rule not_empty{[](const std::string& s) { return !s.empty(); },
                            "must not be empty"};

// --- the key table: every key of every section, once ------------------------

const section_spec<fogbow_config> root_spec{"",
                                            "",
                                            false,
                                            false,
                                            {},
                                            {"manager", "http", "identity",
                                             "authorization", "log", "metrics",
                                             "tunnel", "xmpp", "rendezvous"}};

const section_spec<manager_settings> manager_spec{
  "manager",
  "The manager: takes orders and fulfils them on its cloud.",
  false,
  false,
  {{"member_id",
    &manager_settings::member_id,
    "This site's member id: a name without '@', or a bare JID. Instance ids "
    "are \"<local id>@<member_id>\". With [manager.federation] it is the "
    "bare JID of its jid: leave it out (or write exactly that).",
    0,
    0,
    {},
    &member_id_rule},
   {"max_orders_per_request", &manager_settings::max_orders_per_request,
    "Largest `count` one POST /v1/orders may ask for.", 1, 10000},
   {"retry_initial_ms", &manager_settings::retry_initial_ms,
    "Back-off after the cloud said \"no room\": first wait, then doubled up "
    "to retry_max_ms. An instance removed or a quota raised retries at once.",
    10, 3600000},
   {"retry_max_ms", &manager_settings::retry_max_ms,
    "Ceiling of that back-off (>= retry_initial_ms).", 10, day_ms},
   {"max_in_flight", &manager_settings::max_in_flight,
    "Placements sent to the cloud driver at the same time.", 1, 100000},
   {"driver_timeout_ms", &manager_settings::driver_timeout_ms,
    "How long one cloud driver call (create, delete, capacity) may take "
    "before the scheduler gives up on it: a create that timed out is "
    "retried like any failed one and never doubles an instance.",
    100, 3600000}},
  {"driver", "tunnel", "federation", "accounting"}};

const section_spec<driver_settings> driver_spec{
  "manager.driver",
  "The cloud driver the manager creates resources with.",
  false,
  false,
  {{"kind",
    &driver_settings::kind,
    "\"local\": each instance is a sandboxed process group on this host that "
    "runs the order's user data as a shell script (compute orders only). "
    "\"instant\": in-memory instances of every kind, created instantly "
    "(benchmarks and tests only). \"openstack\": Nova servers, Cinder "
    "volumes and attachments, Neutron networks; needs "
    "[manager.driver.openstack].",
    0,
    0,
    {"local", "instant", "openstack"}},
   {"sandbox",
    &driver_settings::sandbox,
    "local driver: run each instance in a bubblewrap sandbox as an "
    "unprivileged user (\"none\": plain processes as the manager's user; "
    "never for production).",
    0,
    0,
    {"bwrap", "none"}},
   {"instances_dir",
    &driver_settings::instances_dir,
    "local driver: where it keeps one directory per instance (console.log, "
    "user-data, pid).",
    0,
    0,
    {},
    nullptr,
    "<data-dir>/instances",
    "\"/var/lib/fogbow/manager/instances\""},
   {"ip", &driver_settings::ip, "Address reported as the instances' ip."},
   {"vcpu", &driver_settings::vcpu,
    "Capacity of this cloud (local and instant drivers), enforced on every "
    "create: vCPUs.",
    0, 1 << 20},
   {"memory_mb", &driver_settings::memory_mb, "Capacity: memory in MB.", 0,
    int_max},
   {"instances", &driver_settings::instances, "Capacity: instances.", 0,
    1 << 20}},
  {"flavors", "openstack"}};

const section_spec<flavor> flavor_spec{
  "manager.driver.flavors",
  "Sizes this cloud offers (local and instant drivers); an order gets the "
  "smallest that satisfies its vcpu/memory_mb/disk_gb and requirements. "
  "Default: small (1 vCPU, 512 MB, 10 GB), medium (2, 1024, 20) and large "
  "(4, 2048, 40).",
  true,
  true,
  {{"name",
    &flavor::name,
    "The flavor's name (required).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"small\""},
   {"vcpu", &flavor::vcpu, "vCPUs.", 1, 1 << 20, {}, nullptr, nullptr, "1"},
   {"memory_mb",
    &flavor::memory_mb,
    "Memory in MB.",
    0,
    int_max,
    {},
    nullptr,
    nullptr,
    "512"},
   {"disk_gb",
    &flavor::disk_gb,
    "Disk in GB.",
    0,
    int_max,
    {},
    nullptr,
    nullptr,
    "10"}}};

const section_spec<openstack_settings> openstack_spec{
  "manager.driver.openstack",
  "The openstack driver (kind = \"openstack\"); config/openstack.toml is a "
  "complete example.",
  true,
  false,
  {{"auth_url",
    &openstack_settings::auth_url,
    "Keystone v3 URL (required). Tokens are password tokens scoped to the "
    "account's project.",
    0,
    0,
    {},
    &keystone_url,
    nullptr,
    "\"http://127.0.0.1:5000/v3\""},
   {"region", &openstack_settings::region,
    "Catalog region of the endpoints to use; \"\" = the first of any region."},
   {"interface",
    &openstack_settings::interface,
    "Catalog interface of the endpoints to use.",
    0,
    0,
    {"public", "internal", "admin"}},
   {"network_id", &openstack_settings::network_id,
    "Neutron network id the servers are attached to; \"\" = boot with no NIC "
    "(no IP)."},
   {"image", &openstack_settings::image,
    "Image (Glance name or id) for orders that name none; \"\" = such orders "
    "fail with a message."},
   {"workers", &openstack_settings::workers,
    "Threads doing the blocking HTTP calls; the volume and the network "
    "driver get half as many each (at least 1).",
    1, 64},
   {"request_timeout_ms", &openstack_settings::request_timeout_ms,
    "Timeout of one HTTP request to Keystone, Nova, Glance, Cinder or "
    "Neutron.",
    100, 600000},
   {"poll_interval_ms", &openstack_settings::poll_interval_ms,
    "How often resources are listed while creates, deletions or a quota "
    "block are pending.",
    50, 600000},
   {"refresh_interval_ms", &openstack_settings::refresh_interval_ms,
    "How often resources are listed otherwise (to notice ERROR, deleted...).",
    100, 3600000},
   {"build_timeout_ms", &openstack_settings::build_timeout_ms,
    "A server still building after this long is reported as spawning; its "
    "later changes arrive as events.",
    1000, day_ms},
   {"token_renew_before_s", &openstack_settings::token_renew_before_s,
    "A token is renewed this long before Keystone says it expires (at most "
    "98 % of its lifetime); a 401 also renews it, once per call.",
    0, 86400},
   {"verify_tls", &openstack_settings::verify_tls,
    "Check the TLS certificates of https:// endpoints."},
   {"volumes", &openstack_settings::volumes,
    "Serve volume and attachment orders (Cinder v3 + Nova); false = they are "
    "refused as unsupported."},
   {"networks", &openstack_settings::networks,
    "Serve network orders (a Neutron network plus one IPv4 subnet); false = "
    "they are refused."},
   {"endpoints",
    &openstack_settings::endpoints,
    "Per-service URL overrides (service type = base URL), used instead of "
    "the catalog's.",
    0,
    0,
    {},
    &http_or_https_url,
    nullptr,
    "{ compute = \"https://nova.example.org:8774/v2.1\" }"}},
  {"accounts", "mapper"}};

const section_spec<openstack_account_entry> account_spec{
  "manager.driver.openstack.accounts",
  "Cloud accounts (at least one). The project is given by project_name (+ "
  "project_domain) or by project_id.",
  true,
  true,
  {{"name",
    &openstack_account_entry::name,
    "How the mapper refers to this account (required).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"main\""},
   {"username",
    &openstack_account_entry::username,
    "Keystone user (required).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"demo\""},
   {"password",
    &openstack_account_entry::password,
    "Its password.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"demo-pw\""},
   {"user_domain", &openstack_account_entry::user_domain, "The user's domain."},
   {"project_name",
    &openstack_account_entry::project_name,
    "The project, by name.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"demo\""},
   {"project_id", &openstack_account_entry::project_id,
    "The project, by id (instead of project_name)."},
   {"project_domain", &openstack_account_entry::project_domain,
    "The domain of project_name."}}};

const section_spec<openstack_mapper_settings> mapper_spec{
  "manager.driver.openstack.mapper",
  "Which account serves a request: \"single\" always `account`; "
  "\"per-member\" maps a requesting member id to an account through "
  "`members`, others get `default` (\"\" = they are refused).",
  true,
  false,
  {{"plugin",
    &openstack_mapper_settings::plugin,
    "The mapper.",
    0,
    0,
    {"single", "per-member"}},
   {"account",
    &openstack_mapper_settings::account,
    "single: the account used.",
    0,
    0,
    {},
    nullptr,
    "the first account",
    "\"main\""},
   {"default", &openstack_mapper_settings::default_account,
    "per-member: the account of members not in `members`."},
   {"members",
    &openstack_mapper_settings::members,
    "per-member: member id = account name.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "{ \"site-b.example.org\" = \"main\" }"}}};

const section_spec<manager_tunnel_settings> manager_tunnel_spec{
  "manager.tunnel",
  "Publish every compute instance through a tunnel (see [tunnel] and "
  "config/tunnel.toml): the manager registers a token per order, puts a "
  "tunnel agent into the instance's user data and shows ssh_public_address "
  "and extra_ports on GET /v1/computes/{id}. With --role=all and a [tunnel] "
  "section but no [manager.tunnel], the manager uses the tunnel of its own "
  "process.",
  true,
  false,
  {{"url",
    &manager_tunnel_settings::url,
    "The tunnel's HTTP API, as the manager and the instances see it.",
    0,
    0,
    {},
    &http_or_https_url,
    nullptr,
    "\"http://127.0.0.1:2223\""},
   {"secret",
    &manager_tunnel_settings::secret,
    "The tunnel's manager_secret.",
    0,
    0,
    {},
    &secret_length,
    nullptr,
    "\"demo-tunnel-secret-0123\""},
   {"ssh_host",
    &manager_tunnel_settings::ssh_host,
    "Tunnel SSH host, as instances see it (required).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"127.0.0.1\""},
   {"public_host",
    &manager_tunnel_settings::public_host,
    "Host shown in ssh_public_address (required).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"127.0.0.1\""},
   {"local_port", &manager_tunnel_settings::local_port,
    "Instance port published as \"ssh\".", 1, 65535}}};

const section_spec<federation_settings> federation_spec{
  "manager.federation",
  "Join a federation through a rendezvous (needs [xmpp]); without it the "
  "manager runs standalone and GET /v1/members lists only itself.",
  true,
  false,
  {{"jid",
    &federation_settings::jid,
    "This manager's XMPP account, a full JID (user@domain/resource); its "
    "bare JID is its member id in the federation. Other members are "
    "addressed with the same resource: use one resource (fogbow) "
    "federation-wide.",
    0,
    0,
    {},
    &full_jid,
    nullptr,
    "\"site-a@xmpp.example.org/fogbow\""},
   {"password",
    &federation_settings::password,
    "Its password.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"change-me\""},
   {"rendezvous",
    &federation_settings::rendezvous,
    "Full JID of the rendezvous.",
    0,
    0,
    {},
    &full_jid,
    nullptr,
    "\"rendezvous@xmpp.example.org/fogbow\""},
   {"heartbeat_ms", &federation_settings::heartbeat_ms,
    "Heartbeat period until the rendezvous names its own.", 100, day_ms},
   {"page_size", &federation_settings::page_size,
    "<max> of each whoisalive page (the rendezvous may cap it lower).", 1,
    10000},
   {"forward_timeout_s", &federation_settings::forward_timeout_s,
    "A member that has not answered a forwarded order in this time is "
    "skipped for that order, and the next one is tried.",
    1, 3600},
   {"member_picker",
    &federation_settings::member_picker,
    "Which member an order that does not fit here is forwarded to: "
    "\"round-robin\" takes the members in id order, one after the other; "
    "\"nof\" (Network of Favors) the member that owes this one most by "
    "the accounting (ties in turn).",
    0,
    0,
    {"round-robin", "nof"}},
   {"member_validator",
    &federation_settings::member_validator,
    "\"accept-any\": serve and forward to every member. \"whitelist\": "
    "serve only the members in donate_to, forward only to those in "
    "receive_from.",
    0,
    0,
    {"accept-any", "whitelist"}},
   {"donate_to",
    &federation_settings::donate_to,
    "whitelist: members whose orders this site serves.",
    0,
    0,
    {},
    &bare_jid,
    nullptr,
    "[\"site-b@xmpp.example.org\"]"},
   {"receive_from",
    &federation_settings::receive_from,
    "whitelist: members this site forwards its orders to.",
    0,
    0,
    {},
    &bare_jid,
    nullptr,
    "[\"site-b@xmpp.example.org\"]"},
   {"capacity_controller",
    &federation_settings::capacity_controller,
    "How many instances another member may hold here at once: "
    "\"unlimited\"; \"fixed\": donated_caps per member, max_donated for "
    "the others; \"fairness\": caps that follow what each member gives back "
    "(hill climbing on consumed/donated, see the fairness_ keys).",
    0,
    0,
    {"unlimited", "fixed", "fairness"}},
   {"max_donated", &federation_settings::max_donated,
    "fixed: the cap of members not listed in donated_caps (0 = serve them "
    "nothing).",
    0, 1000000},
   {"donated_caps",
    &federation_settings::donated_caps,
    "fixed: bare JID = the most instances that member may hold here.",
    0,
    1000000,
    {},
    nullptr,
    nullptr,
    "{ \"site-b@xmpp.example.org\" = 4 }"},
   {"fairness_mode",
    &federation_settings::fairness_mode,
    "fairness: \"pairwise\" (a cap per member from what passed between "
    "us), \"global\" (one cap for all from the totals) or \"two-fold\" "
    "(pairwise once a member has been served here, global before).",
    0,
    0,
    {"pairwise", "global", "two-fold"}},
   {"fairness_delta_pct", &federation_settings::fairness_delta_pct,
    "fairness: how much of the cloud (in %) a cap moves each accounting "
    "period.",
    0, 100},
   {"fairness_min_pct", &federation_settings::fairness_min_pct,
    "fairness: what we consumed from a member over what we donated to it, "
    "in %; below this its cap shrinks.",
    0, 100000},
   {"fairness_max_pct", &federation_settings::fairness_max_pct,
    "fairness: the same ratio in %; above this the cap grows (between the "
    "two it keeps its direction while the ratio improves).",
    0, 100000},
   {"prioritization",
    &federation_settings::prioritization,
    "Whether an order may take the place of a served instance when the "
    "cloud is full: \"fcfs\" never; \"nof\" (Network of Favors) for an "
    "order of a member we owe more than the instance's member (the "
    "newest instance of the member we owe least goes).",
    0,
    0,
    {"fcfs", "nof"}},
   {"local_prioritization",
    &federation_settings::local_prioritization,
    "The same among this member's own instances, consulted when no served "
    "instance is to go: \"fcfs\" never preempts; \"nof\" never takes a "
    "local instance either (it only ranks members).",
    0,
    0,
    {"fcfs", "nof"}},
   {"nof_prioritize_local", &federation_settings::nof_prioritize_local,
    "nof: a local order comes before every served one (it may preempt any "
    "served instance); false: it preempts none."},
   {"nof_trustworthy", &federation_settings::nof_trustworthy,
    "nof: take members at their word. false (the default): a member's "
    "debt never goes below zero (a free-rider is no worse off than a "
    "newcomer, as ids are cheap) and gets the square root of what we "
    "donated to it on top; true: debt = consumed - donated."},
   {"monitor_interval_ms", &federation_settings::monitor_interval_ms,
    "How often the state of instances other members serve for this one is "
    "refreshed (getinstance).",
    100, 3600000},
   {"probe_interval_s", &federation_settings::probe_interval_s,
    "How often this site asks the members it serves whether they still use "
    "their instances (instancebeingused).",
    1, 86400},
   {"requester_grace_s", &federation_settings::requester_grace_s,
    "Instances served for a member that has been unreachable this long are "
    "removed.",
    1, 604800}}};

const section_spec<accounting_settings> accounting_spec{
  "manager.accounting",
  "What every instance uses (vCPU, memory and volume minutes), per user "
  "and per requesting and providing member, kept in accounting.db beside "
  "manager.db; GET /v1/usage and the Network of Favors read it.",
  false,
  false,
  {{"period_s", &accounting_settings::period_s,
    "How often the use of running instances is added to the stored totals "
    "(a kill -9 loses at most one period) and the debts are recomputed.",
    1, 86400},
   {"admins",
    &accounting_settings::admins,
    "User ids that may see every user's usage (GET /v1/usage?user=...).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "[\"alice\"]"}}};

const section_spec<http_settings> http_spec{
  "http",
  "The manager's REST API.",
  false,
  false,
  {{"bind", &http_settings::bind, "Address of the REST API."},
   {"port", &http_settings::port,
    "Its port; 0 picks a free one. `--http-port` overrides it.", 0, 65535},
   {"threads", &http_settings::threads, "Worker threads serving requests.", 1,
    256},
   {"max_body_bytes", &http_settings::max_body_bytes,
    "Largest request body accepted; larger ones get 413.", 1024, 64 << 20},
   {"timeout_ms", &http_settings::timeout_ms,
    "How long a request may wait for the manager's actors before 504.", 100,
    600000},
   {"listen_backlog", &http_settings::listen_backlog,
    "Connections the kernel queues before they are accepted (listen "
    "backlog), for this API and the tunnel's HTTP API; capped by "
    "net.core.somaxconn.",
    1, 65535},
   {"header_timeout_s", &http_settings::header_timeout_s,
    "Time a client has to send a request's headers (from connecting, or "
    "from the previous answer on a kept-alive connection); then the "
    "connection is closed. For this API and the tunnel's HTTP API.",
    1, 3600},
   {"idle_timeout_s", &http_settings::idle_timeout_s,
    "A connection with no traffic for this long is closed (both APIs).", 1,
    86400},
   {"max_connections", &http_settings::max_connections,
    "Most open connections (each API); more are closed when accepted.", 1,
    1000000},
   {"max_connections_per_address", &http_settings::max_connections_per_address,
    "Most open connections from one IP address (each API); 0 = no limit.", 0,
    1000000},
   {"tls_cert",
    &http_settings::tls_cert,
    "PEM certificate (chain) of the REST API: with tls_key it serves HTTPS "
    "only. Both or neither; read at start. docs/deployment.md shows how to "
    "make one.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"/etc/fogbow/tls/manager.crt\""},
   {"tls_key",
    &http_settings::tls_key,
    "PEM private key of tls_cert (unencrypted, readable by fogbow only).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"/etc/fogbow/tls/manager.key\""},
   {"dashboard_dir", &http_settings::dashboard_dir,
    "Directory of the web dashboard served at / (index.html, app.js, "
    "style.css). \"\": the installed one (share/fogbow/dashboard beside "
    "the binary's bin/), else the source tree's dashboard/; none found: / "
    "answers 404."},
   {"max_page_size", &http_settings::max_page_size,
    "Largest `limit` a list request (GET /v1/orders, /v1/computes, ...) may "
    "ask for; also its default when below 1000.",
    1, 1000000}}};

const section_spec<identity_settings> identity_spec{
  "identity",
  "Who an X-Auth-Token belongs to.",
  false,
  false,
  {{"plugin",
    &identity_settings::plugin,
    "\"static-tokens\": users and tokens from [[identity.users]]. "
    "\"keystone-v3\": the token is a Keystone token, validated with GET "
    "{auth_url}/auth/tokens. \"ldap\": users log in with their directory "
    "name and password (POST /v1/tokens, checked by a simple bind) and get "
    "a token that expires.",
    0,
    0,
    {"static-tokens", "keystone-v3", "ldap"}},
   {"auth_url",
    &identity_settings::auth_url,
    "keystone-v3: the Keystone v3 URL (required for it).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"http://127.0.0.1:5000/v3\""},
   {"cache_s", &identity_settings::cache_s,
    "keystone-v3: how long a valid token is cached (never past its expiry; "
    "0 = no cache).",
    0, 86400},
   {"timeout_ms", &identity_settings::timeout_ms,
    "keystone-v3, ldap: timeout of one request to Keystone or the directory.",
    100, 600000},
   {"verify_tls", &identity_settings::verify_tls,
    "keystone-v3, ldap: check the server's TLS certificate."},
   {"ldap_url",
    &identity_settings::ldap_url,
    "ldap: the directory, ldap://host:port or ldaps://host:port (required "
    "for it).",
    0,
    0,
    {},
    &ldap_url_rule,
    nullptr,
    "\"ldaps://ldap.example.org\""},
   {"ldap_start_tls", &identity_settings::ldap_start_tls,
    "ldap: upgrade an ldap:// connection with StartTLS (fails rather than "
    "go on in clear)."},
   {"ldap_ca_file",
    &identity_settings::ldap_ca_file,
    "ldap: PEM file of the CA(s) the directory's certificate is checked "
    "against.",
    0,
    0,
    {},
    nullptr,
    "the system's CAs",
    "\"/etc/fogbow/ldap-ca.pem\""},
   {"ldap_bind_dn",
    &identity_settings::ldap_bind_dn,
    "ldap: the user's DN, {user} standing for the name (escaped as RFC 4514 "
    "says). Exactly one of this and ldap_search_base.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"uid={user},ou=people,dc=example,dc=org\""},
   {"ldap_search_base",
    &identity_settings::ldap_search_base,
    "ldap: instead of ldap_bind_dn, find the user's DN by searching this "
    "subtree for ldap_search_filter, then bind with it.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"ou=people,dc=example,dc=org\""},
   {"ldap_search_filter", &identity_settings::ldap_search_filter,
    "ldap: the search's filter, {user} standing for the name (escaped as RFC "
    "4515 says); exactly one entry must match."},
   {"ldap_service_dn", &identity_settings::ldap_service_dn,
    "ldap: the account the search binds as; empty: anonymous search."},
   {"ldap_service_password", &identity_settings::ldap_service_password,
    "ldap: its password."},
   {"ldap_user_attribute", &identity_settings::ldap_user_attribute,
    "ldap: the attribute of the user's entry that is the user's id (the "
    "owner of their orders); the name as typed when it cannot be read."},
   {"ldap_name_attribute", &identity_settings::ldap_name_attribute,
    "ldap: the attribute that is the user's display name."},
   {"token_ttl_s", &identity_settings::token_ttl_s,
    "ldap: how long a token from POST /v1/tokens is valid.", 60, 2592000},
   {"max_failures", &identity_settings::max_failures,
    "ldap: failed logins of one user name within lockout_s after which its "
    "logins are refused (429) until lockout_s has passed.",
    1, 1000},
   {"max_failures_per_address", &identity_settings::max_failures_per_address,
    "ldap: the same, for failed logins from one client address.", 1, 100000},
   {"lockout_s", &identity_settings::lockout_s,
    "ldap: the window failed logins are counted in.", 1, 86400}},
  {"users"}};

const section_spec<user_entry> user_spec{
  "identity.users",
  "static-tokens: the users and their tokens.",
  true,
  true,
  {{"id",
    &user_entry::id,
    "User id (required, unique).",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"alice\""},
   {"name",
    &user_entry::name,
    "Display name.",
    0,
    0,
    {},
    nullptr,
    "the id",
    "\"Alice\""},
   {"token",
    &user_entry::token,
    "The X-Auth-Token value (at least 8 characters); this or token_sha256.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"a-long-random-token\""},
   {"token_sha256",
    &user_entry::token_sha256,
    "Instead of token: the token's SHA-256 as 64 hex digits (`printf %s "
    "TOKEN | sha256sum`), so that the file does not hold the token.",
    0,
    0,
    {},
    &sha256_hex_rule,
    nullptr,
    "\"9f03ef1533a68d2f506f81ef463c1183a82a6bd40e45613f36e6fe1889cf1b99\""}}};

const section_spec<authorization_settings> authorization_spec{
  "authorization",
  "What an authenticated user may do.",
  false,
  false,
  {{"plugin",
    &authorization_settings::plugin,
    "\"allow-all\": every authenticated user may do everything. "
    "\"user-whitelist\": only the ids listed in `users` may do anything.",
    0,
    0,
    {"allow-all", "user-whitelist"}},
   {"users",
    &authorization_settings::users,
    "user-whitelist: the user ids.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "[\"alice\"]"}}};

const section_spec<log_settings> log_spec{
  "log",
  "Logging (to stderr).",
  false,
  false,
  {{"level",
    &log_settings::level,
    "`--log-level` overrides it.",
    0,
    0,
    {"trace", "debug", "info", "warn", "error", "off"}},
   {"format",
    &log_settings::format,
    "text: one readable line per record. json: one JSON object per line "
    "(time in UTC, level, logger, message) for log shippers. "
    "`--log-format` overrides it.",
    0,
    0,
    {"text", "json"}}}};

const section_spec<metrics_settings> metrics_spec{
  "metrics",
  "Prometheus series (text format) at GET /metrics, without a token: "
  "what every role of this process counts (docs/metrics.md).",
  false,
  false,
  {{"enabled", &metrics_settings::enabled,
    "Serve GET /metrics on the manager's REST port and the tunnel's API "
    "port; false: 404 there."},
   {"bind", &metrics_settings::bind,
    "Address of the metrics-only server (see port)."},
   {"port", &metrics_settings::port,
    "A metrics-only HTTP server on this port, serving GET /metrics and "
    "nothing else: how the rendezvous (which has no other HTTP port) is "
    "scraped, or the other roles on an internal address. 0: none.",
    0, 65535}}};

const section_spec<tunnel_settings> tunnel_spec{
  "tunnel",
  "The reverse tunnel role: instances behind NAT keep `ssh -N -R` open to "
  "it and get public ports. --role=all runs it when this section is "
  "present. config/tunnel.toml is a complete example.",
  true,
  false,
  {{"ssh_bind", &tunnel_settings::ssh_bind,
    "Address of the SSH server instances connect to."},
   {"ssh_port", &tunnel_settings::ssh_port, "Its port; 0 picks a free one.", 0,
    65535},
   {"public_bind", &tunnel_settings::public_bind,
    "Address of the public ports."},
   {"port_low", &tunnel_settings::port_low, "Lowest public port.", 1, 65535},
   {"port_high", &tunnel_settings::port_high,
    "Highest public port (>= port_low).", 1, 65535},
   {"http_bind", &tunnel_settings::http_bind,
    "Address of the HTTP API (managers register tokens, agents ask for "
    "ports)."},
   {"http_port", &tunnel_settings::http_port,
    "Its port; 0 picks a free one. Its listen backlog, deadlines and "
    "connection limits are those of [http].",
    0, 65535},
   {"http_tls_cert",
    &tunnel_settings::http_tls_cert,
    "PEM certificate of the HTTP API: with http_tls_key it serves HTTPS "
    "only (the managers' [manager.tunnel] url must then be https:// and "
    "the instances' agents must trust it). Both or neither.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"/etc/fogbow/tls/tunnel.crt\""},
   {"http_tls_key",
    &tunnel_settings::http_tls_key,
    "PEM private key of http_tls_cert.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"/etc/fogbow/tls/tunnel.key\""},
   {"host_key",
    &tunnel_settings::host_key,
    "The SSH host key (ed25519), created when missing.",
    0,
    0,
    {},
    nullptr,
    "<data-dir>/tunnel_host_ed25519",
    "\"/var/lib/fogbow/tunnel/tunnel_host_ed25519\""},
   {"manager_secret",
    &tunnel_settings::manager_secret,
    "Shared with the managers (their [manager.tunnel] secret); required, at "
    "least 16 characters.",
    0,
    0,
    {},
    &required_secret,
    nullptr,
    "\"demo-tunnel-secret-0123\""},
   {"idle_token_timeout_s", &tunnel_settings::idle_token_timeout_s,
    "A token whose family has had no connected session for this long is "
    "deleted (0 = never).",
    0, 365LL * 86400},
   {"client_timeout_s", &tunnel_settings::client_timeout_s,
    "An SSH client silent for this long is disconnected.", 5, 86400},
   {"login_timeout_s", &tunnel_settings::login_timeout_s,
    "Time a client has to authenticate.", 1, 3600},
   {"max_sessions", &tunnel_settings::max_sessions,
    "Most logged-in SSH sessions at the same time (lowered to fit the "
    "open-file limit).",
    1, 1000000},
   {"max_unauthenticated", &tunnel_settings::max_unauthenticated,
    "Most SSH connections still logging in at the same time (lowered to a "
    "quarter of the open-file limit). When all are taken, a newcomer from "
    "a less busy address replaces the oldest of the busiest one.",
    1, 1000000},
   {"max_unauthenticated_per_address",
    &tunnel_settings::max_unauthenticated_per_address,
    "Most SSH connections still logging in from one IPv4 address; one more "
    "is closed at once.",
    1, 1000000},
   {"max_named_tokens_per_token", &tunnel_settings::max_named_tokens_per_token,
    "Most named extra ports (tokens <token>-<name>) one token may have; one "
    "more is refused with 429.",
    0, 100000},
   {"max_forwards_per_session", &tunnel_settings::max_forwards_per_session,
    "Most ports one SSH session may forward at a time; one more "
    "`tcpip-forward` is refused.",
    1, 100000}}};

const section_spec<xmpp_settings> xmpp_spec{
  "xmpp",
  "The XMPP server every role of this process connects to (no SRV lookup); "
  "needed by [manager.federation] and [rendezvous].",
  true,
  false,
  {{"host", &xmpp_settings::host, "Its host.", 0, 0, {}, &not_empty},
   {"port", &xmpp_settings::port, "Its port.", 1, 65535},
   {"tls",
    &xmpp_settings::tls,
    "\"required\": STARTTLS or no connection; \"optional\": TLS when "
    "offered; \"disabled\": never (test servers only: passwords go in "
    "clear).",
    0,
    0,
    {"required", "optional", "disabled"}},
   {"ignore_tls_errors", &xmpp_settings::ignore_tls_errors,
    "Accept self-signed or mismatched server certificates (test servers "
    "only)."},
   {"request_timeout_ms", &xmpp_settings::request_timeout_ms,
    "How long an IQ may wait for its answer before it counts as a timeout.",
    100, 600000},
   {"reconnect_max_ms", &xmpp_settings::reconnect_max_ms,
    "Reconnection back-off: 250 ms doubling up to this ceiling.", 250,
    3600000}}};

const section_spec<rendezvous_settings> rendezvous_spec{
  "rendezvous",
  "The rendezvous role: the members' meeting point (needs [xmpp]). "
  "--role=all runs it when this section is present.",
  true,
  false,
  {{"jid",
    &rendezvous_settings::jid,
    "The rendezvous' XMPP account, a full JID; managers use it.",
    0,
    0,
    {},
    &full_jid,
    nullptr,
    "\"rendezvous@xmpp.example.org/fogbow\""},
   {"password",
    &rendezvous_settings::password,
    "Its password.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"change-me\""},
   {"period_ms", &rendezvous_settings::period_ms,
    "Heartbeat period asked of members; a member is dropped period_ms x "
    "max_lost after its last heartbeat.",
    100, day_ms},
   {"max_lost", &rendezvous_settings::max_lost, "Heartbeats a member may miss.",
    1, 1000},
   {"page_max", &rendezvous_settings::page_max, "Largest whoisalive page.", 1,
    10000},
   {"sync_page_max", &rendezvous_settings::sync_page_max,
    "Largest synch/whoisalive page.", 1, 10000},
   {"sync_interval_ms", &rendezvous_settings::sync_interval_ms,
    "How often neighbours are asked for their members.", 100, day_ms},
   {"neighbors",
    &rendezvous_settings::neighbors,
    "Other rendezvous to pull members from (full JIDs).",
    0,
    0,
    {},
    &full_jid},
   {"whitelist",
    &rendezvous_settings::whitelist,
    "\"accept-any\", or \"file\": only the bare JIDs listed in "
    "whitelist_file (one per line, '#' comments) may join, also via "
    "neighbours; a missing file stops the rendezvous.",
    0,
    0,
    {"accept-any", "file"}},
   {"whitelist_file",
    &rendezvous_settings::whitelist_file,
    "file: the list of admitted bare JIDs.",
    0,
    0,
    {},
    nullptr,
    nullptr,
    "\"/etc/fogbow/members.txt\""}}};

// --- reading: the table's checks, then what depends on several keys ---------

/// The entries of the array `key` of `parent`, read with `spec`; nothing
/// when absent.
template <class S>
std::optional<std::vector<S>>
read_entries(const toml::table& parent, const char* key,
             const section_spec<S>& spec, const std::string& parent_prefix,
             error_list& errors) {
  auto array = sub_array(parent, key, parent_prefix, errors);
  if (!array)
    return std::nullopt;
  std::vector<S> out;
  for (auto& node : *array) {
    auto t = node.as_table();
    if (!t) {
      errors.add("'" + std::string{spec.path} + "' entries must be tables");
      continue;
    }
    S entry;
    read_section(*t, entry, spec, errors);
    out.push_back(std::move(entry));
  }
  return out;
}

void check_accounts(const openstack_settings& o, error_list& errors) {
  std::set<std::string> names;
  for (auto& a : o.accounts) {
    if (a.name.empty() || a.username.empty())
      errors.add("every OpenStack account needs a 'name' and a 'username'");
    else if (a.project_name.empty() && a.project_id.empty())
      errors.add("OpenStack account '" + a.name
                 + "' needs a 'project_name' or a 'project_id'");
    else if (!names.insert(a.name).second)
      errors.add("OpenStack account '" + a.name + "' is defined twice");
  }
  if (o.accounts.empty())
    errors.add("the openstack driver needs at least one "
               "[[manager.driver.openstack.accounts]]");
}

void check_mapper(openstack_mapper_settings& m,
                  const std::vector<openstack_account_entry>& accounts,
                  error_list& errors) {
  const std::string w = "manager.driver.openstack.mapper.";
  if (m.plugin == "single") {
    if (m.account.empty() && !accounts.empty())
      m.account = accounts.front().name;
    if (!m.members.empty() || !m.default_account.empty())
      errors.add("'" + w
                 + "members' and 'default' are for the per-member "
                   "mapper");
  } else if (m.members.empty() && m.default_account.empty()) {
    errors.add("the per-member mapper needs 'members' or a 'default'");
  }
  auto check_account = [&](const std::string& name, const std::string& key) {
    bool known = false;
    for (auto& a : accounts)
      known = known || a.name == name;
    if (!name.empty() && !known)
      errors.add("'" + w + key + "' names no configured account ('" + name
                 + "')");
  };
  check_account(m.account, "account");
  check_account(m.default_account, "default");
  for (auto& [member, account] : m.members)
    check_account(account, "members." + member);
}

void read_openstack(const toml::table& t, openstack_settings& o,
                    error_list& errors) {
  auto before = errors.size();
  read_section(t, o, openstack_spec, errors);
  auto prefix = openstack_spec.prefix();
  if (auto accounts = read_entries(t, "accounts", account_spec, prefix, errors))
    o.accounts = std::move(*accounts);
  if (auto m = sub_table(t, "mapper", prefix, errors))
    read_section(*m, o.mapper, mapper_spec, errors);
  if (errors.size() != before)
    return;
  check_accounts(o, errors);
  if (errors.size() == before)
    check_mapper(o.mapper, o.accounts, errors);
}

void read_flavors(const toml::table& t, driver_settings& d,
                  error_list& errors) {
  auto before = errors.size();
  auto flavors =
    read_entries(t, "flavors", flavor_spec, driver_spec.prefix(), errors);
  if (!flavors || errors.size() != before)
    return;
  for (auto& f : *flavors)
    if (f.name.empty()) {
      errors.add("every flavor needs a 'name'");
      return;
    }
  if (flavors->empty())
    errors.add("'manager.driver.flavors' must not be empty");
  d.flavors = std::move(*flavors);
}

void read_driver(const toml::table& t, driver_settings& d, error_list& errors) {
  bool keys_ok = read_section(t, d, driver_spec, errors);
  read_flavors(t, d, errors);
  auto os = sub_table(t, "openstack", driver_spec.prefix(), errors);
  if (!keys_ok)
    return;
  if (os && d.kind != "openstack")
    errors.add("'manager.driver.openstack' needs kind = \"openstack\"");
  else if (os)
    read_openstack(*os, d.openstack, errors);
  else if (d.kind == "openstack")
    errors.add("kind = \"openstack\" needs a [manager.driver.openstack] table");
}

template <class S>
void read_optional(const toml::table& parent, const char* key, S& out,
                   const section_spec<S>& spec, const std::string& prefix,
                   error_list& errors) {
  if (auto t = sub_table(parent, key, prefix, errors)) {
    out.configured = true;
    read_section(*t, out, spec, errors);
  }
}

/// The plugins' keys agree with the plugins chosen, and the member id is
/// the bare JID of the federation account.
void check_federation(const toml::table& manager, manager_settings& m,
                      error_list& errors) {
  auto& f = m.federation;
  const std::string w = "manager.federation.";
  if (f.member_validator != "whitelist"
      && (!f.donate_to.empty() || !f.receive_from.empty()))
    errors.add("'" + w + "donate_to' and '" + w
               + "receive_from' are for member_validator = \"whitelist\"");
  if (f.capacity_controller != "fixed"
      && (f.max_donated != 0 || !f.donated_caps.empty()))
    errors.add("'" + w + "max_donated' and '" + w
               + "donated_caps' are for capacity_controller = \"fixed\"");
  if (f.fairness_min_pct > f.fairness_max_pct)
    errors.add("'" + w + "fairness_min_pct' must not be above '" + w
               + "fairness_max_pct'");
  for (auto& [member, cap] : f.donated_caps)
    if (!is_bare_jid(member))
      errors.add("'" + w + "donated_caps' names '" + member
                 + "', which is not a bare JID (user@domain)");
  auto bare = bare_jid_of(f.jid);
  if (manager.get("member_id") && m.member_id != bare)
    errors.add("'manager.member_id' is \"" + m.member_id
               + "\" but this member's id in the federation is \"" + bare
               + "\" (the bare JID of 'manager.federation.jid'): remove "
                 "member_id or set it to \""
               + bare + "\"");
  else
    m.member_id = bare;
}

void read_manager(const toml::table& t, manager_settings& m,
                  error_list& errors) {
  if (read_section(t, m, manager_spec, errors)
      && m.retry_max_ms < m.retry_initial_ms)
    errors.add("'manager.retry_max_ms' must be >= 'retry_initial_ms'");
  auto prefix = manager_spec.prefix();
  if (auto d = sub_table(t, "driver", prefix, errors))
    read_driver(*d, m.driver, errors);
  auto before = errors.size();
  read_optional(t, "tunnel", m.tunnel, manager_tunnel_spec, prefix, errors);
  if (errors.size() == before && m.tunnel.configured
      && (m.tunnel.ssh_host.empty() || m.tunnel.public_host.empty()))
    errors.add("'manager.tunnel' needs 'ssh_host' and 'public_host'");
  before = errors.size();
  read_optional(t, "federation", m.federation, federation_spec, prefix, errors);
  if (errors.size() == before && m.federation.configured)
    check_federation(t, m, errors);
  if (auto a = sub_table(t, "accounting", prefix, errors))
    read_section(*a, m.accounting, accounting_spec, errors);
}

void check_users(identity_settings& id, error_list& errors) {
  std::set<std::string> ids;
  for (auto& u : id.users) {
    if (u.id.empty() || u.token.empty() == u.token_sha256.empty())
      errors.add("every user needs an 'id' and exactly one of 'token' and "
                 "'token_sha256'");
    else if (!u.token.empty() && u.token.size() < 8)
      errors.add("the token of user '" + u.id
                 + "' is shorter than 8 characters");
    else if (!ids.insert(u.id).second)
      errors.add("user '" + u.id + "' is defined twice");
    if (u.name.empty())
      u.name = u.id;
  }
}

void check_ldap(const toml::table& t, const identity_settings& id,
                error_list& errors) {
  if (id.ldap_url.empty())
    errors.add("identity plugin ldap needs 'identity.ldap_url' (ldap:// or "
               "ldaps://)");
  if (id.ldap_bind_dn.empty() == id.ldap_search_base.empty())
    errors.add("identity plugin ldap needs exactly one of "
               "'identity.ldap_bind_dn' and 'identity.ldap_search_base'");
  else if (!id.ldap_bind_dn.empty()
           && id.ldap_bind_dn.find("{user}") == std::string::npos)
    errors.add("'identity.ldap_bind_dn' must contain {user}");
  else if (!id.ldap_search_base.empty()
           && id.ldap_search_filter.find("{user}") == std::string::npos)
    errors.add("'identity.ldap_search_filter' must contain {user}");
  if (id.ldap_start_tls && id.ldap_url.starts_with("ldaps://"))
    errors.add("'identity.ldap_start_tls' is for ldap:// URLs (ldaps:// is "
               "TLS already)");
  if (id.ldap_service_dn.empty() != id.ldap_service_password.empty())
    errors.add("'identity.ldap_service_dn' and 'identity.ldap_service_password'"
               " go together");
  if (t.get("users"))
    errors.add("'identity.users' is for the static-tokens plugin");
}

void read_identity(const toml::table& t, identity_settings& id,
                   error_list& errors) {
  auto before = errors.size();
  read_section(t, id, identity_spec, errors);
  if (auto users = read_entries(t, "users", user_spec, "identity.", errors))
    id.users = std::move(*users);
  if (errors.size() != before)
    return;
  if (id.plugin == "keystone-v3") {
    if (!is_http_url(id.auth_url))
      errors.add("identity plugin keystone-v3 needs 'identity.auth_url' (an "
                 "http(s) Keystone v3 URL)");
    if (t.get("users"))
      errors.add("'identity.users' is for the static-tokens plugin");
  } else if (!id.auth_url.empty()) {
    errors.add("'identity.auth_url' is for the keystone-v3 plugin");
  }
  // Like auth_url: a directory given to another plugin is a mistake, the
  // other ldap keys at their defaults are not (`config defaults`).
  if (id.plugin == "ldap")
    check_ldap(t, id, errors);
  else if (!id.ldap_url.empty() || !id.ldap_bind_dn.empty()
           || !id.ldap_search_base.empty())
    errors.add("'identity.ldap_url', 'ldap_bind_dn' and 'ldap_search_base' "
               "are for the ldap plugin");
  check_users(id, errors);
}

void read_rendezvous(const toml::table& root, rendezvous_settings& r,
                     error_list& errors) {
  auto before = errors.size();
  read_optional(root, "rendezvous", r, rendezvous_spec, "", errors);
  if (errors.size() == before && r.whitelist == "file"
      && r.whitelist_file.empty())
    errors.add("'rendezvous.whitelist = \"file\"' needs "
               "'rendezvous.whitelist_file'");
}

fogbow_config read_config(const toml::table& root, error_list& errors) {
  fogbow_config c;
  read_section(root, c, root_spec, errors);
  if (auto m = sub_table(root, "manager", "", errors))
    read_manager(*m, c.manager, errors);
  if (auto h = sub_table(root, "http", "", errors))
    if (read_section(*h, c.http, http_spec, errors)
        && c.http.tls_cert.empty() != c.http.tls_key.empty())
      errors.add("'http.tls_cert' and 'http.tls_key' go together: set both "
                 "(HTTPS) or neither (HTTP)");
  if (auto id = sub_table(root, "identity", "", errors))
    read_identity(*id, c.identity, errors);
  if (auto a = sub_table(root, "authorization", "", errors))
    read_section(*a, c.authorization, authorization_spec, errors);
  if (auto l = sub_table(root, "log", "", errors))
    read_section(*l, c.log, log_spec, errors);
  if (auto m = sub_table(root, "metrics", "", errors))
    read_section(*m, c.metrics, metrics_spec, errors);
  auto before = errors.size();
  read_optional(root, "tunnel", c.tunnel, tunnel_spec, "", errors);
  if (errors.size() == before && c.tunnel.configured
      && c.tunnel.port_high < c.tunnel.port_low)
    errors.add("'tunnel.port_high' must be >= 'tunnel.port_low'");
  if (c.tunnel.configured
      && c.tunnel.http_tls_cert.empty() != c.tunnel.http_tls_key.empty())
    errors.add("'tunnel.http_tls_cert' and 'tunnel.http_tls_key' go "
               "together: set both (HTTPS) or neither (HTTP)");
  read_optional(root, "xmpp", c.xmpp, xmpp_spec, "", errors);
  read_rendezvous(root, c.rendezvous, errors);
  if ((c.manager.federation.configured || c.rendezvous.configured)
      && !c.xmpp.configured)
    errors.add("[manager.federation] and [rendezvous] need an [xmpp] "
               "section naming the XMPP server");
  return c;
}

fogbow_config parse(const std::string& text, error_list& errors) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << e.description() << " (line " << e.source().begin.line << ", column "
        << e.source().begin.column << ")";
    errors.add(msg.str());
    return {};
  }
  return read_config(root, errors);
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (auto& line : lines)
    out += (out.empty() ? "" : "\n") + line;
  return out;
}

} // namespace

std::vector<std::string> config_errors(const std::string& text,
                                       const std::string& origin) {
  error_list errors{origin};
  parse(text, errors);
  return errors.take();
}

fogbow_config parse_config(const std::string& text, const std::string& origin) {
  error_list errors{origin};
  auto config = parse(text, errors);
  if (errors.size() > 0)
    throw std::runtime_error(join_lines(errors.take()));
  return config;
}

fogbow_config load_config(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error(path + ": cannot read the configuration file");
  std::stringstream buf;
  buf << in.rdbuf();
  auto c = parse_config(buf.str(), path);
  c.config_file = path;
  return c;
}

std::vector<config_section_doc> config_sections() {
  return {describe(manager_spec, manager_settings{}),
          describe(driver_spec, driver_settings{}),
          describe(flavor_spec, flavor{}),
          describe(openstack_spec, openstack_settings{}),
          describe(account_spec, openstack_account_entry{}),
          describe(mapper_spec, openstack_mapper_settings{}),
          describe(manager_tunnel_spec, manager_tunnel_settings{}),
          describe(federation_spec, federation_settings{}),
          describe(accounting_spec, accounting_settings{}),
          describe(http_spec, http_settings{}),
          describe(identity_spec, identity_settings{}),
          describe(user_spec, user_entry{}),
          describe(authorization_spec, authorization_settings{}),
          describe(log_spec, log_settings{}),
          describe(metrics_spec, metrics_settings{}),
          describe(tunnel_spec, tunnel_settings{}),
          describe(xmpp_spec, xmpp_settings{}),
          describe(rendezvous_spec, rendezvous_settings{})};
}

} // namespace fogbow
