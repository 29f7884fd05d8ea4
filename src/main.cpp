// fogbow: one executable for every role of a Fogbow site, and the user's
// command-line client.
//   fogbow --role=ROLES [--config FILE] [--data-dir DIR] [--http-port N] ...
//   fogbow <noun> <verb> ...        (order, compute, volume, network,
//                                    attachment, member, quota, login)
//   fogbow config check FILE | defaults

#include "cli/client.hpp"
#include "roles/config.hpp"
#include "roles/config_command.hpp"
#include "roles/http_transport.hpp"
#include "roles/logging.hpp"
#include "roles/manager_role.hpp"
#include "roles/rendezvous_role.hpp"
#include "roles/startup.hpp"
#include "roles/test_faults.hpp"
#include "roles/tunnel_role.hpp"
#include "xmpp/xmpp_bridge.hpp"

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <set>
#include <sstream>
#include <thread>

namespace {

const std::set<std::string> known_roles{"manager", "rendezvous", "tunnel"};

std::set<std::string> parse_roles(const std::string& text) {
  std::set<std::string> roles;
  std::stringstream in{text};
  std::string role;
  while (std::getline(in, role, ',')) {
    if (role == "all") {
      roles.insert(known_roles.begin(), known_roles.end());
      continue;
    }
    if (!known_roles.count(role))
      throw CLI::ValidationError("--role", "unknown role '" + role
                                             + "' (expected manager, "
                                               "rendezvous, tunnel or all)");
    roles.insert(role);
  }
  if (roles.empty())
    throw CLI::ValidationError("--role", "no role given");
  return roles;
}

fogbow::xmpp_account xmpp_account_for(const fogbow::fogbow_config& c,
                                      const std::string& jid,
                                      const std::string& password) {
  fogbow::xmpp_account a;
  a.jid = jid;
  a.password = password;
  a.host = c.xmpp.host;
  a.port = c.xmpp.port;
  a.tls = c.xmpp.tls;
  a.ignore_tls_errors = c.xmpp.ignore_tls_errors;
  a.request_timeout_ms = c.xmpp.request_timeout_ms;
  a.reconnect_max_ms = c.xmpp.reconnect_max_ms;
  return a;
}

const char* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

/// With XMPP (rendezvous, or a federated manager): Qt's event loop owns the
/// main thread (the bridges live there), a helper thread waits for
/// SIGINT/SIGTERM and asks the loop to return; then everything stops in
/// order: REST API, actors, bridges, actor system (the actor system's
/// destructor waits for every actor, and a bridge's companion actor must be
/// cleaned up on the Qt thread before it).
int run_with_xmpp(caf::actor_system& sys, const fogbow::fogbow_config& config,
                  const std::set<std::string>& roles,
                  const std::string& data_dir, sigset_t stop_signals) {
  fogbow::qt_loop loop;
  std::optional<fogbow::xmpp_bridge> rendezvous_bridge, manager_bridge;
  std::optional<fogbow::rendezvous_role> rendezvous;
  std::optional<fogbow::manager_role> manager;
  int exit_code = 0;
  try {
    if (roles.count("rendezvous")) {
      rendezvous_bridge.emplace(sys,
                                xmpp_account_for(config, config.rendezvous.jid,
                                                 config.rendezvous.password));
      rendezvous.emplace(sys, config);
      rendezvous->start(rendezvous_bridge->handle());
    }
    if (roles.count("manager")) {
      manager.emplace(sys, config, data_dir,
                      std::vector<std::string>(roles.begin(), roles.end()));
      if (config.manager.federation.configured) {
        manager_bridge.emplace(
          sys, xmpp_account_for(config, config.manager.federation.jid,
                                config.manager.federation.password));
        manager->enable_federation(manager_bridge->handle());
      }
      int port = manager->start();
      spdlog::info("manager {} listening on {}://{}:{}",
                   config.manager.member_id,
                   config.http.tls_cert.empty() ? "http" : "https",
                   config.http.bind, port);
    }
    std::atomic<int> got_signal = 0;
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      got_signal = sig;
      fogbow::qt_loop::quit();
    });
    loop.exec();
    // SIGTERM is blocked everywhere and sigwait()ed by the waiter: it
    // wakes that thread, it does not kill it.
    if (got_signal == 0)
      // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread): see above
      pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    spdlog::info("received {}, shutting down", signal_name(got_signal));
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    exit_code = 1;
  }
  if (manager)
    manager->stop();
  if (rendezvous)
    rendezvous->stop();
  manager_bridge.reset();
  rendezvous_bridge.reset();
  return exit_code;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && fogbow::cli::is_client_command(argv[1]))
    return fogbow::cli::run_client(argc, argv);
  if (argc > 1 && fogbow::is_config_command(argv[1]))
    return fogbow::run_config_command(argc, argv);

  CLI::App app{
    "Fogbow: federated private IaaS clouds. Runs the roles of a "
    "site (--role), or acts as the user's client "
    "(fogbow order|compute|volume|network|attachment|member|quota|login "
    "--help). "
    "`fogbow config check FILE` checks a configuration file, "
    "`fogbow config defaults` prints every key with its "
    "default."};
  app.name("fogbow");
  std::string role_text, config_path, data_dir = "fogbow-data", log_level,
                                      log_format;
  int http_port = -1;
  app
    .add_option("--role", role_text,
                "Roles to run: manager, rendezvous, tunnel, or all "
                "(comma-separated)")
    ->required();
  app
    .add_option("--config", config_path,
                "TOML configuration file "
                "(see config/*.toml)")
    ->check(CLI::ExistingFile);
  app
    .add_option("--data-dir", data_dir,
                "Directory for databases and local instances")
    ->capture_default_str();
  app
    .add_option("--http-port", http_port,
                "REST API port; 0 picks a free port (overrides [http] port)")
    ->check(CLI::Range(0, 65535));
  app
    .add_option("--log-level", log_level,
                "trace, debug, info, warn, error or off (overrides [log] "
                "level)")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app
    .add_option("--log-format", log_format,
                "text, or json: one JSON object per line (time, level, "
                "logger, message) for log shippers (overrides [log] format)")
    ->check(CLI::IsMember({"text", "json"}));
  app.set_version_flag("--version", std::string{"fogbow " FOGBOW_VERSION});
  CLI11_PARSE(app, argc, argv);

  std::set<std::string> roles;
  fogbow::fogbow_config config;
  try {
    roles = parse_roles(role_text);
    if (!config_path.empty())
      config = fogbow::load_config(config_path);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "fogbow: " << e.what() << "\n";
    return 2;
  }
  // --role=all runs the rendezvous and the tunnel when they are configured;
  // naming one of them explicitly without its section is an error.
  bool all = role_text.find("all") != std::string::npos;
  auto named = [&](const char* role) {
    return role_text.find(role) != std::string::npos;
  };
  if (roles.count("tunnel") && !config.tunnel.configured) {
    if (!all || named("tunnel")) {
      std::cerr << "fogbow: the tunnel role needs a [tunnel] section (see "
                   "config/tunnel.toml)\n";
      return 2;
    }
    roles.erase("tunnel");
  }
  if (roles.count("rendezvous") && !config.rendezvous.configured) {
    if (!all || named("rendezvous")) {
      std::cerr
        << "fogbow: the rendezvous role needs [xmpp] and [rendezvous] "
           "sections in the configuration (see config/federation-*.toml)\n";
      return 2;
    }
    roles.erase("rendezvous");
  }
  if (http_port >= 0)
    config.http.port = http_port;
  fogbow::setup_logging(log_level.empty() ? config.log.level : log_level,
                        log_format.empty() ? config.log.format : log_format);
  if (all) {
    std::string running;
    for (auto& r : roles)
      running += (running.empty() ? "" : ", ") + r;
    spdlog::info("--role=all runs: {}{}{}{}", running,
                 config.rendezvous.configured ? ""
                                              : " (no [rendezvous] section)",
                 config.tunnel.configured ? "" : " (no [tunnel] section)",
                 config.manager.federation.configured
                   ? ""
                   : "; the manager runs standalone (no [manager.federation])");
  }
  bool need_xmpp =
    roles.count("rendezvous")
    || (roles.count("manager") && config.manager.federation.configured);

  // Every thread inherits this mask, so SIGINT/SIGTERM reach only sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t blocked = stop_signals;
  fogbow::add_test_fault_signals(blocked);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config caf_config;
  caf_config.set("logger.verbosity", caf::atom("quiet"));
  // Work sharing (one queue, workers sleep on a condition variable), not
  // CAF's default work stealing, whose idle workers poll with 50 us sleeps:
  // on a small VM shared with Prosody and the other roles that polling
  // took the CPU the work needed (bench/federation: 1.6-2.1x the forwarded
  // orders/s and a lower one-at-a-time p50 with sharing; bench/README.md).
  caf_config.set("scheduler.policy", caf::atom("sharing"));
  int exit_code = 0;
  caf::actor_system sys{caf_config};
  // The tunnel runs its own threads, beside either way of running the rest.
  fogbow::tunnel_role tunnel{sys, config, data_dir};
  std::unique_ptr<fogbow::metrics_server> metrics;
  try {
    metrics = fogbow::start_metrics_server(config);
    if (roles.count("tunnel")) {
      tunnel.start();
      fogbow::use_local_tunnel(config, tunnel);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    tunnel.stop();
    return 1;
  }
  if (need_xmpp) {
    exit_code = run_with_xmpp(sys, config, roles, data_dir, stop_signals);
  } else {
    std::vector<std::string> role_list(roles.begin(), roles.end());
    std::optional<fogbow::manager_role> manager;
    try {
      if (roles.count("manager")) {
        manager.emplace(sys, config, data_dir, role_list);
        int port = manager->start();
        spdlog::info("manager {} listening on {}://{}:{}",
                     config.manager.member_id,
                     config.http.tls_cert.empty() ? "http" : "https",
                     config.http.bind, port);
      }
      int sig = 0;
      sigwait(&stop_signals, &sig);
      spdlog::info("received {}, shutting down", signal_name(sig));
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      exit_code = 1;
    }
    if (manager)
      manager->stop();
  }
  tunnel.stop();
  metrics.reset();
  if (fogbow::fatal_exit_requested()) {
    spdlog::error("stopped after a fatal failure (see above)");
    return 1;
  }
  spdlog::info("stopped");
  return exit_code;
}
