// The ldap identity plugin's pure parts: escaping of user names for DNs
// and filters, session tokens, the login throttle, and its configuration.
// The binds themselves are tested against a real slapd in
// tests/integration/test_ldap_identity.py.

#include "auth/ldap_identity.hpp"
#include "roles/config.hpp"
#include "support/config_errors.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fogbow;
using namespace std::string_literals;
using fogbow::test::error_of;

TEST_CASE("ldap: DN values are escaped as RFC 4514 says") {
  CHECK(ldap_escape_dn_value("alice") == "alice");
  CHECK(ldap_escape_dn_value("a,ou=admins") == "a\\,ou\\=admins");
  CHECK(ldap_escape_dn_value("x+cn=y") == "x\\+cn\\=y");
  CHECK(ldap_escape_dn_value("\"q\"<a>;b\\c") == "\\\"q\\\"\\<a\\>\\;b\\\\c");
  CHECK(ldap_escape_dn_value("#lead") == "\\#lead");
  CHECK(ldap_escape_dn_value("mid#dle") == "mid#dle");
  CHECK(ldap_escape_dn_value(" both ") == "\\ both\\ ");
  CHECK(ldap_escape_dn_value("in side") == "in side");
  CHECK(ldap_escape_dn_value("nul\0x"s) == "nul\\00x");
  CHECK(ldap_escape_dn_value("*") == "*"); // no wildcards in a DN
  CHECK(ldap_escape_dn_value("åsa") == "åsa");
}

TEST_CASE("ldap: filter values are escaped as RFC 4515 says") {
  CHECK(ldap_escape_filter_value("alice") == "alice");
  CHECK(ldap_escape_filter_value("*") == "\\2a");
  CHECK(ldap_escape_filter_value(")(uid=*") == "\\29\\28uid=\\2a");
  CHECK(ldap_escape_filter_value("a\\b") == "a\\5cb");
  CHECK(ldap_escape_filter_value("nul\0x"s) == "nul\\00x");
  // An injection stays one assertion value inside the filter.
  CHECK(ldap_expand("(&(objectClass=person)(uid={user}))",
                    ldap_escape_filter_value("*)(|(uid=*"))
        == "(&(objectClass=person)(uid=\\2a\\29\\28|\\28uid=\\2a))");
}

TEST_CASE("ldap: {user} is replaced everywhere, nothing else is touched") {
  CHECK(ldap_expand("uid={user},ou=people,dc=example,dc=org", "bob")
        == "uid=bob,ou=people,dc=example,dc=org");
  CHECK(ldap_expand("(|(uid={user})(mail={user}))", "b")
        == "(|(uid=b)(mail=b))");
  CHECK(ldap_expand("no placeholder", "b") == "no placeholder");
  CHECK(ldap_expand("{user}", "{user}") == "{user}"); // not re-expanded
}

TEST_CASE("ldap: implausible names are refused before any bind") {
  CHECK(ldap_plausible_name("alice"));
  CHECK(ldap_plausible_name("Ålice Ünicode"));
  CHECK_FALSE(ldap_plausible_name(""));
  CHECK_FALSE(ldap_plausible_name("a\nb"));
  CHECK_FALSE(ldap_plausible_name("a\0b"s));
  CHECK_FALSE(ldap_plausible_name(std::string(257, 'a')));
  CHECK(ldap_plausible_name(std::string(256, 'a')));
}

TEST_CASE("ldap: session tokens are random, expire and are bounded") {
  session_tokens s{1000, 2};
  std::int64_t exp1 = 0;
  std::int64_t exp2 = 0;
  auto t1 = s.issue({"alice", "Alice"}, 10'000, exp1);
  auto t2 = s.issue({"alice", "Alice"}, 10'100, exp2);
  CHECK(t1 != t2);
  CHECK(t1.size() == 4 + 64);
  CHECK(exp1 == 11'000);
  CHECK(s.check(t1, 10'999) == user{"alice", "Alice"});
  CHECK_FALSE(s.check(t1, 11'000));
  CHECK_FALSE(s.check("", 10'000));
  CHECK_FALSE(s.check(t1 + "x", 10'000));
  CHECK_FALSE(s.check(t1.substr(0, 10), 10'000));
  std::int64_t exp3 = 0;
  auto t3 = s.issue({"bob", "Bob"}, 10'200, exp3); // full: t1 goes first
  CHECK(s.size() == 2);
  CHECK_FALSE(s.check(t1, 10'200));
  CHECK(s.check(t2, 10'200));
  CHECK(s.check(t3, 10'200) == user{"bob", "Bob"});
}

TEST_CASE("ldap: the login throttle counts per name and per address") {
  login_throttle t{{3, 5, 60'000, 100}};
  CHECK(t.wait_s("alice", "10.0.0.1", 0) == 0);
  for (int i = 0; i < 3; ++i)
    t.failed("alice", "10.0.0.1", i);
  CHECK(t.wait_s("alice", "10.0.0.9", 10) == 60); // the name, any address
  CHECK(t.wait_s("ALICE", "10.0.0.9", 10) == 60); // names are case-blind
  CHECK(t.wait_s("bob", "10.0.0.1", 10) == 0);    // 3 < 5 for the address
  t.failed("bob", "10.0.0.1", 20);
  t.failed("carol", "10.0.0.1", 20);
  CHECK(t.wait_s("dave", "10.0.0.1", 30) == 60); // the address's 5
  CHECK(t.wait_s("dave", "10.0.0.2", 30) == 0);
  // Windows end; a success clears the name only.
  CHECK(t.wait_s("alice", "10.0.0.9", 60'000) == 0);
  CHECK(t.wait_s("dave", "10.0.0.1", 59'999) == 1); // opened at 0
  CHECK(t.wait_s("dave", "10.0.0.1", 60'000) == 0);
  t.failed("erin", "10.0.0.3", 100'000);
  t.failed("erin", "10.0.0.3", 100'001);
  t.succeeded("Erin");
  t.failed("erin", "10.0.0.3", 100'002);
  t.failed("erin", "10.0.0.3", 100'003);
  CHECK(t.wait_s("erin", "10.0.0.4", 100'004) == 0); // 2 since the success
}

TEST_CASE("ldap: the throttle's memory is bounded") {
  login_throttle t{{1, 1000, 60'000, 10}};
  for (int i = 0; i < 100; ++i)
    t.failed("user" + std::to_string(i), "10.0.0.1", i);
  // The most recent names are still counted.
  CHECK(t.wait_s("user99", "10.0.0.2", 200) > 0);
}

TEST_CASE("ldap: the plugin refuses an unusable configuration") {
  ldap_identity_config c;
  c.url = "ldap://127.0.0.1:1";
  c.bind_dn_template = "uid={user},dc=x";
  CHECK_NOTHROW(ldap_identity{c});
  auto bad = c;
  bad.url = "http://x";
  CHECK_THROWS_AS(ldap_identity{bad}, std::invalid_argument);
  bad = c;
  bad.search_base = "dc=x";
  CHECK_THROWS_AS(ldap_identity{bad}, std::invalid_argument);
  bad = c;
  bad.bind_dn_template = "uid=alice,dc=x";
  CHECK_THROWS_AS(ldap_identity{bad}, std::invalid_argument);
}

TEST_CASE("ldap: empty passwords and a directory that is down") {
  ldap_identity_config c;
  c.url = "ldap://127.0.0.1:1"; // nothing listens on port 1
  c.bind_dn_template = "uid={user},dc=x";
  c.timeout_ms = 2000;
  ldap_identity id{c};
  using outcome = login_result::outcome;
  // Refused without asking anybody: it would be an anonymous bind.
  CHECK(id.login("alice", "", "127.0.0.1").result == outcome::refused);
  CHECK(id.login("a\nb", "pw", "127.0.0.1").result == outcome::refused);
  auto r = id.login("alice", "pw", "127.0.0.1");
  CHECK(r.result == outcome::unavailable);
  CHECK(r.token.empty());
  CHECK_FALSE(id.authenticate(""));
  CHECK_FALSE(id.authenticate("fbt_0000"));
}

TEST_CASE("ldap: the configuration of the plugin") {
  auto c = parse_config("[identity]\nplugin = \"ldap\"\n"
                        "ldap_url = \"ldap://127.0.0.1:3890\"\n"
                        "ldap_bind_dn = \"uid={user},ou=people,dc=x\"\n"
                        "token_ttl_s = 600\nmax_failures = 3\n",
                        "ldap.toml");
  CHECK(c.identity.plugin == "ldap");
  CHECK(c.identity.ldap_bind_dn == "uid={user},ou=people,dc=x");
  CHECK(c.identity.token_ttl_s == 600);
  CHECK(c.identity.max_failures == 3);
  CHECK(c.identity.lockout_s == 300);

  std::string head = "[identity]\nplugin = \"ldap\"\n";
  std::string url = "ldap_url = \"ldap://h\"\n";
  CHECK(error_of(head + "ldap_bind_dn = \"uid={user}\"\n").find("ldap_url")
        != std::string::npos);
  CHECK(error_of(head + "ldap_url = \"http://h\"\nldap_bind_dn = \"{user}\"\n")
          .find("ldap://")
        != std::string::npos);
  CHECK(error_of(head + url).find("exactly one") != std::string::npos);
  CHECK(error_of(head + url + "ldap_bind_dn = \"{user}\"\n"
                 + "ldap_search_base = \"dc=x\"\n")
          .find("exactly one")
        != std::string::npos);
  CHECK(error_of(head + url + "ldap_bind_dn = \"uid=alice\"\n").find("{user}")
        != std::string::npos);
  CHECK(error_of(head + url + "ldap_search_base = \"dc=x\"\n"
                 + "ldap_search_filter = \"(uid=alice)\"\n")
          .find("{user}")
        != std::string::npos);
  CHECK(error_of(head + "ldap_url = \"ldaps://h\"\nldap_start_tls = true\n"
                 + "ldap_bind_dn = \"{user}\"\n")
          .find("ldap_start_tls")
        != std::string::npos);
  CHECK(error_of(head + url + "ldap_search_base = \"dc=x\"\n"
                 + "ldap_service_dn = \"cn=svc\"\n")
          .find("go together")
        != std::string::npos);
  CHECK(error_of("[identity]\nldap_url = \"ldap://h\"\n").find("ldap plugin")
        != std::string::npos);
  CHECK(error_of(head + url + "ldap_bind_dn = \"{user}\"\n"
                 + "[[identity.users]]\nid = \"a\"\ntoken = \"aaaaaaaa\"\n")
          .find("static-tokens")
        != std::string::npos);
}
