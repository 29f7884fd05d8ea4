// The federation sections of the configuration ([xmpp],
// [manager.federation], [rendezvous]) and the whitelist file.

#include "roles/config.hpp"
#include "roles/rendezvous_role.hpp"
#include "support/config_errors.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
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
  CHECK(m.manager.member_id == "site-a@xmpp.example.org");
  CHECK(m.manager.federation.member_validator == "whitelist");
  CHECK(m.manager.federation.donate_to.size() == 2);
  CHECK(m.manager.federation.receive_from
        == std::vector<std::string>{"site-b@xmpp.example.org"});
  CHECK(m.manager.federation.capacity_controller == "fixed");
  CHECK(m.manager.federation.max_donated == 2);
  CHECK(m.manager.federation.donated_caps
        == std::map<std::string, std::int64_t>{{"site-b@xmpp.example.org", 8}});
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
  // A federated manager's member id is its bare JID: the standalone demo's
  // member_id would contradict it.
  uncommented = std::regex_replace(
    uncommented, std::regex{"^member_id = .*$", std::regex::multiline}, "");
  auto full = parse_config(uncommented, "all-in-one.toml (uncommented)");
  CHECK(full.xmpp.configured);
  CHECK(full.manager.federation.configured);
  CHECK(full.manager.member_id == "site-a@xmpp.example.org");
  CHECK(full.manager.federation.member_picker == "round-robin");
  CHECK(full.rendezvous.configured);
  CHECK(full.rendezvous.period_ms * full.rendezvous.max_lost == 9000);
}

TEST_CASE("federation settings are checked") {
  CHECK(mentions(error_of("[rendezvous]\njid = \"r@x/y\"\n"),
                 "need an [xmpp] section"));
  CHECK(mentions(error_of(xmpp + "[rendezvous]\njid = \"r@x\"\n"),
                 "'rendezvous.jid' must be a full JID"));
  CHECK(mentions(error_of(xmpp
                          + "[manager.federation]\njid = \"a@x/r\"\n"
                            "rendezvous = \"bare@x\"\n"),
                 "'manager.federation.rendezvous' must be a full JID"));
  CHECK(mentions(error_of("[xmpp]\ntls = \"maybe\"\n"), "'xmpp.tls'"));
  CHECK(mentions(error_of("[xmpp]\nport = 0\n"), "'xmpp.port'"));
  CHECK(
    mentions(error_of("[xmpp]\nsecret = 1\n"), "unknown key 'xmpp.secret'"));
  CHECK(mentions(error_of(xmpp
                          + "[rendezvous]\njid = \"r@x/y\"\n"
                            "whitelist = \"file\"\n"),
                 "needs 'rendezvous.whitelist_file'"));
  CHECK(mentions(error_of(xmpp
                          + "[rendezvous]\njid = \"r@x/y\"\n"
                            "whitelist = \"deny\"\n"),
                 "'rendezvous.whitelist'"));
  CHECK(mentions(error_of(xmpp
                          + "[rendezvous]\njid = \"r@x/y\"\n"
                            "neighbors = [\"n@x\"]\n"),
                 "rendezvous.neighbors[]"));
  CHECK(mentions(error_of(xmpp
                          + "[rendezvous]\njid = \"r@x/y\"\n"
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
  CHECK_THROWS_WITH_AS(
    load_whitelist(path),
    doctest::Contains("cannot read the rendezvous whitelist"),
    std::runtime_error);
}

namespace {

const std::string federation =
  xmpp
  + "[manager.federation]\njid = \"site-a@x.org/fogbow\"\n"
    "rendezvous = \"rdv@x.org/fogbow\"\n";

} // namespace

TEST_CASE("federation plugin keys: defaults") {
  auto f = parse_config(federation, "f.toml").manager.federation;
  CHECK(f.forward_timeout_s == 20);
  CHECK(f.member_picker == "round-robin");
  CHECK(f.member_validator == "accept-any");
  CHECK(f.donate_to.empty());
  CHECK(f.receive_from.empty());
  CHECK(f.capacity_controller == "unlimited");
  CHECK(f.max_donated == 0);
  CHECK(f.donated_caps.empty());
  CHECK(f.monitor_interval_ms == 5000);
  CHECK(f.probe_interval_s == 30);
  CHECK(f.requester_grace_s == 300);
}

TEST_CASE("federation plugin keys: ranges and allowed values") {
  struct bounds {
    const char* key;
    std::int64_t lo, hi;
  };
  for (auto [key, lo, hi] : {bounds{"forward_timeout_s", 1, 3600},
                             bounds{"monitor_interval_ms", 100, 3600000},
                             bounds{"probe_interval_s", 1, 86400},
                             bounds{"requester_grace_s", 1, 604800}}) {
    CAPTURE(key);
    auto with = [&](std::int64_t v) {
      return federation + key + " = " + std::to_string(v) + "\n";
    };
    CHECK(error_of(with(lo)).empty());
    CHECK(error_of(with(hi)).empty());
    auto range = std::string{"'manager.federation."} + key
                 + "' must be between " + std::to_string(lo) + " and "
                 + std::to_string(hi);
    CHECK(mentions(error_of(with(lo - 1)), range));
    CHECK(mentions(error_of(with(hi + 1)), range));
  }
  CHECK(parse_config(federation + "forward_timeout_s = 7\n", "f")
          .manager.federation.forward_timeout_s
        == 7);
  CHECK(mentions(error_of(federation + "member_picker = \"random\"\n"),
                 "'manager.federation.member_picker' must be \"round-robin\""));
  CHECK(
    mentions(error_of(federation + "member_validator = \"voms\"\n"),
             "'manager.federation.member_validator' must be \"accept-any\" or "
             "\"whitelist\""));
  CHECK(
    mentions(error_of(federation + "capacity_controller = \"pairwise\"\n"),
             "'manager.federation.capacity_controller' must be \"unlimited\", "
             "\"fixed\" or \"fairness\""));
}

TEST_CASE("federation: prioritization and fairness keys") {
  auto c = parse_config(federation
                          + "prioritization = \"nof\"\n"
                            "nof_prioritize_local = false\n"
                            "capacity_controller = \"fairness\"\n"
                            "fairness_mode = \"pairwise\"\n"
                            "fairness_delta_pct = 10\n"
                            "fairness_min_pct = 80\n"
                            "fairness_max_pct = 120\n",
                        "f");
  auto& f = c.manager.federation;
  CHECK(f.prioritization == "nof");
  CHECK(f.local_prioritization == "fcfs");
  CHECK_FALSE(f.nof_prioritize_local);
  CHECK(f.fairness_mode == "pairwise");
  CHECK(f.fairness_delta_pct == 10);
  CHECK(f.fairness_max_pct == 120);
  CHECK(mentions(error_of(federation + "prioritization = \"NoF\"\n"),
                 "'manager.federation.prioritization' must be \"fcfs\" or "
                 "\"nof\""));
  CHECK(mentions(error_of(federation + "fairness_mode = \"random\"\n"),
                 "'manager.federation.fairness_mode' must be"));
  CHECK(mentions(error_of(federation + "fairness_delta_pct = 101\n"),
                 "'manager.federation.fairness_delta_pct' must be between 0 "
                 "and 100"));
  CHECK(mentions(
    error_of(federation + "fairness_min_pct = 90\nfairness_max_pct = 80\n"),
    "'manager.federation.fairness_min_pct' must not be above"));
  CHECK(mentions(error_of(federation + "nof_prioritize_local = 1\n"),
                 "must be true or false"));
}

TEST_CASE(
  "federation whitelist: bare JIDs, only with the whitelist validator") {
  auto c = parse_config(federation
                          + "member_validator = \"whitelist\"\n"
                            "donate_to = [\"b@x.org\", \"c@x.org\"]\n"
                            "receive_from = [\"b@x.org\"]\n",
                        "f");
  CHECK(c.manager.federation.donate_to
        == std::vector<std::string>{"b@x.org", "c@x.org"});
  CHECK(c.manager.federation.receive_from
        == std::vector<std::string>{"b@x.org"});
  // an empty whitelist is valid: this site serves nobody
  CHECK(error_of(federation + "member_validator = \"whitelist\"\n").empty());
  CHECK(mentions(error_of(federation
                          + "member_validator = \"whitelist\"\n"
                            "donate_to = [\"b@x.org/fogbow\"]\n"),
                 "'manager.federation.donate_to[]' must be bare JIDs"));
  CHECK(mentions(error_of(federation
                          + "member_validator = \"whitelist\"\n"
                            "receive_from = [\"site-b\"]\n"),
                 "'manager.federation.receive_from[]' must be bare JIDs"));
  CHECK(mentions(error_of(federation + "donate_to = [\"b@x.org\"]\n"),
                 "are for member_validator = \"whitelist\""));
  CHECK(mentions(error_of(federation + "receive_from = [\"b@x.org\"]\n"),
                 "are for member_validator = \"whitelist\""));
}

TEST_CASE("federation capacity caps: a table of integers, only when fixed") {
  auto inline_caps = parse_config(federation
                                    + "capacity_controller = \"fixed\"\n"
                                      "max_donated = 3\n"
                                      "donated_caps = { \"b@x.org\" = 10, "
                                      "\"c@x.org\" = 0 }\n",
                                  "f");
  CHECK(inline_caps.manager.federation.max_donated == 3);
  CHECK(
    inline_caps.manager.federation.donated_caps
    == std::map<std::string, std::int64_t>{{"b@x.org", 10}, {"c@x.org", 0}});
  // the sub-table shape reads the same
  auto sub_table = parse_config(federation
                                  + "capacity_controller = \"fixed\"\n"
                                    "[manager.federation.donated_caps]\n"
                                    "\"b@x.org\" = 10\n\"c@x.org\" = 0\n",
                                "f");
  CHECK(sub_table.manager.federation.donated_caps
        == inline_caps.manager.federation.donated_caps);
  auto fixed = federation + "capacity_controller = \"fixed\"\n";
  CHECK(
    mentions(error_of(fixed + "donated_caps = { \"b@x.org\" = -1 }\n"),
             "'manager.federation.donated_caps.b@x.org' must be between 0 and "
             "1000000"));
  CHECK(
    mentions(error_of(fixed + "donated_caps = { \"b@x.org\" = \"4\" }\n"),
             "'manager.federation.donated_caps.b@x.org' must be an integer"));
  CHECK(mentions(error_of(fixed + "donated_caps = [\"b@x.org\"]\n"),
                 "'manager.federation.donated_caps' must be a table"));
  CHECK(mentions(error_of(fixed + "donated_caps = { \"site-b\" = 1 }\n"),
                 "names 'site-b', which is not a bare JID"));
  CHECK(
    mentions(error_of(fixed + "max_donated = 1000001\n"),
             "'manager.federation.max_donated' must be between 0 and 1000000"));
  CHECK(mentions(error_of(federation + "max_donated = 2\n"),
                 "are for capacity_controller = \"fixed\""));
  CHECK(mentions(error_of(federation + "donated_caps = { \"b@x.org\" = 1 }\n"),
                 "are for capacity_controller = \"fixed\""));
}

TEST_CASE("member id: a name without '@', or a bare JID") {
  CHECK(parse_config("[manager]\nmember_id = \"site-a.example.org\"\n", "m")
          .manager.member_id
        == "site-a.example.org");
  CHECK(
    parse_config("[manager]\nmember_id = \"site-a@xmpp.example.org\"\n", "m")
      .manager.member_id
    == "site-a@xmpp.example.org");
  for (auto bad : {"a@b/c", "a@b@c", "@b", "a@", "", "a b", "a@b c"}) {
    CAPTURE(bad);
    CHECK(mentions(
      error_of(std::string{"[manager]\nmember_id = \""} + bad + "\"\n"),
      "'manager.member_id' must be a name without '@' or a bare JID"));
  }
}

TEST_CASE("member id: a federated manager's is the bare JID of its account") {
  CHECK(parse_config(federation, "f").manager.member_id == "site-a@x.org");
  CHECK(
    parse_config("[manager]\nmember_id = \"site-a@x.org\"\n" + federation, "f")
      .manager.member_id
    == "site-a@x.org");
  auto error =
    error_of("[manager]\nmember_id = \"site-a.example.org\"\n" + federation);
  CHECK(mentions(error, "'manager.member_id' is \"site-a.example.org\""));
  CHECK(mentions(
    error, "\"site-a@x.org\" (the bare JID of 'manager.federation.jid')"));
  // even the default, written out, is refused: it would name another member
  CHECK(mentions(
    error_of("[manager]\nmember_id = \"manager.localhost\"\n" + federation),
    "'manager.member_id' is \"manager.localhost\""));
  // standalone, the default stays
  CHECK(parse_config("", "e").manager.member_id == "manager.localhost");
}
