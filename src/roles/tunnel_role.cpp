#include "roles/tunnel_role.hpp"

#include "actors/errors.hpp"
#include "actors/supervisor.hpp"
#include "actors/tunnel_allocator.hpp"
#include "http/tunnel_api.hpp"
#include "roles/http_transport.hpp"
#include "roles/startup.hpp"
#include "tunnel/ssh_server.hpp"
#include "util/log_safe.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace fogbow {

namespace {

constexpr auto ask_timeout = std::chrono::seconds(5);

/// The SSH server's questions, answered by the allocator actor.
class allocator_policy : public tunnel::ssh_policy {
public:
  allocator_policy(caf::actor_system& sys, tunnel_allocator_actor allocator)
      : sys_(sys), allocator_(std::move(allocator)) {}

  std::optional<std::string> check_key(const std::string& user,
                                       const std::string& key) override {
    return ask_base(atom::tunnel_auth_key_v, user, key);
  }

  std::optional<std::string>
  check_password(const std::string& user,
                 const std::string& password) override {
    return ask_base(atom::tunnel_auth_v, user, password);
  }

  bool forward(std::uint64_t sid, const std::string& base, int port) override {
    bool ok = false;
    caf::scoped_actor self{sys_};
    self
      ->request(allocator_, ask_timeout, atom::tunnel_forward_v, sid, base,
                port)
      .receive([&](bool granted) { ok = granted; },
               [&](const caf::error&) { ok = false; });
    return ok;
  }

  void closed(std::uint64_t sid, const std::string& base) override {
    caf::anon_send(allocator_, atom::tunnel_closed_v, sid, base);
  }

private:
  template <class Atom>
  std::optional<std::string> ask_base(Atom a, const std::string& user,
                                      const std::string& credential) {
    std::optional<std::string> base;
    caf::scoped_actor self{sys_};
    self->request(allocator_, ask_timeout, a, user, credential)
      .receive([&](std::string& b) { base = std::move(b); },
               [&](const caf::error&) {});
    if (!base)
      spdlog::info("tunnel: login {} refused", log_safe(user));
    return base;
  }

  caf::actor_system& sys_;
  tunnel_allocator_actor allocator_;
};

} // namespace

tunnel_role::tunnel_role(caf::actor_system& sys, fogbow_config config,
                         std::string data_dir)
    : sys_(sys), config_(std::move(config)), data_dir_(std::move(data_dir)) {}

tunnel_role::~tunnel_role() {
  stop();
}

void tunnel_role::start() {
  namespace fs = std::filesystem;
  create_data_dir(data_dir_);
  auto& c = config_;
  // The server is created first so that the allocator can close ports
  // through it; the policy gets the allocator right after.
  auto server_holder = std::make_shared<std::shared_ptr<tunnel::ssh_server>>();
  tunnel_allocator_config ac;
  ac.port_low = c.tunnel.port_low;
  ac.port_high = c.tunnel.port_high;
  ac.idle_timeout_ms = c.tunnel.idle_token_timeout_s * 1000;
  ac.max_named_tokens = c.tunnel.max_named_tokens_per_token;
  ac.sweep_interval_ms = std::min<std::int64_t>(
    30000, std::max<std::int64_t>(1000, ac.idle_timeout_ms / 4));
  ac.close_port = [server_holder](int port) {
    if (auto s = *server_holder)
      s->close_port(port);
  };
  ac.claim_port = [server_holder](std::uint64_t sid, int port) {
    auto s = *server_holder;
    return s && s->claim_port(sid, port);
  };
  allocator_ = sys_.spawn(tunnel_allocator,
                          (fs::path{data_dir_} / "tunnel.db").string(), ac);
  // Fails fast when the database cannot be opened.
  startup_ask<std::vector<tunnel_token_info>>(
    sys_, allocator_, std::chrono::seconds(30),
    "tunnel: cannot open the token database", atom::list_v);
  // The SSH server and the HTTP API hold the allocator: when it dies the
  // process stops and is started again from the token database.
  supervisor_config sup;
  sup.role = "tunnel";
  sup.on_fatal = [](const std::string&) { request_fatal_exit(); };
  auto& alloc = sup.components.emplace_back();
  alloc.name = "tunnel allocator";
  alloc.policy = failure_policy::exit_process;
  alloc.actors = {caf::actor_cast<caf::actor>(allocator_)};
  supervisor_ = sys_.spawn(supervisor, std::move(sup));
  tunnel::ssh_server_config sc;
  sc.bind_address = c.tunnel.ssh_bind;
  sc.port = c.tunnel.ssh_port;
  sc.public_bind = c.tunnel.public_bind;
  sc.host_key_path = c.tunnel.host_key.empty()
                       ? (fs::path{data_dir_} / "tunnel_host_ed25519").string()
                       : c.tunnel.host_key;
  sc.login_timeout_s = c.tunnel.login_timeout_s;
  sc.idle_timeout_s = c.tunnel.client_timeout_s;
  sc.max_sessions = c.tunnel.max_sessions;
  sc.max_unauthenticated = c.tunnel.max_unauthenticated;
  sc.max_unauthenticated_per_address = c.tunnel.max_unauthenticated_per_address;
  sc.max_forwards_per_session = c.tunnel.max_forwards_per_session;
  server_ = std::make_shared<tunnel::ssh_server>(
    sc, std::make_shared<allocator_policy>(sys_, allocator_));
  *server_holder = server_;
  ssh_port_ = server_->start();

  tunnel_api_config hc;
  hc.bind_address = c.tunnel.http_bind;
  hc.port = c.tunnel.http_port;
  hc.manager_secret = c.tunnel.manager_secret;
  hc.ssh_port = ssh_port_;
  hc.host_key = server_->host_key();
  hc.parse_key = tunnel::parse_public_key;
  hc.listen_backlog = c.http.listen_backlog;
  hc.metrics = c.metrics.enabled;
  hc.transport = http_transport(c.http, c.tunnel.http_tls_cert,
                                c.tunnel.http_tls_key, "tunnel.http_tls");
  api_ = std::make_unique<tunnel_api>(sys_, allocator_, hc);
  http_port_ = api_->start();
  spdlog::info("tunnel: SSH on {}:{}, HTTP API on {}://{}:{}, public ports "
               "{}..{} on {}",
               c.tunnel.ssh_bind, ssh_port_,
               c.tunnel.http_tls_cert.empty() ? "http" : "https",
               c.tunnel.http_bind, http_port_, c.tunnel.port_low,
               c.tunnel.port_high, c.tunnel.public_bind);
  auto lim = server_->limits();
  spdlog::info("tunnel: {} open files; at most {} connections logging in "
               "({} per address, {} s each), {} sessions",
               lim.open_files, lim.unauthenticated, lim.per_address,
               c.tunnel.login_timeout_s, lim.sessions);
}

void tunnel_role::stop() {
  if (api_) {
    api_->stop();
    api_.reset();
  }
  if (server_) {
    server_->stop();
  }
  // The supervisor takes the allocator with it.
  if (supervisor_)
    caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
  else if (allocator_)
    caf::anon_send_exit(allocator_, caf::exit_reason::user_shutdown);
  supervisor_ = nullptr;
  allocator_ = nullptr;
}

void use_local_tunnel(fogbow_config& config, const tunnel_role& tunnel) {
  if (config.manager.tunnel.configured || !config.tunnel.configured)
    return;
  auto host = config.tunnel.http_bind == "0.0.0.0" ? std::string{"127.0.0.1"}
                                                   : config.tunnel.http_bind;
  auto ssh_host = config.tunnel.ssh_bind == "0.0.0.0" ? std::string{"127.0.0.1"}
                                                      : config.tunnel.ssh_bind;
  config.manager.tunnel.configured = true;
  config.manager.tunnel.url =
    (config.tunnel.http_tls_cert.empty() ? "http://" : "https://") + host + ":"
    + std::to_string(tunnel.http_port());
  config.manager.tunnel.secret = config.tunnel.manager_secret;
  config.manager.tunnel.ssh_host = ssh_host;
  config.manager.tunnel.public_host = config.tunnel.public_bind == "0.0.0.0"
                                        ? std::string{"127.0.0.1"}
                                        : config.tunnel.public_bind;
}

} // namespace fogbow
