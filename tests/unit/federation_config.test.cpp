// The federation sections of the configuration ([xmpp],
// [manager.federation], [rendezvous]) and the whitelist file.

#include "roles/config.hpp"
#include "roles/rendezvous_role.hpp"
#include "support/config_errors.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

using namespace fogbow;
using fogbow::test::error_of;
using fogbow::test::mentions;

namespace {

const std::string xmpp = "[xmpp]\nhost = \"h\"\ntls = \"disabled\"\n";

} // namespace

TEST_CASE("federation examples load, and the documented keys are valid") {
  std::string dir = FOGBOW_SOURCE_DIR "/config/";
  auto m = load_config(dir + "federation-manager.toml");
  CHECK(m.manager.federation.configured);
  CHECK(m.manager.federation.jid == "site-a@xmpp.example.org/fogbow");
  CHECK(m.xmpp.tls == "required");
  auto r = load_config(dir + "federation-rendezvous.toml");
  CHECK(r.rendezvous.configured);
  CHECK(r.rendezvous.whitelist == "file");
  CHECK(r.rendezvous.neighbors.size() == 1);
  // all-in-one.toml documents every federation key in comments: uncommented,
  // they must be a valid configuration too.
  std::ifstream in{dir + "all-in-one.toml"};
  std::stringstream buf;
  buf << in.rdbuf();
  auto aio = load_config(dir + "all-in-one.toml");
  CHECK_FALSE(aio.xmpp.configured); // the demo runs standalone
  std::regex commented_key{R"(^# (\[[a-z.]+\]|[a-z_]+ = .*)$)",
                           std::regex::multiline};
  auto uncommented = std::regex_replace(buf.str(), commented_key, "$1");
  auto full = parse_config(uncommented, "all-in-one.toml (uncommented)");
  CHECK(full.xmpp.configured);
  CHECK(full.manager.federation.configured);
  CHECK(full.rendezvous.configured);
  CHECK(full.rendezvous.period_ms * full.rendezvous.max_lost == 9000);
}

TEST_CASE("federation settings are checked") {
  CHECK(mentions(error_of("[rendezvous]\njid = \"r@x/y\"\n"),
                 "need an [xmpp] section"));
  CHECK(mentions(error_of(xmpp + "[rendezvous]\njid = \"r@x\"\n"),
                 "'rendezvous.jid' must be a full JID"));
  CHECK(mentions(error_of(xmpp + "[manager.federation]\njid = \"a@x/r\"\n"
                                 "rendezvous = \"bare@x\"\n"),
                 "'manager.federation.rendezvous' must be a full JID"));
  CHECK(mentions(error_of("[xmpp]\ntls = \"maybe\"\n"), "'xmpp.tls'"));
  CHECK(mentions(error_of("[xmpp]\nport = 0\n"), "'xmpp.port'"));
  CHECK(mentions(error_of("[xmpp]\nsecret = 1\n"), "unknown key 'xmpp.secret'"));
  CHECK(mentions(error_of(xmpp + "[rendezvous]\njid = \"r@x/y\"\n"
                                 "whitelist = \"file\"\n"),
                 "needs 'rendezvous.whitelist_file'"));
  CHECK(mentions(error_of(xmpp + "[rendezvous]\njid = \"r@x/y\"\n"
                                 "whitelist = \"deny\"\n"),
                 "'rendezvous.whitelist'"));
  CHECK(mentions(error_of(xmpp + "[rendezvous]\njid = \"r@x/y\"\n"
                                 "neighbors = [\"n@x\"]\n"),
                 "rendezvous.neighbors[]"));
  CHECK(mentions(error_of(xmpp + "[rendezvous]\njid = \"r@x/y\"\n"
                                 "max_lost = 0\n"),
                 "'rendezvous.max_lost'"));
  CHECK(mentions(error_of("[xmpp]\nignore_tls_errors = \"yes\"\n"),
                 "must be true or false"));
}

TEST_CASE("whitelist files: comments, blanks, trimming; missing file throws") {
  auto path = std::string{"/tmp/fogbow-whitelist-test.txt"};
  {
    std::ofstream out{path};
    out << "# admitted\n  a@x  \n\nb@y\r\n#c@z\n";
  }
  CHECK(load_whitelist(path) == std::set<std::string>{"a@x", "b@y"});
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(load_whitelist(path),
                       doctest::Contains("cannot read the rendezvous whitelist"),
                       std::runtime_error);
}
