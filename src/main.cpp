// fogbow: one executable for every role of a Fogbow site, and the user's
// command-line client.
//   fogbow --role=ROLES [--config FILE] [--data-dir DIR] [--http-port N] ...
//   fogbow <noun> <verb> ...        (order, compute, member, quota)

#include "cli/client.hpp"
#include "roles/config.hpp"
#include "roles/manager_role.hpp"
#include "roles/tunnel_role.hpp"

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <set>
#include <sstream>

namespace {

const std::set<std::string> known_roles{"manager", "rendezvous", "tunnel"};
// Roles this build can run; the others are being built (see README).
const std::set<std::string> available_roles{"manager", "tunnel"};

std::set<std::string> parse_roles(const std::string& text) {
  std::set<std::string> roles;
  std::stringstream in{text};
  std::string role;
  while (std::getline(in, role, ',')) {
    if (role == "all") {
      roles.insert(available_roles.begin(), available_roles.end());
      continue;
    }
    if (!known_roles.count(role))
      throw CLI::ValidationError("--role", "unknown role '" + role
                                             + "' (expected manager, "
                                               "rendezvous, tunnel or all)");
    if (!available_roles.count(role))
      throw CLI::ValidationError("--role", "the " + role
                                             + " role is not available in "
                                               "this version yet");
    roles.insert(role);
  }
  if (roles.empty())
    throw CLI::ValidationError("--role", "no role given");
  return roles;
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("fogbow");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && fogbow::cli::is_client_command(argv[1]))
    return fogbow::cli::run_client(argc, argv);

  CLI::App app{"Fogbow: federated private IaaS clouds. Runs the roles of a "
               "site (--role), or acts as the user's client "
               "(fogbow order|compute|member|quota --help)."};
  app.name("fogbow");
  std::string role_text, config_path, data_dir = "fogbow-data", log_level;
  int http_port = -1;
  app.add_option("--role", role_text,
                 "Roles to run: manager, rendezvous, tunnel, or all "
                 "(comma-separated)")
    ->required();
  app.add_option("--config", config_path, "TOML configuration file "
                                          "(see config/*.toml)")
    ->check(CLI::ExistingFile);
  app.add_option("--data-dir", data_dir,
                 "Directory for databases and local instances")
    ->capture_default_str();
  app.add_option("--http-port", http_port,
                 "REST API port; 0 picks a free port (overrides [http] port)")
    ->check(CLI::Range(0, 65535));
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error or off (overrides [log] "
                 "level)")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
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
  if (role_text.find("all") != std::string::npos && !config.tunnel_configured)
    roles.erase("tunnel"); // --role=all runs the tunnel when it is configured
  if (roles.count("tunnel") && !config.tunnel_configured) {
    std::cerr << "fogbow: the tunnel role needs a [tunnel] section\n";
    return 2;
  }
  if (http_port >= 0)
    config.http_port = http_port;
  setup_logging(log_level.empty() ? config.log_level : log_level);
  if (role_text.find("all") != std::string::npos)
    spdlog::info("--role=all runs the roles this version has: manager, and "
                 "the tunnel when [tunnel] is configured (rendezvous: not yet)");

  // Every thread inherits this mask, so SIGINT/SIGTERM reach only sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config caf_config;
  caf_config.set("logger.verbosity", caf::atom("quiet"));
  int exit_code = 0;
  {
    caf::actor_system sys{caf_config};
    std::vector<std::string> role_list(roles.begin(), roles.end());
    fogbow::tunnel_role tunnel{sys, config, data_dir};
    std::optional<fogbow::manager_role> manager;
    try {
      if (roles.count("tunnel")) {
        tunnel.start();
        fogbow::use_local_tunnel(config, tunnel);
      }
      if (roles.count("manager")) {
        manager.emplace(sys, config, data_dir, role_list);
        int port = manager->start();
        spdlog::info("manager {} listening on http://{}:{}", config.member_id,
                     config.http_bind, port);
      }
      int sig = 0;
      sigwait(&stop_signals, &sig);
      spdlog::info("received {}, shutting down",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      exit_code = 1;
    }
    if (manager)
      manager->stop();
    tunnel.stop();
  }
  spdlog::info("stopped");
  return exit_code;
}
