#include "roles/config_command.hpp"

#include "roles/config.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace fogbow {

namespace {

constexpr int exit_invalid = 1;
constexpr int exit_usage = 2;

int check(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    std::cerr << "error: " << path << ": cannot read the configuration file\n";
    return exit_usage;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto errors = config_errors(text.str(), path);
  if (errors.empty()) {
    std::cout << "ok\n";
    return 0;
  }
  for (auto& e : errors)
    std::cerr << "error: " << e << "\n";
  return exit_invalid;
}

} // namespace

bool is_config_command(std::string_view first_arg) {
  return first_arg == "config";
}

int run_config_command(int argc, char** argv) {
  CLI::App app{"The configuration file: check one, or print every key with "
               "its default.",
               "fogbow"};
  app.require_subcommand(1);
  auto* config = app.add_subcommand("config", "TOML configuration files");
  config->require_subcommand(1);
  std::string path;
  auto* check_cmd = config->add_subcommand(
    "check", "Check FILE as `fogbow --config FILE` would: prints \"ok\" "
             "(exit 0) or every error (exit 1)");
  check_cmd->add_option("file", path, "TOML configuration file")->required();
  auto* defaults_cmd = config->add_subcommand(
    "defaults", "Print a complete, commented TOML file with every key, its "
                "help and its default");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }
  if (check_cmd->parsed())
    return check(path);
  if (defaults_cmd->parsed())
    std::cout << default_config_text();
  return 0;
}

} // namespace fogbow
