// The key table of the configuration: the shipped examples and the
// documentation of config/all-in-one.toml agree with it, and
// `fogbow config defaults` prints a file that loads and means the defaults.

#include "roles/config.hpp"
#include "support/config_errors.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

using namespace fogbow;
using fogbow::test::error_of;
using fogbow::test::mentions;

namespace {

const std::string config_dir = FOGBOW_SOURCE_DIR "/config/";

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  REQUIRE(in);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

/// "section.key" of every key of the table; table keys (of strings or
/// integers) also in `free_form` (their sub-keys are the operator's own
/// names).
std::set<std::string> table_keys(std::set<std::string>* free_form = nullptr) {
  std::set<std::string> keys;
  for (auto& section : config_sections())
    for (auto& key : section.keys) {
      keys.insert(section.path + "." + key.name);
      if (free_form && key.type.starts_with("table of"))
        free_form->insert(section.path + "." + key.name);
    }
  return keys;
}

/// "section.key" of every key a TOML file shows, written or commented out
/// ("key = value" or "# key = value" under a "[section]" or "# [section]"
/// line, indentation allowed). Sub-keys of free-form tables are skipped.
std::set<std::string> shown_keys(const std::string& text,
                                 const std::set<std::string>& free_form) {
  static const std::regex header{R"(^\[\[?([a-z_.]+)\]\]?\s*(#.*)?$)"};
  static const std::regex key{R"(^([a-z][a-z0-9_]*) = .*$)"};
  std::set<std::string> shown;
  std::string section;
  bool skip = false;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    auto start = line.find_first_not_of("# \t");
    if (line.starts_with("# #") || start == std::string::npos)
      continue;
    line = line.substr(start);
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      section = m[1];
      skip = free_form.count(section) > 0;
      if (skip)
        shown.insert(section);
    } else if (!skip && std::regex_match(line, m, key)) {
      shown.insert(section + "." + std::string{m[1]});
    }
  }
  return shown;
}

std::vector<std::string> example_files() {
  std::vector<std::string> files;
  for (auto& entry : std::filesystem::directory_iterator{config_dir})
    if (entry.path().extension() == ".toml")
      files.push_back(entry.path().string());
  return files;
}

} // namespace

TEST_CASE("config/all-in-one.toml documents every key of the table") {
  std::set<std::string> free_form;
  auto keys = table_keys(&free_form);
  auto shown = shown_keys(read_file(config_dir + "all-in-one.toml"), free_form);
  for (auto& k : keys) {
    INFO("key: ", k);
    CHECK(shown.count(k) == 1);
  }
}

TEST_CASE("the config/*.toml examples show only keys of the table") {
  std::set<std::string> free_form;
  auto keys = table_keys(&free_form);
  auto files = example_files();
  CHECK(files.size() >= 7);
  for (auto& file : files)
    for (auto& k : shown_keys(read_file(file), free_form)) {
      INFO(file, ": ", k);
      CHECK(keys.count(k) == 1);
    }
}

TEST_CASE("every config/*.toml example passes the check") {
  for (auto& file : example_files()) {
    INFO(file);
    CHECK(config_errors(read_file(file), file) == std::vector<std::string>{});
  }
}

TEST_CASE("the printed defaults load, mean the defaults and show every key") {
  auto text = default_config_text();
  CHECK(config_errors(text, "defaults") == std::vector<std::string>{});
  auto printed = parse_config(text, "defaults");
  auto empty = parse_config("", "empty");
  CHECK(printed.manager.member_id == empty.manager.member_id);
  CHECK(printed.manager.driver.kind == empty.manager.driver.kind);
  CHECK(printed.manager.driver.sandbox == "bwrap");
  CHECK(printed.manager.driver.flavors == default_flavors());
  CHECK(printed.http.port == empty.http.port);
  CHECK(printed.log.level == empty.log.level);
  CHECK_FALSE(printed.tunnel.configured);
  CHECK_FALSE(printed.xmpp.configured);
  CHECK_FALSE(printed.manager.tunnel.configured);
  std::set<std::string> free_form;
  auto shown = shown_keys(text, free_form);
  for (auto& k : table_keys()) {
    INFO("key: ", k);
    CHECK(shown.count(k) == 1);
  }
  // Every key says what it is for.
  for (auto& section : config_sections())
    for (auto& key : section.keys) {
      INFO(section.path, ".", key.name);
      CHECK_FALSE(key.help.empty());
      CHECK_FALSE(key.type.empty());
    }
}

TEST_CASE("the table's ranges and allowed values are enforced") {
  CHECK(mentions(error_of("[manager.driver]\nsandbox = \"docker\"\n"),
                 "'manager.driver.sandbox' must be \"bwrap\" or \"none\""));
  CHECK(parse_config("[manager.driver]\nsandbox = \"none\"\n", "t")
          .manager.driver.sandbox
        == "none");
  CHECK(mentions(error_of("[log]\nlevel = \"loud\"\n"), "'log.level' must be"));
  CHECK(mentions(error_of("[manager.driver.openstack.mapper]\n"),
                 "'manager.driver.openstack' needs kind = \"openstack\""));
  CHECK(mentions(error_of("[http]\nthreads = 0\n"),
                 "'http.threads' must be between 1 and 256"));
  CHECK(mentions(error_of("[rendezvous]\nneighbors = [1]\n"),
                 "'rendezvous.neighbors' must be a list of strings"));
}

TEST_CASE("every error of a file is reported, each naming its key") {
  auto errors = config_errors("[http]\nport = \"80\"\nthreads = 0\n"
                              "[manager]\nmember_idd = 1\n",
                              "f.toml");
  REQUIRE(errors.size() == 3);
  CHECK(mentions(errors[0], "f.toml: unknown key 'manager.member_idd'"));
  CHECK(mentions(errors[1], "'http.port' must be an integer"));
  CHECK(mentions(errors[2], "'http.threads' must be between"));
  CHECK(config_errors("", "e.toml").empty());
}
