#include "roles/manager_role.hpp"

#include "actors/accounting.hpp"
#include "actors/errors.hpp"
#include "actors/federation_server.hpp"
#include "actors/member_proxy.hpp"
#include "actors/member_registry.hpp"
#include "actors/order_scheduler.hpp"
#include "actors/store.hpp"
#include "actors/supervisor.hpp"
#include "auth/authorization.hpp"
#include "auth/identity.hpp"
#include "auth/keystone_identity.hpp"
#include "auth/ldap_identity.hpp"
#include "domain/mapper.hpp"
#include "drivers/instant/instant_driver.hpp"
#include "drivers/local/local_driver.hpp"
#include "drivers/openstack/openstack_driver.hpp"
#include "drivers/openstack/openstack_resource_drivers.hpp"
#include "drivers/router/cloud_router.hpp"
#include "drivers/tunnel/tunnel_client.hpp"
#include "drivers/tunnel/tunnel_driver.hpp"
#include "federation/fairness.hpp"
#include "federation/manager_protocol.hpp"
#include "http/rest_api.hpp"
#include "http/static_files.hpp"
#include "roles/http_transport.hpp"
#include "roles/startup.hpp"
#include "roles/test_faults.hpp"

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <unistd.h>

namespace fogbow {

namespace {

/// How long start-up (and a restart) waits for the store and the cloud
/// driver.
constexpr auto startup_timeout = std::chrono::seconds(60);

/// How long stop() waits for the supervisor, which may be in a restart.
constexpr auto shutdown_timeout = std::chrono::seconds(90);

/// The dashboard directory to serve ("" when there is none). A directory
/// named in the configuration must exist: a typo should not start a
/// manager that silently answers 404 at /.
std::string dashboard_dir(const std::string& configured) {
  auto dir = find_dashboard_dir(configured);
  std::error_code ec;
  if (!configured.empty() && !std::filesystem::is_directory(dir, ec))
    throw std::runtime_error("[http] dashboard_dir " + configured
                             + " is not a directory");
  if (dir.empty())
    spdlog::warn("no web dashboard found (set [http] dashboard_dir); / "
                 "answers 404");
  else
    spdlog::info("web dashboard served at / from {}", dir.string());
  return dir.string();
}

/// What local instances run in: everything of the manager's stays out of
/// their sight (its data, its configuration, the tunnel's host key and,
/// for a manager that is not root and so shares its uid with them, its
/// home directory).
sandbox_settings sandbox_for(const fogbow_config& c,
                             const std::string& data_dir) {
  sandbox_settings s;
  s.mode = c.manager.driver.sandbox == "none" ? sandbox_mode::none
                                              : sandbox_mode::bwrap;
  s.hidden = {data_dir, c.config_file, c.tunnel.host_key};
  if (auto home = std::getenv("HOME"); home && geteuid() != 0)
    s.hidden.emplace_back(home);
  return s;
}

std::shared_ptr<const fed::member_validator>
make_validator(const federation_settings& f) {
  if (f.member_validator != "whitelist")
    return fed::make_accept_any_validator();
  return fed::make_whitelist_validator(
    {f.donate_to.begin(), f.donate_to.end()},
    {f.receive_from.begin(), f.receive_from.end()});
}

std::shared_ptr<fed::capacity_controller>
make_capacity(const federation_settings& f) {
  if (f.capacity_controller == "fixed") {
    std::map<std::string, int, std::less<>> caps;
    for (auto& [member, cap] : f.donated_caps)
      caps.emplace(member, static_cast<int>(cap));
    return fed::make_fixed_capacity(std::move(caps),
                                    static_cast<int>(f.max_donated));
  }
  if (f.capacity_controller == "fairness") {
    fed::fairness_settings s;
    s.mode = f.fairness_mode;
    s.delta = static_cast<double>(f.fairness_delta_pct) / 100;
    s.min_threshold = static_cast<double>(f.fairness_min_pct) / 100;
    s.max_threshold = static_cast<double>(f.fairness_max_pct) / 100;
    return std::make_shared<fed::fairness_capacity>(s);
  }
  return fed::make_unlimited_capacity();
}

/// Two-fold: `prioritization` over served instances, `local_prioritization`
/// over our own; nullptr when neither ever preempts.
std::shared_ptr<const fed::prioritizer>
make_prioritizer(const federation_settings& f) {
  if (f.prioritization == "fcfs" && f.local_prioritization == "fcfs")
    return nullptr;
  return fed::make_two_fold_prioritizer(
    fed::make_prioritizer(f.local_prioritization, f.nof_prioritize_local),
    fed::make_prioritizer(f.prioritization, f.nof_prioritize_local));
}

fed::nof_settings nof_settings_of(const federation_settings& f) {
  return {f.nof_trustworthy, f.nof_prioritize_local};
}

/// "user@domain/resource" → "resource".
std::string jid_resource(const std::string& jid) {
  auto slash = jid.find('/');
  return slash == std::string::npos ? std::string{} : jid.substr(slash + 1);
}

ldap_identity_config ldap_config(const identity_settings& id) {
  ldap_identity_config c;
  c.url = id.ldap_url;
  c.start_tls = id.ldap_start_tls;
  c.ca_file = id.ldap_ca_file;
  c.verify_tls = id.verify_tls;
  c.bind_dn_template = id.ldap_bind_dn;
  c.search_base = id.ldap_search_base;
  c.search_filter = id.ldap_search_filter;
  c.service_dn = id.ldap_service_dn;
  c.service_password = id.ldap_service_password;
  c.user_attribute = id.ldap_user_attribute;
  c.name_attribute = id.ldap_name_attribute;
  c.timeout_ms = id.timeout_ms;
  c.token_ttl_s = id.token_ttl_s;
  c.throttle.per_name = id.max_failures;
  c.throttle.per_address = id.max_failures_per_address;
  c.throttle.window_ms = id.lockout_s * 1000;
  return c;
}

} // namespace

manager_role::manager_role(caf::actor_system& sys, fogbow_config config,
                           std::string data_dir, std::vector<std::string> roles)
    : sys_(sys), config_(std::move(config)), data_dir_(std::move(data_dir)),
      roles_(std::move(roles)) {}

manager_role::~manager_role() {
  stop();
}

int manager_role::start() {
  namespace fs = std::filesystem;
  create_data_dir(data_dir_);
  store_ = sys_.spawn(store, (fs::path{data_dir_} / "manager.db").string());
  auto orders = load_orders();
  start_accounting(orders);
  if (config_.manager.tunnel.configured) {
    // Every compute order gets a tunnel token and an agent in its user
    // data; GET /v1/computes shows the instance's public addresses.
    tunnel_client_config tc;
    tc.url = config_.manager.tunnel.url;
    tc.secret = config_.manager.tunnel.secret;
    tc.public_host = config_.manager.tunnel.public_host;
    tunnel_ = sys_.spawn<caf::detached>(tunnel_client, tc);
    spdlog::info("instances are published through the tunnel at {}",
                 config_.manager.tunnel.url);
  }
  auto drivers = spawn_drivers();
  if (bridge_) {
    member_registry_config mc;
    mc.self_id = config_.manager.member_id;
    mc.rendezvous_jid = config_.manager.federation.rendezvous;
    mc.period_ms = config_.manager.federation.heartbeat_ms;
    mc.page_size = config_.manager.federation.page_size;
    registry_ = sys_.spawn(member_registry, bridge_, mc);
    member_proxy_config pc;
    pc.self_id = config_.manager.member_id;
    pc.resource = jid_resource(config_.manager.federation.jid);
    pc.forward_timeout =
      std::chrono::seconds{config_.manager.federation.forward_timeout_s};
    proxy_ = sys_.spawn(member_proxy, bridge_, pc);
    // Outlives scheduler restarts: what the fairness controller learned
    // stays.
    capacity_ = make_capacity(config_.manager.federation);
    spdlog::info("federation: member {} via rendezvous {}", mc.self_id,
                 mc.rendezvous_jid);
  }
  auto scheduler = spawn_scheduler(std::move(orders));
  // The REST API talks to the scheduler through this stable handle, which
  // a restart points at the new scheduler.
  scheduler_front_ = sys_.spawn(forwarder, std::string{"order scheduler"},
                                caf::actor_cast<caf::actor>(scheduler));
  if (bridge_) {
    start_federation();
    // Debts for the prioritizer, and what the fairness controller learns.
    caf::anon_send(accounting_, atom::subscribe_v,
                   caf::actor_cast<balances_listener_actor>(scheduler_front_));
  }

  std::shared_ptr<const identity_plugin> identity;
  if (config_.identity.plugin == "keystone-v3") {
    keystone_identity_config kc;
    kc.auth_url = config_.identity.auth_url;
    kc.cache_s = config_.identity.cache_s;
    kc.timeout_ms = config_.identity.timeout_ms;
    kc.verify_tls = config_.identity.verify_tls;
    identity = std::make_shared<keystone_identity>(std::move(kc));
  } else if (config_.identity.plugin == "ldap") {
    identity = std::make_shared<ldap_identity>(ldap_config(config_.identity));
  } else {
    std::vector<static_token> tokens;
    for (auto& u : config_.identity.users)
      tokens.push_back({u.id, u.name, u.token, u.token_sha256});
    identity = std::make_shared<static_tokens_identity>(std::move(tokens));
  }
  std::shared_ptr<const authorization_plugin> authorization;
  if (config_.authorization.plugin == "user-whitelist")
    authorization = std::make_shared<user_whitelist>(
      std::set<std::string, std::less<>>(config_.authorization.users.begin(),
                                         config_.authorization.users.end()));
  else
    authorization = std::make_shared<allow_all>();

  rest_api_config hc;
  hc.bind_address = config_.http.bind;
  hc.port = config_.http.port;
  hc.max_count = config_.manager.max_orders_per_request;
  hc.actor_timeout = std::chrono::milliseconds{config_.http.timeout_ms};
  hc.max_body_bytes = static_cast<size_t>(config_.http.max_body_bytes);
  hc.threads = config_.http.threads;
  hc.listen_backlog = config_.http.listen_backlog;
  hc.transport = http_transport(config_.http, config_.http.tls_cert,
                                config_.http.tls_key, "http.tls");
  hc.dashboard_dir = dashboard_dir(config_.http.dashboard_dir);
  hc.max_page_size = config_.http.max_page_size;
  hc.metrics = config_.metrics.enabled;
  hc.roles = roles_;
  hc.member_id = config_.manager.member_id;
  hc.tunnel = tunnel_;
  if (registry_)
    hc.members = registry_;
  hc.accounting = accounting_;
  hc.usage_admins = config_.manager.accounting.admins;
  hc.nof = nof_settings_of(config_.manager.federation);
  supervisor_ = sys_.spawn<caf::detached>(
    supervisor, supervision(std::move(drivers), scheduler));
  if (test_faults_enabled())
    faults_ = std::make_unique<test_fault_injector>(sys_, supervisor_);
  api_ = std::make_unique<rest_api>(
    sys_, caf::actor_cast<order_scheduler_actor>(scheduler_front_), identity,
    authorization, hc);
  return api_->start();
}

supervisor_config
manager_role::supervision(std::vector<caf::actor> drivers,
                          const order_scheduler_actor& scheduler) {
  supervisor_config sc;
  sc.role = "manager";
  sc.on_fatal = [](const std::string&) { request_fatal_exit(); };
  auto add = [&](std::string name, failure_policy policy,
                 std::vector<caf::actor> actors) -> supervised_component& {
    auto& c = sc.components.emplace_back();
    c.name = std::move(name);
    c.policy = policy;
    c.actors = std::move(actors);
    return c;
  };
  // The only database connection: nothing can go on without it.
  add("store", failure_policy::exit_process,
      {caf::actor_cast<caf::actor>(store_)});
  // Its own SQLite file: a failure ends the process, and a restart resumes
  // from its last commit.
  add("accounting", failure_policy::exit_process,
      {caf::actor_cast<caf::actor>(accounting_)});
  if (tunnel_)
    add("tunnel client", failure_policy::exit_process,
        {caf::actor_cast<caf::actor>(tunnel_)});
  auto& cloud =
    add("cloud driver", failure_policy::restart, std::move(drivers));
  cloud.respawn = [this] { return spawn_drivers(); };
  auto& sched = add("order scheduler", failure_policy::restart,
                    {caf::actor_cast<caf::actor>(scheduler)});
  sched.depends_on = {"cloud driver"};
  sched.respawn = [this] {
    auto fresh = spawn_scheduler(load_orders());
    caf::anon_send(scheduler_front_, atom::route_v,
                   caf::actor_cast<caf::actor>(fresh));
    return std::vector<caf::actor>{caf::actor_cast<caf::actor>(fresh)};
  };
  add("order scheduler forwarder", failure_policy::exit_process,
      {scheduler_front_});
  if (registry_)
    add("member registry", failure_policy::exit_process,
        {caf::actor_cast<caf::actor>(registry_)});
  // Stateless, but the scheduler and the bridge hold them: a failure ends
  // the process rather than leave federation half-working.
  if (proxy_)
    add("member proxy", failure_policy::exit_process,
        {caf::actor_cast<caf::actor>(proxy_)});
  if (fed_server_)
    add("federation server", failure_policy::exit_process,
        {caf::actor_cast<caf::actor>(fed_server_)});
  return sc;
}

std::vector<caf::actor> manager_role::spawn_drivers() {
  namespace fs = std::filesystem;
  resource_drivers_.clear();
  cloud_driver_actor compute;
  if (config_.manager.driver.kind == "instant") {
    compute = sys_.spawn(instant_driver, config_.manager.driver.capacity(),
                         config_.manager.driver.flavors);
    for (auto kind : {resource_kind::volume, resource_kind::attachment,
                      resource_kind::network})
      resource_drivers_[kind] = compute;
  } else if (config_.manager.driver.kind == "openstack") {
    compute = spawn_openstack_driver();
  } else {
    local_cloud_config lc;
    lc.root_dir = config_.manager.driver.instances_dir.empty()
                    ? (fs::path{data_dir_} / "instances").string()
                    : config_.manager.driver.instances_dir;
    lc.capacity = config_.manager.driver.capacity();
    lc.flavors = config_.manager.driver.flavors;
    lc.ip = config_.manager.driver.ip;
    lc.sandbox = sandbox_for(config_, data_dir_);
    // A host where instances cannot be confined stops the manager here,
    // saying what is missing, rather than in the driver actor.
    check_sandbox(lc.sandbox);
    // Forks and kills processes (erase may wait seconds for a process to
    // exit): it gets a thread of its own rather than a scheduler worker.
    compute = sys_.spawn<caf::detached>(local_driver, lc);
  }
  // Listed in the order the test fault injector relies on: the router (what
  // the scheduler talks to) first, then the cloud's own compute driver.
  std::vector<caf::actor> actors{caf::actor_cast<caf::actor>(compute)};
  if (tunnel_) {
    tunnel_agent_settings as;
    as.api_url = config_.manager.tunnel.url;
    as.ssh_host = config_.manager.tunnel.ssh_host;
    as.local_port = config_.manager.tunnel.local_port;
    compute = sys_.spawn(tunnel_driver, compute, tunnel_, as);
    actors.push_back(caf::actor_cast<caf::actor>(compute));
  }
  for (auto& [kind, d] : resource_drivers_) {
    auto hdl = caf::actor_cast<caf::actor>(d);
    if (std::find(actors.begin(), actors.end(), hdl) == actors.end())
      actors.push_back(hdl);
  }
  // One driver for the scheduler: kinds without a driver are refused. It
  // links to every driver under it, so they live and die together.
  auto by_kind = resource_drivers_;
  by_kind[resource_kind::compute] = compute;
  router_ = sys_.spawn(cloud_router, std::move(by_kind));
  actors.insert(actors.begin(), caf::actor_cast<caf::actor>(router_));
  return actors;
}

std::vector<order> manager_role::load_orders() {
  return startup_ask<std::vector<order>>(sys_, store_, startup_timeout,
                                         "cannot open the store", atom::load_v);
}

order_scheduler_actor manager_role::spawn_scheduler(std::vector<order> orders) {
  std::vector<instance> instances;
  try {
    instances = startup_ask<std::vector<instance>>(
      sys_, router_, startup_timeout, "cannot list the cloud's instances",
      atom::list_v);
  } catch (const std::runtime_error& e) {
    // A remote cloud may be unreachable or refuse the credentials at start.
    // Without stored instances there is nothing to reconcile, so the
    // manager starts and its orders say what is wrong; with some, starting
    // blind could replace instances that still exist: refuse.
    bool any = false;
    for (auto& o : orders)
      any = any || (!o.instance_id.empty() && !is_terminal(o.state));
    if (config_.manager.driver.kind != "openstack" || any)
      throw;
    spdlog::error("{} (starting anyway: no stored order has an instance)",
                  e.what());
  }
  spdlog::info("loaded {} orders and {} instances ({} driver)", orders.size(),
               instances.size(), config_.manager.driver.kind);
  order_scheduler_config sc;
  sc.member_id = config_.manager.member_id;
  sc.max_in_flight = config_.manager.max_in_flight;
  sc.retry_initial_ms = config_.manager.retry_initial_ms;
  sc.retry_max_ms = config_.manager.retry_max_ms;
  sc.driver_timeout =
    std::chrono::milliseconds{config_.manager.driver_timeout_ms};
  if (proxy_)
    sc.federation = scheduler_federation();
  auto scheduler = sys_.spawn(order_scheduler, store_, router_, sc,
                              std::move(orders), std::move(instances));
  if (registry_)
    caf::anon_send(registry_, atom::subscribe_v,
                   caf::actor_cast<members_listener_actor>(scheduler));
  return scheduler;
}

federation_scheduling manager_role::scheduler_federation() const {
  auto& f = config_.manager.federation;
  federation_scheduling fs;
  fs.proxy = proxy_;
  if (f.member_picker == "nof")
    fs.picker = fed::make_nof_picker(exchanges_);
  else
    fs.picker = fed::make_round_robin_picker();
  fs.validator = make_validator(f);
  fs.prioritizer = make_prioritizer(f);
  fs.capacity = capacity_;
  fs.forward_timeout = std::chrono::seconds{f.forward_timeout_s};
  fs.monitor_interval = std::chrono::milliseconds{f.monitor_interval_ms};
  fs.probe_interval = std::chrono::seconds{f.probe_interval_s};
  fs.requester_grace = std::chrono::seconds{f.requester_grace_s};
  return fs;
}

void manager_role::start_accounting(const std::vector<order>& orders) {
  namespace fs = std::filesystem;
  // Loaded before the accounting subscribes, and nothing writes the store
  // before the scheduler exists: no change falls between the two.
  exchanges_ = std::make_shared<fed::exchange_board>();
  accounting_config ac;
  ac.self_id = config_.manager.member_id;
  ac.period = std::chrono::seconds{config_.manager.accounting.period_s};
  ac.board = exchanges_;
  ac.nof = nof_settings_of(config_.manager.federation);
  accounting_ =
    sys_.spawn(accounting, (fs::path{data_dir_} / "accounting.db").string(),
               std::move(ac), orders);
  caf::anon_send(store_, atom::subscribe_v,
                 caf::actor_cast<order_listener_actor>(accounting_));
}

void manager_role::start_federation() {
  auto& f = config_.manager.federation;
  federation_server_config fc;
  fc.self_id = config_.manager.member_id;
  fc.validator = make_validator(f);
  fc.capacity = capacity_;
  fc.serve_timeout =
    std::chrono::milliseconds{config_.manager.driver_timeout_ms};
  if (test_faults_enabled())
    if (auto delay = std::getenv("FOGBOW_TEST_SERVE_DELAY_MS"))
      fc.answer_delay = std::chrono::milliseconds{std::atoll(delay)};
  fed_server_ = sys_.spawn(
    federation_server, caf::actor_cast<order_scheduler_actor>(scheduler_front_),
    tunnel_, fc);
  caf::anon_send(registry_, atom::subscribe_v,
                 caf::actor_cast<members_listener_actor>(fed_server_));
  for (auto ns : {fed::ns_order, fed::ns_getinstance, fed::ns_removeinstance,
                  fed::ns_removeorder, fed::ns_instancebeingused,
                  fed::ns_getremoteuserquota, fed::ns_storagelink,
                  fed::ns_removestoragelink})
    caf::anon_send(bridge_, atom::iq_serve_v, std::string{ns},
                   caf::actor_cast<iq_handler_actor>(fed_server_));
}

cloud_driver_actor manager_role::spawn_openstack_driver() {
  auto& os = config_.manager.driver.openstack;
  openstack_driver_config dc;
  dc.member_id = config_.manager.member_id;
  dc.endpoint.auth_url = os.auth_url;
  dc.endpoint.region = os.region;
  dc.endpoint.interface = os.interface;
  dc.endpoint.overrides = os.endpoints;
  dc.endpoint.request_timeout_ms = os.request_timeout_ms;
  dc.endpoint.renew_before_ms = os.token_renew_before_s * 1000;
  dc.endpoint.verify_tls = os.verify_tls;
  for (auto& a : os.accounts)
    dc.accounts[a.name] = {a.username,     a.password,   a.user_domain,
                           a.project_name, a.project_id, a.project_domain};
  if (os.mapper.plugin == "per-member")
    dc.mapper = std::make_shared<per_member_mapper>(
      std::map<std::string, std::string, std::less<>>(os.mapper.members.begin(),
                                                      os.mapper.members.end()),
      os.mapper.default_account);
  else
    dc.mapper = std::make_shared<single_mapper>(os.mapper.account);
  dc.network_id = os.network_id;
  dc.default_image = os.image;
  dc.workers = os.workers;
  dc.poll_interval_ms = os.poll_interval_ms;
  dc.refresh_interval_ms = os.refresh_interval_ms;
  dc.build_timeout_ms = os.build_timeout_ms;
  // One Keystone session per account, shared by the compute, volume and
  // network drivers: one token per account for all of them.
  for (auto& [name, account] : dc.accounts)
    dc.sessions[name] =
      std::make_shared<keystone_session>(dc.endpoint, account);
  openstack_resource_driver_config rc;
  rc.member_id = dc.member_id;
  rc.sessions = dc.sessions;
  rc.mapper = dc.mapper;
  rc.workers = std::max(1, os.workers / 2);
  rc.poll_interval_ms = os.poll_interval_ms;
  rc.refresh_interval_ms = os.refresh_interval_ms;
  rc.build_timeout_ms = os.build_timeout_ms;
  spdlog::info("openstack driver: Keystone {}, {} account(s), mapper {}; "
               "volumes {}, networks {}",
               os.auth_url, os.accounts.size(), os.mapper.plugin,
               os.volumes ? "on" : "off", os.networks ? "on" : "off");
  // Event-based: every HTTP call runs on their own detached worker actors.
  rc.enabled = os.volumes;
  auto volumes = sys_.spawn(openstack_volume_driver, rc);
  resource_drivers_[resource_kind::volume] = volumes;
  resource_drivers_[resource_kind::attachment] = volumes;
  rc.enabled = os.networks;
  resource_drivers_[resource_kind::network] =
    sys_.spawn(openstack_network_driver, rc);
  return sys_.spawn(openstack_driver, std::move(dc));
}

void manager_role::stop() {
  if (api_) {
    api_->stop();
    api_.reset();
  }
  faults_.reset();
  if (supervisor_) {
    // The supervisor takes every component with it; waiting for it means
    // no restart still runs (and uses this object) once stop() returns.
    caf::scoped_actor self{sys_};
    self->monitor(supervisor_);
    self->send_exit(supervisor_, caf::exit_reason::user_shutdown);
    self->receive(
      [](const caf::down_msg&) {},
      caf::after(shutdown_timeout) >>
        [] { spdlog::warn("the supervisor did not stop in time"); });
  } else {
    // start() failed before the supervisor existed.
    for (auto& hdl : {caf::actor_cast<caf::actor>(accounting_),
                      caf::actor_cast<caf::actor>(registry_),
                      caf::actor_cast<caf::actor>(proxy_),
                      caf::actor_cast<caf::actor>(fed_server_),
                      caf::actor_cast<caf::actor>(router_), scheduler_front_,
                      caf::actor_cast<caf::actor>(tunnel_),
                      caf::actor_cast<caf::actor>(store_)})
      if (hdl)
        caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  }
  supervisor_ = nullptr;
  registry_ = nullptr;
  proxy_ = nullptr;
  fed_server_ = nullptr;
  scheduler_front_ = nullptr;
  router_ = nullptr;
  tunnel_ = nullptr;
  accounting_ = nullptr;
  store_ = nullptr;
}

void manager_role::enable_federation(xmpp_bridge_actor bridge) {
  bridge_ = std::move(bridge);
}

} // namespace fogbow
