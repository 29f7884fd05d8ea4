#include <doctest/doctest.h>

#include <sstream>

#include "cli/client.hpp"

using nlohmann::json;
using namespace fogbow::cli;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

json sample_order(std::string id, json instance_id) {
  return {{"id", std::move(id)},
          {"batch_id", "b-1"},
          {"state", "fulfilled"},
          {"type", "one-time"},
          {"kind", "compute"},
          {"instance_id", std::move(instance_id)},
          {"requesting_member", "site-a.test"},
          {"providing_member", "site-a.test"},
          {"created_at", 1764064800000},
          {"updated_at", 1764064801000},
          {"vcpu", 1},
          {"memory_mb", 512},
          {"disk_gb", 10},
          {"image", "debian"},
          {"requirements", ""},
          {"valid_from", nullptr},
          {"valid_until", nullptr},
          {"last_error", nullptr},
          {"fulfilled_at", 0}};
}

} // namespace

TEST_CASE("order body holds the kind and only the options given") {
  order_create_options opts;
  opts.kind = "compute";
  CHECK(build_order_body(opts) == json{{"kind", "compute"}});

  opts.count = 3;
  opts.vcpu = 2;
  opts.image = "debian-12";
  opts.user_data = "#!/bin/sh\necho hi\n";
  opts.valid_until = "2026-12-01T00:00:00Z";
  auto body = build_order_body(opts);
  CHECK(body
        == json{{"kind", "compute"},
                {"count", 3},
                {"vcpu", 2},
                {"image", "debian-12"},
                {"user_data", "#!/bin/sh\necho hi\n"},
                {"valid_until", "2026-12-01T00:00:00Z"}});
  CHECK(body["count"].is_number_integer());
  CHECK_FALSE(body.contains("memory_mb"));
  CHECK_FALSE(body.contains("type"));
}

TEST_CASE("order body maps volume and network options to their fields") {
  order_create_options opts;
  opts.kind = "network";
  opts.type = "persistent";
  opts.size_gb = 20;
  opts.network_cidr = "10.0.0.0/24";
  opts.network_gateway = "10.0.0.1";
  opts.network_allocation = "static";
  opts.public_key = "ssh-ed25519 AAAA user";
  opts.requirements = "Glue2vCPU >= 2";
  opts.memory_mb = 1024;
  opts.disk_gb = 0;
  auto body = build_order_body(opts);
  CHECK(body.size() == 10);
  CHECK(body["type"] == "persistent");
  CHECK(body["size_gb"] == 20);
  CHECK(body["network_cidr"] == "10.0.0.0/24");
  CHECK(body["network_gateway"] == "10.0.0.1");
  CHECK(body["network_allocation"] == "static");
  CHECK(body["public_key"] == "ssh-ed25519 AAAA user");
  CHECK(body["requirements"] == "Glue2vCPU >= 2");
  CHECK(body["memory_mb"] == 1024);
  // An explicit zero is an option given, not an option left out.
  CHECK(body["disk_gb"] == 0);
}

TEST_CASE("cells show null, empty and never as a dash") {
  CHECK(format_cell(nullptr, "instance_id") == "-");
  CHECK(format_cell("", "image") == "-");
  CHECK(format_cell(0, "fulfilled_at") == "-");
  CHECK(format_cell(0, "vcpu") == "0");
  CHECK(format_cell("abc", "id") == "abc");
  CHECK(format_cell(true, "alive") == "yes");
  CHECK(format_cell(false, "self") == "no");
  CHECK(format_cell(1764064800000, "created_at") == "2025-11-25T10:00:00.000Z");
  CHECK(format_cell("2026-11-25T10:00:00Z", "created_at")
        == "2026-11-25T10:00:00Z");
}

TEST_CASE("tables align every column under its header") {
  auto text =
    format_table({"ID", "STATE"}, {{"a-long-id", "open"}, {"b", "x"}});
  auto lines = lines_of(text);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "ID         STATE");
  CHECK(lines[1] == "a-long-id  open");
  CHECK(lines[2] == "b          x");
}

TEST_CASE("order table lists each order with its values") {
  json orders = json::array(
    {sample_order("order-1", "vm-7@site-a.test"), sample_order("o2", nullptr)});
  auto lines = lines_of(format_orders_table(orders));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].starts_with("ID "));
  for (const char* header : {"STATE", "TYPE", "KIND", "INSTANCE", "CREATED"}) {
    auto column = lines[0].find(header);
    REQUIRE(column != std::string::npos);
    // Every row has a value starting exactly under each header.
    for (size_t row = 1; row < lines.size(); ++row) {
      REQUIRE(lines[row].size() > column);
      CHECK(lines[row][column - 1] == ' ');
      CHECK(lines[row][column] != ' ');
    }
  }
  CHECK(lines[1].find("order-1") == 0);
  CHECK(lines[1].find("vm-7@site-a.test") != std::string::npos);
  CHECK(lines[1].find("2025-11-25T10:00:00.000Z") != std::string::npos);
  auto instance_column = lines[0].find("INSTANCE");
  CHECK(lines[2].substr(instance_column, 2) == "- ");
}

TEST_CASE("an empty order list prints only the header") {
  CHECK(lines_of(format_orders_table(json::array())).size() == 1);
}

TEST_CASE("compute table shows memory, ip and order, a dash for no ip") {
  json computes = json::array({{{"id", "vm-1@site-a.test"},
                                {"state", "running"},
                                {"vcpu", 1},
                                {"memory_mb", 512},
                                {"ip", "127.0.0.2"},
                                {"order_id", "order-1"}},
                               {{"id", "vm-2@site-a.test"},
                                {"state", "spawning"},
                                {"vcpu", 2},
                                {"memory_mb", 1024},
                                {"ip", nullptr},
                                {"order_id", "order-2"}}});
  auto lines = lines_of(format_computes_table(computes));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].starts_with("ID"));
  CHECK(lines[0].find("MEMORY") != std::string::npos);
  CHECK(lines[1].find("512MB") != std::string::npos);
  CHECK(lines[1].find("127.0.0.2") != std::string::npos);
  CHECK(lines[1].ends_with("order-1"));
  auto ip_column = lines[0].find("IP");
  CHECK(lines[2].substr(ip_column, 2) == "- ");
  CHECK(lines[2].find("1024MB") != std::string::npos);
}

TEST_CASE("member table marks alive and self") {
  json members = json::array(
    {{{"id", "site-a.test"}, {"alive", true}, {"last_seen", 0}, {"self", true}},
     {{"id", "site-b.test"},
      {"alive", false},
      {"last_seen", 1764064800000},
      {"self", false}}});
  auto lines = lines_of(format_members_table(members));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "ID           ALIVE  LAST-SEEN                 SELF");
  CHECK(lines[1] == "site-a.test  yes    -                         yes");
  CHECK(lines[2] == "site-b.test  no     2025-11-25T10:00:00.000Z  no");
}

TEST_CASE("quota table has one row per resource") {
  json quota{
    {"member_id", "site-a.test"},
    {"vcpu", {{"total", 8}, {"in_use", 3}, {"in_use_by_user", 1}}},
    {"memory_mb", {{"total", 8192}, {"in_use", 1536}, {"in_use_by_user", 512}}},
    {"instances", {{"total", 4}, {"in_use", 3}, {"in_use_by_user", 1}}}};
  auto lines = lines_of(format_quota_table(quota));
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "member: site-a.test");
  CHECK(lines[1] == "RESOURCE   TOTAL  IN-USE  YOURS");
  CHECK(lines[2] == "vcpu       8      3       1");
  CHECK(lines[3] == "memory_mb  8192   1536    512");
  CHECK(lines[4] == "instances  4      3       1");
}

TEST_CASE("key/value lines follow the given order, then the rest") {
  json object{{"zeta", 1},
              {"state", "open"},
              {"id", "o-1"},
              {"last_error", nullptr},
              {"alpha", "x"}};
  auto lines = lines_of(
    format_key_values(object, {"id", "state", "last_error", "not_present"}));
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "id:         o-1");
  CHECK(lines[1] == "state:      open");
  CHECK(lines[2] == "last_error: -");
  CHECK(lines[3] == "alpha:      x");
  CHECK(lines[4] == "zeta:       1");
}

TEST_CASE("order show lists every order field once") {
  auto text = format_key_values(sample_order("o-1", nullptr), order_fields());
  auto lines = lines_of(text);
  CHECK(lines.size() == sample_order("o-1", nullptr).size());
  CHECK(lines[0].starts_with("id:"));
  CHECK(text.find("instance_id:       -\n") != std::string::npos);
  CHECK(text.find("created_at:        2025-11-25T10:00:00.000Z\n")
        != std::string::npos);
}

TEST_CASE("HTTP errors name the message, the code and the status") {
  CHECK(format_http_error(
          409, R"({"error":{"code":"quota_exceeded","message":"no room"}})")
        == "error: no room (quota_exceeded, HTTP 409)");
  CHECK(format_http_error(
          401, R"({"error":{"code":"unauthorized","message":"bad token."}})")
        == "error: authentication failed: bad token. Check --token or "
           "FOGBOW_TOKEN.");
  CHECK(format_http_error(
          404, R"({"error":{"code":"not_found","message":"no order x"}})")
        == "error: not found: no order x");
  CHECK(format_http_error(502, "Bad Gateway\n")
        == "error: Bad Gateway (HTTP 502)");
  CHECK(format_http_error(500, "")
        == "error: the manager gave no reason (HTTP 500)");
}

TEST_CASE("client commands are recognised by their noun") {
  for (const char* noun : {"order", "compute", "member", "quota", "login"})
    CHECK(is_client_command(noun));
  CHECK_FALSE(is_client_command("--role=manager"));
  CHECK_FALSE(is_client_command("orders"));
}

TEST_CASE("member table shows the accounts when the manager keeps them") {
  json members = json::array(
    {{{"id", "a.test"}, {"alive", true}, {"last_seen", 0}, {"self", true}},
     {{"id", "b.test"},
      {"alive", true},
      {"last_seen", 0},
      {"self", false},
      {"consumed_vcpu_minutes", 12.5},
      {"donated_vcpu_minutes", 0.25},
      {"debt", 12.75}}});
  auto lines = lines_of(format_members_table(members));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "ID      ALIVE  LAST-SEEN  SELF  CONSUMED  DONATED  DEBT");
  CHECK(lines[1] == "a.test  yes    -          yes   -         -        -");
  CHECK(lines[2] == "b.test  yes    -          no    12.50     0.25     12.75");
}

TEST_CASE("usage table: local first, then both directions per member") {
  json amount{{"vcpu_minutes", 1.0},
              {"memory_mb_minutes", 512.0},
              {"volume_gb_minutes", 0.0}};
  json usage{{"member_id", "a.test"},
             {"user", nullptr},
             {"local", amount},
             {"members", json::array({{{"id", "b.test"},
                                       {"consumed", amount},
                                       {"donated", amount}}})}};
  auto lines = lines_of(format_usage_table(usage));
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "member: a.test  user: (every user)");
  CHECK(lines[1]
        == "MEMBER         DIRECTION  VCPU-MIN  MEMORY-MB-MIN  VOLUME-GB-MIN");
  CHECK(lines[2] == "(this member)  local      1.00      512.00         0.00");
  CHECK(lines[3] == "b.test         consumed   1.00      512.00         0.00");
  CHECK(lines[4] == "b.test         donated    1.00      512.00         0.00");
}

TEST_CASE("list commands follow a next link only within the API") {
  auto page = [](json links) {
    return json{{"orders", json::array()}, {"links", std::move(links)}};
  };
  auto next = [](std::string href) {
    return json::array({{{"rel", "next"}, {"href", std::move(href)}}});
  };
  CHECK(next_page_path(page(next("/v1/orders?limit=2&marker=b")), "/v1/orders")
        == "/v1/orders?limit=2&marker=b");
  CHECK(next_page_path(page(json::array()), "/v1/orders").empty());
  CHECK(next_page_path(json{{"orders", json::array()}}, "/v1/orders").empty());
  CHECK(next_page_path(page(next("http://elsewhere/v1/orders")), "/v1/orders")
          .empty());
  // A server repeating the same page would otherwise be followed forever.
  CHECK(next_page_path(page(next("/v1/orders?marker=b")), "/v1/orders?marker=b")
          .empty());
  CHECK(next_page_path(
          page(json::array({{{"rel", "prev"}, {"href", "/v1/orders"}}})),
          "/v1/orders?marker=b")
          .empty());
}
