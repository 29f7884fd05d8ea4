// Reading operator configuration: good files load, every mistake is named.

#include "roles/config.hpp"
#include "support/config_errors.hpp"

#include "util/encoding.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <stdexcept>
#include <string>

using namespace fogbow;
using fogbow::test::error_of;
using fogbow::test::mentions;

TEST_CASE("an empty file gives the documented defaults") {
  auto c = parse_config("", "empty.toml");
  CHECK(c.manager.member_id == "manager.localhost");
  CHECK(c.http.port == 8182);
  CHECK(c.manager.driver.kind == "local");
  CHECK(c.manager.driver.flavors == default_flavors());
  CHECK(c.identity.users.empty());
}

TEST_CASE("the shipped example configurations load") {
  std::string dir = FOGBOW_SOURCE_DIR "/config/";
  auto aio = load_config(dir + "all-in-one.toml");
  CHECK(aio.manager.member_id == "site-a.localhost");
  REQUIRE(aio.identity.users.size() == 2);
  CHECK(aio.identity.users[0].id == "alice");
  CHECK(aio.identity.users[0].token == "alice-secret");
  // bob's is stored hashed.
  CHECK(aio.identity.users[1].token.empty());
  CHECK(aio.identity.users[1].token_sha256 == sha256_hex("bob-secret"));
  CHECK(aio.tunnel.max_named_tokens_per_token == 16);
  CHECK(aio.tunnel.max_forwards_per_session == 32);
  CHECK(aio.manager.driver.flavors.size() == 3);
  auto prod = load_config(dir + "manager.toml");
  CHECK(prod.authorization.plugin == "user-whitelist");
  CHECK(prod.authorization.users == std::vector<std::string>{"researcher1"});
  auto bench = load_config(dir + "benchmark.toml");
  CHECK(bench.manager.driver.kind == "instant");
}

TEST_CASE("unknown keys are refused with their full name") {
  CHECK(mentions(error_of("[manager]\nmember_idd = \"x\"\n"),
                 "unknown key 'manager.member_idd'"));
  CHECK(mentions(error_of("[htp]\n"), "unknown key 'htp'"));
  CHECK(mentions(error_of("[[manager.driver.flavors]]\nname=\"a\"\ncpu=1\n"),
                 "manager.driver.flavors[].cpu"));
}

TEST_CASE("wrong types and ranges are refused") {
  CHECK(mentions(error_of("[http]\nport = \"80\"\n"),
                 "'http.port' must be an integer"));
  CHECK(mentions(error_of("[http]\nport = 70000\n"), "between 0 and 65535"));
  CHECK(mentions(error_of("[manager.driver]\nkind = \"ec2\"\n"),
                 "manager.driver.kind"));
  CHECK(
    mentions(error_of("[manager]\nmember_id = \"a@b/c\"\n"),
             "'manager.member_id' must be a name without '@' or a bare JID"));
  CHECK(mentions(
    error_of("[manager]\nretry_initial_ms = 5000\nretry_max_ms = 1000\n"),
    "retry_max_ms"));
  CHECK(mentions(error_of("[authorization]\nplugin = \"deny\"\n"),
                 "authorization.plugin"));
}

TEST_CASE("users need ids, distinct names and real tokens") {
  CHECK(mentions(error_of("[[identity.users]]\nid = \"a\"\n"), "'token'"));
  CHECK(
    mentions(error_of("[[identity.users]]\nid = \"a\"\ntoken = \"short\"\n"),
             "shorter than 8"));
  CHECK(
    mentions(error_of("[[identity.users]]\nid = \"a\"\ntoken = \"12345678\"\n"
                      "[[identity.users]]\nid = \"a\"\ntoken = \"87654321\"\n"),
             "defined twice"));
}

TEST_CASE("a user has a token or its SHA-256, never both") {
  const std::string digest = sha256_hex("12345678");
  auto c = parse_config("[[identity.users]]\nid = \"a\"\ntoken_sha256 = \""
                          + digest + "\"\n",
                        "t.toml");
  REQUIRE(c.identity.users.size() == 1);
  CHECK(c.identity.users[0].token_sha256 == digest);
  CHECK(mentions(error_of("[[identity.users]]\nid = \"a\"\ntoken = "
                          "\"12345678\"\ntoken_sha256 = \""
                          + digest + "\"\n"),
                 "exactly one of 'token' and 'token_sha256'"));
  CHECK(mentions(error_of("[[identity.users]]\nid = \"a\"\n"),
                 "exactly one of 'token' and 'token_sha256'"));
  CHECK(mentions(error_of("[[identity.users]]\nid = \"a\"\ntoken_sha256 = "
                          "\"abc\"\n"),
                 "64 hex digits"));
}

TEST_CASE("syntax errors name the line") {
  CHECK(mentions(error_of("[manager\n"), "line 1"));
}

TEST_CASE("the tunnel sections are read and checked") {
  auto c = parse_config(R"(
[tunnel]
ssh_port = 2200
port_low = 30000
port_high = 30010
manager_secret = "0123456789abcdef"
[manager.tunnel]
url = "http://tunnel:2223"
secret = "0123456789abcdef"
ssh_host = "tunnel"
public_host = "tunnel.example.org"
local_port = 8080
)",
                        "t.toml");
  CHECK(c.tunnel.configured);
  CHECK(c.tunnel.ssh_port == 2200);
  CHECK(c.tunnel.port_low == 30000);
  CHECK(c.manager.tunnel.configured);
  CHECK(c.manager.tunnel.local_port == 8080);
  CHECK(c.tunnel.max_named_tokens_per_token == 16);
  CHECK(c.tunnel.max_forwards_per_session == 32);
  CHECK_THROWS_WITH(
    parse_config("[tunnel]\nmanager_secret = \"0123456789abcdef\"\n"
                 "max_forwards_per_session = 0\n",
                 "t"),
    doctest::Contains("max_forwards_per_session"));
  CHECK_FALSE(parse_config("", "e.toml").tunnel.configured);
  CHECK_THROWS_WITH(parse_config("[tunnel]\nmanager_secret = \"short\"\n", "t"),
                    doctest::Contains("manager_secret"));
  CHECK_THROWS_WITH(
    parse_config("[tunnel]\nmanager_secret = \"0123456789abcdef\"\n"
                 "port_low = 10\nport_high = 5\n",
                 "t"),
    doctest::Contains("port_high"));
  CHECK_THROWS_WITH(
    parse_config("[tunnel]\nmanager_secret = \"0123456789abcdef\"\n"
                 "bogus = 1\n",
                 "t"),
    doctest::Contains("tunnel.bogus"));
  CHECK_THROWS_WITH(parse_config("[manager.tunnel]\nurl = \"ftp://x\"\n", "t"),
                    doctest::Contains("manager.tunnel.url"));
}

TEST_CASE("the shipped tunnel example loads") {
  std::string dir = FOGBOW_SOURCE_DIR "/config/";
  auto t = load_config(dir + "tunnel.toml");
  CHECK(t.tunnel.configured);
}

TEST_CASE("the local driver's sandbox is bwrap unless set to none") {
  CHECK(parse_config("", "empty.toml").manager.driver.sandbox == "bwrap");
  CHECK(parse_config("[manager.driver]\nsandbox = \"none\"\n", "x.toml")
          .manager.driver.sandbox
        == "none");
  CHECK(mentions(error_of("[manager.driver]\nsandbox = \"chroot\"\n"),
                 "'manager.driver.sandbox' must be \"bwrap\" or \"none\""));
  std::string dir = FOGBOW_SOURCE_DIR "/config/";
  CHECK(load_config(dir + "all-in-one.toml").manager.driver.sandbox == "bwrap");
  CHECK(load_config(dir + "all-in-one.toml").config_file
        == dir + "all-in-one.toml");
}

TEST_CASE("HTTP limits and TLS keys") {
  auto c = parse_config("", "empty.toml");
  CHECK(c.http.header_timeout_s == 10);
  CHECK(c.http.max_connections_per_address == 256);
  CHECK(c.http.tls_cert.empty());
  auto prod = load_config(FOGBOW_SOURCE_DIR "/config/manager.toml");
  CHECK_FALSE(prod.http.tls_cert.empty());
  CHECK_FALSE(prod.http.tls_key.empty());
  CHECK(mentions(error_of("[http]\ntls_cert = \"a.crt\"\n"),
                 "'http.tls_cert' and 'http.tls_key' go together"));
  CHECK(mentions(error_of("[http]\ntls_key = \"a.key\"\n"), "go together"));
  CHECK(mentions(error_of("[tunnel]\nmanager_secret = \"0123456789abcdef\"\n"
                          "http_tls_key = \"a.key\"\n"),
                 "'tunnel.http_tls_cert' and 'tunnel.http_tls_key'"));
  CHECK(mentions(error_of("[http]\nheader_timeout_s = 0\n"),
                 "http.header_timeout_s"));
}
