// The OpenStack driver's pure parts: parsing Keystone/Nova answers, status
// and error mapping, base64, the mapper plugins and the config section.
// The driver against a real OpenStack: tests/integration/test_openstack.py.

#include "openstack/openstack_api.hpp"
#include "auth/keystone_identity.hpp"
#include "domain/mapper.hpp"
#include "domain/placement.hpp"
#include "roles/config.hpp"
#include "support/config_errors.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

using namespace fogbow;
using fogbow::test::error_of;
using json = nlohmann::json;

namespace {

// Trimmed from the test OpenStack (reference/openstack-peer.md).
const char* token_body = R"({"token": {"methods": ["password"],
  "user": {"id": "u-1", "name": "demo", "domain": {"id": "default"}},
  "expires_at": "2026-11-24T22:05:27.000000Z",
  "issued_at": "2026-11-24T21:05:27.000000Z",
  "project": {"id": "p-1", "name": "demo"},
  "catalog": [
    {"type": "compute", "endpoints": [
      {"interface": "internal", "region": "RegionOne", "url": "http://10.0.0.1:8774/v2.1"},
      {"interface": "public", "region": "RegionOne", "url": "http://127.0.0.1:8774/v2.1"}]},
    {"type": "image", "endpoints": [
      {"interface": "public", "region": "RegionTwo", "url": "http://img2:9292"},
      {"interface": "public", "region": "RegionOne", "url": "http://127.0.0.1:9292"}]}]}})";

const char* os_head = R"(
[manager.driver]
kind = "openstack"
[manager.driver.openstack]
auth_url = "http://127.0.0.1:5000/v3"
)";

const char* os_account = R"(
[[manager.driver.openstack.accounts]]
name = "main"
username = "demo"
password = "demo-pw"
project_name = "demo"
)";

} // namespace

TEST_CASE(
  "a Keystone token gives expiry, user, project and the chosen endpoints") {
  auto t = parse_token(token_body, "public", "");
  CHECK(t.user_id == "u-1");
  CHECK(t.user_name == "demo");
  CHECK(t.project_id == "p-1");
  CHECK(t.expires_at == *parse_iso8601("2026-11-24T22:05:27Z"));
  CHECK(t.expires_at - t.issued_at == 3600 * 1000);
  CHECK(t.endpoints.at("compute") == "http://127.0.0.1:8774/v2.1");
  CHECK(t.endpoints.at("image") == "http://img2:9292");
  auto r1 = parse_token(token_body, "public", "RegionOne");
  CHECK(r1.endpoints.at("image") == "http://127.0.0.1:9292");
  auto internal = parse_token(token_body, "internal", "");
  CHECK(internal.endpoints.at("compute") == "http://10.0.0.1:8774/v2.1");
  CHECK(internal.endpoints.count("image") == 0);
  CHECK_THROWS_AS(parse_token("{\"nope\": 1}", "public", ""), cloud_failure);
  CHECK_THROWS_AS(parse_token("<html>", "public", ""), cloud_failure);
}

TEST_CASE("the password body is scoped to the project by name or id") {
  openstack_account a{"demo", "pw\"x", "Default", "demo", "", "Default"};
  auto j = json::parse(password_auth_body(a));
  auto& user = j["auth"]["identity"]["password"]["user"];
  CHECK(user["name"] == "demo");
  CHECK(user["password"] == "pw\"x");
  CHECK(j["auth"]["scope"]["project"]["name"] == "demo");
  a.project_id = "p-1";
  j = json::parse(password_auth_body(a));
  CHECK(j["auth"]["scope"]["project"] == json{{"id", "p-1"}});
}

TEST_CASE("server statuses map to instance states") {
  CHECK(map_server_status("BUILD") == instance_state::spawning);
  CHECK(map_server_status("ACTIVE") == instance_state::running);
  CHECK(map_server_status("ERROR") == instance_state::failed);
  CHECK(map_server_status("DELETED") == instance_state::lost);
  CHECK(map_server_status("SHUTOFF") == instance_state::failed);
  CHECK(map_server_status("REBOOT") == instance_state::spawning);
  CHECK(map_server_status("") == instance_state::spawning);
}

TEST_CASE("a server becomes an instance with flavor, order, IP and fault") {
  auto s = json::parse(R"({"id": "s-1", "status": "ACTIVE",
    "metadata": {"fogbow-order-id": "o-1", "fogbow-member": "m"},
    "flavor": {"original_name": "medium", "vcpus": 2, "ram": 2048, "disk": 10},
    "image": {"id": "i-1"}, "created": "2026-11-24T21:05:27Z",
    "addresses": {"net": [{"addr": "fd00::5", "version": 6},
                          {"addr": "10.0.0.5", "version": 4}]}})");
  auto x = server_to_instance(s);
  CHECK(x.id == "s-1");
  CHECK(x.order_id == "o-1");
  CHECK(x.state == instance_state::running);
  CHECK(x.size == flavor{"medium", 2, 2048, 10});
  CHECK(x.image == "i-1");
  CHECK(x.ip == "10.0.0.5");
  CHECK(x.created_at == *parse_iso8601("2026-11-24T21:05:27Z"));
  // No addresses yet (the test cloud boots without a network): no IP.
  s["addresses"] = json::object();
  CHECK(server_to_instance(s).ip.empty());
  s["status"] = "ERROR";
  s["fault"] = {{"message", "No valid host was found. "}};
  auto failed = server_to_instance(s);
  CHECK(failed.state == instance_state::failed);
  CHECK(is_no_valid_host(failed.fault));
  CHECK_FALSE(is_no_valid_host("Exceeded maximum number of retries"));
}

TEST_CASE("limits give capacity and use; unlimited stays -1") {
  auto r = parse_limits(R"({"limits": {"absolute": {"maxTotalInstances": 10,
    "maxTotalCores": -1, "maxTotalRAMSize": 51200, "totalRAMUsed": 512,
    "totalCoresUsed": 1, "totalInstancesUsed": 1}, "rate": []}})");
  CHECK(r == cloud_resources{-1, 1, 51200, 512, 10, 1});
  CHECK_THROWS_AS(parse_limits("{}"), cloud_failure);
}

TEST_CASE("flavors are parsed and disabled ones skipped") {
  auto f = parse_flavors(R"({"flavors": [
    {"id": "1", "name": "small", "vcpus": 1, "ram": 512, "disk": 1},
    {"id": "2", "name": "old", "vcpus": 1, "ram": 256, "disk": 1, "OS-FLV-DISABLED:disabled": true},
    {"id": "3", "name": "medium", "vcpus": 2, "ram": 2048, "disk": 10}]})");
  REQUIRE(f.size() == 2);
  CHECK(f[1].id == "3");
  CHECK(f[1].size == flavor{"medium", 2, 2048, 10});
  // The driver picks the smallest that satisfies the order (shared rule).
  instance_spec spec;
  spec.requirements = "Glue2vCPU >= 2";
  CHECK(pick_flavor({f[0].size, f[1].size}, spec).name == "medium");
}

TEST_CASE("HTTP errors become typed errors carrying the cloud's message") {
  CHECK(
    cloud_message(
      R"({"forbidden": {"code": 403, "message": "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances"}})")
    == "Quota exceeded for instances: Requested 1, but already used 1 of 1 "
       "instances");
  CHECK(
    cloud_message(
      R"({"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}})")
    == "The request you have made requires authentication.");
  CHECK(cloud_message(
          "<html><body><h1>503 Service Unavailable</h1>\n  down </body></html>")
        == "503 Service Unavailable down");
  CHECK(classify_http_error(403, "Quota exceeded for cores")
        == errc::no_capacity);
  CHECK(classify_http_error(403, "Policy doesn't allow") == errc::cloud_error);
  CHECK(classify_http_error(413, "") == errc::no_capacity);
  CHECK(classify_http_error(401, "") == errc::unauthorized);
  CHECK(classify_http_error(404, "") == errc::not_found);
  CHECK(classify_http_error(400, "") == errc::invalid_argument);
  CHECK(classify_http_error(500, "") == errc::cloud_error);
  try {
    throw_http_failure(
      {403,
       R"({"forbidden": {"message": "Quota exceeded for cores"}})",
       {},
       {}},
      "create server");
    FAIL("no throw");
  } catch (const cloud_failure& e) {
    CHECK(e.code == errc::no_capacity);
    CHECK(std::string{e.what()}
          == "create server failed (HTTP 403): Quota exceeded for cores");
  }
  try {
    throw_http_failure({0, {}, "Connection", {}}, "list servers");
    FAIL("no throw");
  } catch (const cloud_failure& e) {
    CHECK(e.code == errc::cloud_error);
    CHECK(std::string{e.what()}.find("did not answer (Connection)")
          != std::string::npos);
  }
}

TEST_CASE("an unreachable Keystone is a cloud error naming the problem") {
  openstack_endpoint_config cfg;
  cfg.auth_url = "http://127.0.0.1:1/v3"; // nothing listens on port 1
  cfg.request_timeout_ms = 2000;
  keystone_session s{cfg, {"demo", "pw", "Default", "demo", "", "Default"}};
  try {
    s.token();
    FAIL("no throw");
  } catch (const cloud_failure& e) {
    CHECK(e.code == errc::cloud_error);
    CHECK(std::string{e.what()}.find("did not answer") != std::string::npos);
  }
  CHECK(s.token_requests() == 0);
  // The keystone-v3 identity plugin refuses rather than failing open.
  keystone_identity id{{"http://127.0.0.1:1/v3", 60, 2000, true, 10}};
  CHECK_FALSE(id.authenticate("gAAAAABk-some-token"));
  CHECK_FALSE(id.authenticate(""));
  CHECK_FALSE(id.authenticate("bad\r\ntoken"));
}

TEST_CASE("mappers choose the account of a requesting member") {
  single_mapper one{"main"};
  CHECK(one.account_for("site-b", "u") == "main");
  CHECK(one.default_account() == "main");
  per_member_mapper per{{{"site-b", "acct-b"}, {"site-c", "acct-c"}}, ""};
  CHECK(per.account_for("site-b", "u") == "acct-b");
  CHECK(per.account_for("site-c", "u") == "acct-c");
  CHECK_FALSE(per.account_for("site-x", "u"));
  per_member_mapper with_default{{{"site-b", "acct-b"}}, "main"};
  CHECK(with_default.account_for("site-x", "u") == "main");
  CHECK(with_default.default_account() == "main");
}

TEST_CASE("the openstack config section is read and checked") {
  auto c = parse_config(std::string{os_head} + os_account, "t.toml");
  CHECK(c.manager.driver.kind == "openstack");
  CHECK(c.manager.driver.openstack.auth_url == "http://127.0.0.1:5000/v3");
  REQUIRE(c.manager.driver.openstack.accounts.size() == 1);
  CHECK(c.manager.driver.openstack.accounts[0].user_domain == "Default");
  CHECK(c.manager.driver.openstack.mapper.plugin == "single");
  CHECK(c.manager.driver.openstack.mapper.account == "main");

  CHECK(error_of(std::string{os_head}).find("at least one")
        != std::string::npos);
  CHECK(error_of("[manager.driver]\nkind = \"openstack\"\n")
          .find("needs a [manager.driver.openstack]")
        != std::string::npos);
  CHECK(error_of(std::string{os_head} + "colour = 1\n" + os_account)
          .find("unknown key 'manager.driver.openstack.colour'")
        != std::string::npos);
  CHECK(
    error_of(
      std::string{
        "[manager.driver]\nkind = \"openstack\"\n[manager.driver.openstack]\n"
        "auth_url = \"127.0.0.1:5000\"\n"}
      + os_account)
      .find("auth_url")
    != std::string::npos);
  CHECK(error_of(std::string{os_head}
                 + "[manager.driver.openstack.endpoints]\ncompute = 5\n"
                 + os_account)
          .find("endpoints.compute")
        != std::string::npos);
  auto per = std::string{os_head} + os_account
             + "[manager.driver.openstack.mapper]\nplugin = \"per-member\"\n"
               "members = { \"site-b\" = \"nobody\" }\n";
  CHECK(error_of(per).find("names no configured account") != std::string::npos);
  auto ok = std::string{os_head} + os_account
            + "[manager.driver.openstack.mapper]\nplugin = \"per-member\"\n"
              "members = { \"site-b\" = \"main\" }\n";
  auto pc = parse_config(ok, "t.toml");
  CHECK(pc.manager.driver.openstack.mapper.members.at("site-b") == "main");
  CHECK(error_of("[identity]\nplugin = \"keystone-v3\"\n").find("auth_url")
        != std::string::npos);
  auto kc = parse_config("[identity]\nplugin = \"keystone-v3\"\nauth_url = "
                         "\"http://k:5000/v3\"\ncache_s = 5\n",
                         "t.toml");
  CHECK(kc.identity.plugin == "keystone-v3");
  CHECK(kc.identity.cache_s == 5);
  auto shipped = load_config(FOGBOW_SOURCE_DIR "/config/openstack.toml");
  CHECK(shipped.manager.driver.kind == "openstack");
  CHECK(shipped.manager.driver.openstack.image == "cirros-fake");
}
