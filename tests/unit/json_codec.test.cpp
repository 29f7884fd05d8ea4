#include "http/json_codec.hpp"
#include "domain/requirements.hpp"

#include <doctest/doctest.h>

#include <string>
#include <variant>

using namespace fogbow;
using json = nlohmann::json;

namespace {

constexpr millis test_now = 1'790'000'000'000; // 2026-09-21

order_limits limits(int max_count = 100) {
  order_limits l;
  l.max_count = max_count;
  l.clock = [] { return test_now; };
  return l;
}

order_request parse_ok(const std::string& body, int max_count = 100) {
  auto r = parse_order_request(body, limits(max_count));
  if (auto e = std::get_if<api_error>(&r))
    FAIL_CHECK("unexpected error for " << body << ": " << e->message);
  REQUIRE(std::holds_alternative<order_request>(r));
  return std::get<order_request>(r);
}

api_error parse_bad(const std::string& body, int max_count = 100) {
  auto r = parse_order_request(body, limits(max_count));
  REQUIRE_MESSAGE(std::holds_alternative<api_error>(r), "accepted: " << body);
  return std::get<api_error>(r);
}

std::string with(const std::string& kind, const std::string& fields) {
  return R"({"kind":")" + kind + "\"" + (fields.empty() ? "" : ",") + fields
         + "}";
}

} // namespace

TEST_CASE("a minimal compute order gets the documented defaults") {
  auto r = parse_ok(R"({"kind":"compute"})");
  CHECK(r.count == 1);
  CHECK(r.prototype.kind == resource_kind::compute);
  CHECK(r.prototype.type == order_type::one_time);
  CHECK(r.prototype.vcpu == 1);
  CHECK(r.prototype.memory_mb == 0);
  CHECK(r.prototype.disk_gb == 0);
  CHECK(r.prototype.image.empty());
  CHECK(r.prototype.requirements.empty());
  CHECK_FALSE(r.prototype.valid_from);
  CHECK_FALSE(r.prototype.valid_until);
  CHECK(r.prototype.network_allocation.empty());
}

TEST_CASE("a full compute order keeps every field") {
  auto r = parse_ok(R"({"kind":"compute","count":3,"type":"persistent",
    "vcpu":4,"memory_mb":8192,"disk_gb":40,"image":"debian-12",
    "requirements":"Glue2RAM >= 1024 && Glue2CloudComputeManagerID == \"site-a\"",
    "public_key":"ssh-ed25519 AAAA test","user_data":"#!/bin/sh\necho hi\n",
    "valid_from":"2026-11-25T10:00:00Z","valid_until":"2026-11-26T10:00:00+01:00"})");
  CHECK(r.count == 3);
  auto& o = r.prototype;
  CHECK(o.type == order_type::persistent);
  CHECK(o.vcpu == 4);
  CHECK(o.memory_mb == 8192);
  CHECK(o.disk_gb == 40);
  CHECK(o.image == "debian-12");
  CHECK(o.requirements
        == "Glue2RAM >= 1024 && Glue2CloudComputeManagerID == \"site-a\"");
  CHECK(o.public_key == "ssh-ed25519 AAAA test");
  CHECK(o.user_data == "#!/bin/sh\necho hi\n");
  CHECK(o.valid_from == parse_iso8601("2026-11-25T10:00:00Z"));
  CHECK(o.valid_until == parse_iso8601("2026-11-26T09:00:00Z"));
}

TEST_CASE("attachment orders") {
  auto a = parse_ok(
    R"({"kind":"attachment","compute":"c-order","volume":"vol-1@site-a","device":"/dev/vdc"})");
  CHECK(a.prototype.kind == resource_kind::attachment);
  CHECK(a.prototype.attach_compute == "c-order");
  CHECK(a.prototype.attach_volume == "vol-1@site-a");
  CHECK(a.prototype.attach_device == "/dev/vdc");
  CHECK(parse_ok(R"({"kind":"attachment","compute":"c","volume":"v"})")
          .prototype.attach_device.empty());

  auto missing = parse_bad(R"({"kind":"attachment","compute":"c"})");
  CHECK(missing.http_status == 400);
  CHECK(missing.message.find("'volume' is required") != std::string::npos);
  CHECK(parse_bad(R"({"kind":"attachment","compute":"","volume":"v"})")
          .message.find("must not be empty")
        != std::string::npos);
  CHECK(parse_bad(R"({"kind":"attachment","compute":7,"volume":"v"})")
          .message.find("string")
        != std::string::npos);
  const std::string prefix =
    "{\"kind\":\"attachment\",\"compute\":\"c\",\"volume\":\"v\",\"device\":\"";
  for (std::string device :
       {"vdb", "/dev/", "/dev/VDB", "/dev/../sda", "/dev/vdb; rm"}) {
    auto e = parse_bad(prefix + device + "\"}");
    CHECK_MESSAGE(e.message.find("device") != std::string::npos, device);
  }
  CHECK(
    parse_bad(R"({"kind":"attachment","compute":"c","volume":"v","count":2})")
      .message.find("count")
    != std::string::npos);
  // Attachment fields belong to attachments only, and the other way round.
  CHECK(parse_bad(R"({"kind":"volume","size_gb":1,"compute":"c"})")
          .message.find("does not apply")
        != std::string::npos);
  CHECK(
    parse_bad(R"({"kind":"attachment","compute":"c","volume":"v","size_gb":1})")
      .message.find("does not apply")
    != std::string::npos);
  CHECK(
    parse_bad(R"({"kind":"attachment","compute":"c","volume":"v","vcpu":1})")
      .message.find("does not apply")
    != std::string::npos);
}

TEST_CASE("instances render the fields of their kind") {
  instance v;
  v.id = "vol-1@site-a";
  v.kind = resource_kind::volume;
  v.state = instance_state::running;
  v.size_gb = 5;
  auto j = instance_to_json(v);
  CHECK(j["state"] == "ready");
  CHECK(j["size_gb"] == 5);
  CHECK(j["attached_to"].is_null());
  CHECK_FALSE(j.contains("ip"));
  instance c;
  c.state = instance_state::running;
  auto cj = instance_to_json(c);
  CHECK(cj["state"] == "running");
  CHECK(cj.contains("ip"));
  CHECK_FALSE(cj.contains("size_gb"));
  instance a;
  a.kind = resource_kind::attachment;
  a.state = instance_state::failed;
  a.server_id = "vm@x";
  a.volume_id = "vol@x";
  auto aj = instance_to_json(a);
  CHECK(aj["state"] == "failed");
  CHECK(aj["compute"] == "vm@x");
  CHECK(aj["volume"] == "vol@x");
  CHECK(aj["device"].is_null());
}

TEST_CASE("volume and network orders") {
  auto v = parse_ok(R"({"kind":"volume","size_gb":10})");
  CHECK(v.prototype.kind == resource_kind::volume);
  CHECK(v.prototype.size_gb == 10);

  auto n = parse_ok(R"({"kind":"network","network_cidr":"10.1.0.0/16"})");
  CHECK(n.prototype.kind == resource_kind::network);
  CHECK(n.prototype.network_cidr == "10.1.0.0/16");
  CHECK(n.prototype.network_gateway.empty());
  CHECK(n.prototype.network_allocation == "dynamic");

  auto s = parse_ok(R"({"kind":"network","network_cidr":"192.168.7.0/24",
    "network_gateway":"192.168.7.1","network_allocation":"static",
    "requirements":"Glue2CloudComputeManagerID == \"b\""})");
  CHECK(s.prototype.network_gateway == "192.168.7.1");
  CHECK(s.prototype.network_allocation == "static");
  CHECK(parse_ok(R"({"kind":"network","network_cidr":"0.0.0.0/0"})")
          .prototype.network_cidr
        == "0.0.0.0/0");
}

TEST_CASE("limits are inclusive") {
  CHECK(parse_ok(with("compute", R"("count":5)"), 5).count == 5);
  CHECK(parse_bad(with("compute", R"("count":6)"), 5).message.find("'count'")
        != std::string::npos);
  auto o =
    parse_ok(
      with("compute", R"("vcpu":1024,"memory_mb":16777216,"disk_gb":1048576)"))
      .prototype;
  CHECK(o.vcpu == 1024);
  CHECK(o.memory_mb == 16777216);
  CHECK(o.disk_gb == 1048576);
  CHECK(parse_ok(with("volume", R"("size_gb":65536)")).prototype.size_gb
        == 65536);
  CHECK(parse_ok(with("volume", R"("size_gb":1)")).prototype.size_gb == 1);
  CHECK(parse_ok(with("compute",
                      R"("user_data":")" + std::string(64 * 1024, 'x') + "\""))
          .prototype.user_data.size()
        == 64 * 1024);
  CHECK(parse_ok(with("compute",
                      R"("public_key":")" + std::string(16 * 1024, 'k') + "\""))
          .prototype.public_key.size()
        == 16 * 1024);
  CHECK(parse_ok(
          with("network",
               R"("network_cidr":"10.0.0.0/30","network_gateway":"10.0.0.2")"))
          .prototype.network_gateway
        == "10.0.0.2");
}

TEST_CASE("a body that is not a JSON object is refused") {
  for (std::string body :
       {"", " ", "not json", "{", "{\"kind\":}", "[]",
        "[{\"kind\":\"compute\"}]", "42", "\"compute\"", "null", "true",
        "{\"kind\":\"compute\"} {}", "{\"kind\":\"compute\",}", "\xff\xfe"}) {
    CAPTURE(body);
    auto e = parse_bad(body);
    CHECK(e.http_status == 400);
    CHECK(e.code == "invalid_json");
    CHECK(e.message.find("JSON") != std::string::npos);
  }
}

TEST_CASE("every bad field is refused with a message naming it") {
  struct bad_case {
    std::string body;
    std::string field; // must appear quoted in the message
  };
  const std::string big_key(300, 'k');
  const std::vector<bad_case> cases{
    // kind
    {"{}", "kind"},
    {R"({"count":1})", "kind"},
    {R"({"kind":"vm"})", "kind"},
    {R"({"kind":"Compute"})", "kind"},
    {R"({"kind":1})", "kind"},
    {R"({"kind":null})", "kind"},
    {R"({"kind":["compute"]})", "kind"},
    // unknown and duplicate fields
    {with("compute", R"("foo":1)"), "foo"},
    {with("compute", R"("Vcpu":1)"), "Vcpu"},
    {with("compute", R"("user_data_bytes":1)"), "user_data_bytes"},
    {with("compute", R"("id":"x")"), "id"},
    {with("compute", R"("state":"fulfilled")"), "state"},
    {with("compute", R"("vcpu":1,"vcpu":2)"), "vcpu"},
    {R"({"kind":"compute","kind":"volume","size_gb":1})", "kind"},
    {with("compute", "\"" + big_key + "\":1"), std::string(64, 'k')},
    // count
    {with("compute", R"("count":"2")"), "count"},
    {with("compute", R"("count":2.0)"), "count"},
    {with("compute", R"("count":1e1)"), "count"},
    {with("compute", R"("count":true)"), "count"},
    {with("compute", R"("count":null)"), "count"},
    {with("compute", R"("count":[1])"), "count"},
    {with("compute", R"("count":{})"), "count"},
    {with("compute", R"("count":0)"), "count"},
    {with("compute", R"("count":-1)"), "count"},
    {with("compute", R"("count":101)"), "count"},
    {with("compute", R"("count":4294967297)"), "count"},
    {with("compute", R"("count":18446744073709551615)"), "count"},
    {with("compute", R"("count":-9223372036854775808)"), "count"},
    {with("compute", R"("count":99999999999999999999999)"), "count"},
    // type
    {with("compute", R"("type":"forever")"), "type"},
    {with("compute", R"("type":"one_time")"), "type"},
    {with("compute", R"("type":0)"), "type"},
    // compute sizes
    {with("compute", R"("vcpu":0)"), "vcpu"},
    {with("compute", R"("vcpu":1025)"), "vcpu"},
    {with("compute", R"("vcpu":"2")"), "vcpu"},
    {with("compute", R"("vcpu":1.5)"), "vcpu"},
    {with("compute", R"("vcpu":null)"), "vcpu"},
    {with("compute", R"("vcpu":false)"), "vcpu"},
    {with("compute", R"("memory_mb":-1)"), "memory_mb"},
    {with("compute", R"("memory_mb":16777217)"), "memory_mb"},
    {with("compute", R"("memory_mb":"1G")"), "memory_mb"},
    {with("compute", R"("disk_gb":-1)"), "disk_gb"},
    {with("compute", R"("disk_gb":1048577)"), "disk_gb"},
    {with("compute", R"("disk_gb":[])"), "disk_gb"},
    // strings
    {with("compute", R"("image":5)"), "image"},
    {with("compute", R"("image":null)"), "image"},
    {with("compute", R"("image":")" + std::string(256, 'i') + "\""), "image"},
    {with("compute", R"("image":"a\u0000b")"), "image"},
    {with("compute",
          R"("public_key":")" + std::string(16 * 1024 + 1, 'k') + "\""),
     "public_key"},
    {with("compute", R"("public_key":{})"), "public_key"},
    {with("compute",
          R"("user_data":")" + std::string(64 * 1024 + 1, 'u') + "\""),
     "user_data"},
    {with("compute", R"("user_data":"#!/bin/sh\u0000")"), "user_data"},
    {with("compute", R"("user_data":["echo"])"), "user_data"},
    // requirements
    {with("compute", R"("requirements":"Glue2Foo > 1")"), "requirements"},
    {with("compute", R"("requirements":"Glue2RAM >=")"), "requirements"},
    {with("compute", R"("requirements":"(Glue2vCPU > 1")"), "requirements"},
    {with("compute", R"("requirements":3)"), "requirements"},
    {with("volume", R"("size_gb":1,"requirements":"&&")"), "requirements"},
    // validity
    {with("compute", R"("valid_from":"tomorrow")"), "valid_from"},
    {with("compute", R"("valid_from":"2026-11-25")"), "valid_from"},
    {with("compute", R"("valid_from":"2026-11-25T10:00:00")"), "valid_from"},
    {with("compute", R"("valid_from":1790000000)"), "valid_from"},
    {with("compute", R"("valid_until":"2026-13-01T00:00:00Z")"), "valid_until"},
    {with("compute", R"("valid_until":null)"), "valid_until"},
    {with(
       "compute",
       R"("valid_from":"2026-11-25T10:00:00Z","valid_until":"2026-11-25T10:00:00Z")"),
     "valid_until"},
    {with(
       "compute",
       R"("valid_from":"2026-11-25T10:00:00Z","valid_until":"2026-11-24T10:00:00Z")"),
     "valid_until"},
    {with("compute", R"("valid_until":"2026-01-01T00:00:00Z")"), "valid_until"},
    // fields of another kind
    {with("compute", R"("size_gb":10)"), "size_gb"},
    {with("compute", R"("network_cidr":"10.0.0.0/24")"), "network_cidr"},
    {with("volume", R"("size_gb":10,"vcpu":2)"), "vcpu"},
    {with("volume", R"("size_gb":10,"user_data":"x")"), "user_data"},
    {with("network", R"("network_cidr":"10.0.0.0/24","image":"x")"), "image"},
    {with("network", R"("network_cidr":"10.0.0.0/24","size_gb":1)"), "size_gb"},
    // volume
    {with("volume", ""), "size_gb"},
    {with("volume", R"("size_gb":0)"), "size_gb"},
    {with("volume", R"("size_gb":65537)"), "size_gb"},
    {with("volume", R"("size_gb":"10")"), "size_gb"},
    // network
    {with("network", ""), "network_cidr"},
    {with("network", R"("network_cidr":"")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0.0")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0.0/")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0.0/33")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0.0/08")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0.0/31")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0.0/-1")"), "network_cidr"},
    {with("network", R"("network_cidr":"256.0.0.0/8")"), "network_cidr"},
    {with("network", R"("network_cidr":"010.0.0.0/8")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0/24")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0.0.0/24")"), "network_cidr"},
    {with("network", R"("network_cidr":"10.0.0.1/24")"), "network_cidr"},
    {with("network", R"("network_cidr":"a.b.c.d/8")"), "network_cidr"},
    {with("network", R"("network_cidr":" 10.0.0.0/24")"), "network_cidr"},
    {with("network", R"("network_cidr":"fd00::/64")"), "network_cidr"},
    {with("network", R"("network_cidr":24)"), "network_cidr"},
    {with("network",
          R"("network_cidr":"10.1.0.0/16","network_gateway":"10.2.0.1")"),
     "network_gateway"},
    {with("network",
          R"("network_cidr":"10.1.0.0/16","network_gateway":"10.1.0.0")"),
     "network_gateway"},
    {with("network",
          R"("network_cidr":"10.1.0.0/16","network_gateway":"10.1.255.255")"),
     "network_gateway"},
    {with("network", R"("network_cidr":"10.1.0.0/16","network_gateway":"gw")"),
     "network_gateway"},
    {with("network", R"("network_cidr":"10.1.0.0/16","network_gateway":1)"),
     "network_gateway"},
    {with("network",
          R"("network_cidr":"10.1.0.0/16","network_allocation":"auto")"),
     "network_allocation"},
    {with("network",
          R"("network_cidr":"10.1.0.0/16","network_allocation":null)"),
     "network_allocation"},
  };
  for (auto& c : cases) {
    CAPTURE(c.body.substr(0, 200));
    auto e = parse_bad(c.body);
    CHECK(e.http_status == 400);
    CHECK(e.code == "invalid_argument");
    CHECK_MESSAGE(e.message.find("'" + c.field) != std::string::npos,
                  e.message);
  }
}

TEST_CASE("a requirements error says what is wrong and where") {
  auto e = parse_bad(
    with("compute", R"("requirements":"Glue2RAM >= 1 && Glue2Foo > 1")"));
  CHECK(e.message.find("'requirements'") != std::string::npos);
  CHECK(e.message.find("Glue2Foo") != std::string::npos);
  CHECK(e.message.find("position 17") != std::string::npos);
}

TEST_CASE("a wrong JSON type is named in the message") {
  auto e = parse_bad(with("compute", R"("vcpu":"2")"));
  CHECK(e.message.find("integer") != std::string::npos);
  CHECK(e.message.find("string") != std::string::npos);
  e = parse_bad(with("compute", R"("vcpu":2.5)"));
  CHECK(e.message.find("fraction") != std::string::npos);
}

TEST_CASE("valid_until is judged against the clock of the limits") {
  auto body = with("compute", R"("valid_until":"2026-09-21T00:00:00Z")");
  order_limits l = limits();
  l.clock = [] { return *parse_iso8601("2026-09-20T00:00:00Z"); };
  CHECK(std::holds_alternative<order_request>(parse_order_request(body, l)));
  l.clock = [] { return *parse_iso8601("2026-09-22T00:00:00Z"); };
  CHECK(std::holds_alternative<api_error>(parse_order_request(body, l)));
}

namespace {

order sample_order(resource_kind kind) {
  order o;
  o.id = "o-1";
  o.batch_id = "b-1";
  o.user_id = "alice";
  o.kind = kind;
  o.type = order_type::persistent;
  o.state = order_state::fulfilled;
  o.vcpu = 2;
  o.memory_mb = 2048;
  o.disk_gb = 20;
  o.image = "debian";
  o.requirements = "Glue2vCPU >= 2";
  o.public_key = "ssh-ed25519 AAAA";
  o.user_data = "#!/bin/sh\nsecret=1\n";
  o.size_gb = 5;
  o.network_cidr = "10.0.0.0/24";
  o.network_allocation = "dynamic";
  o.requesting_member = "site-a";
  o.created_at = *parse_iso8601("2026-11-25T10:00:00Z");
  o.updated_at = *parse_iso8601("2026-11-25T10:00:01.5Z");
  return o;
}

} // namespace

TEST_CASE("order JSON of a compute order") {
  auto o = sample_order(resource_kind::compute);
  auto j = order_to_json(o);
  for (auto key : {"id",
                   "batch_id",
                   "state",
                   "type",
                   "kind",
                   "instance_id",
                   "requesting_member",
                   "providing_member",
                   "created_at",
                   "updated_at",
                   "vcpu",
                   "memory_mb",
                   "disk_gb",
                   "image",
                   "requirements",
                   "valid_from",
                   "valid_until",
                   "last_error",
                   "fulfilled_at",
                   "public_key",
                   "user_data_bytes"}) {
    CAPTURE(key);
    CHECK(j.contains(key));
  }
  CHECK(j["state"] == "fulfilled");
  CHECK(j["type"] == "persistent");
  CHECK(j["kind"] == "compute");
  CHECK(j["instance_id"].is_null());
  CHECK(j["providing_member"].is_null());
  CHECK(j["last_error"].is_null());
  CHECK(j["fulfilled_at"].is_null());
  CHECK(j["valid_from"].is_null());
  CHECK(j["created_at"] == "2026-11-25T10:00:00.000Z");
  CHECK(j["updated_at"] == "2026-11-25T10:00:01.500Z");
  CHECK(j["public_key"] == "ssh-ed25519 AAAA");
  CHECK(j["user_data_bytes"] == o.user_data.size());
  CHECK_FALSE(j.contains("user_data"));
  CHECK(j.dump().find("secret") == std::string::npos);
  CHECK_FALSE(j.contains("size_gb"));
  CHECK_FALSE(j.contains("network_cidr"));

  o.instance_id = "i-1@site-a";
  o.providing_member = "site-a";
  o.last_error = "no capacity";
  o.fulfilled_at = o.updated_at;
  o.valid_from = o.created_at;
  o.valid_until = o.created_at + 3600'000;
  j = order_to_json(o);
  CHECK(j["instance_id"] == "i-1@site-a");
  CHECK(j["providing_member"] == "site-a");
  CHECK(j["last_error"] == "no capacity");
  CHECK(j["fulfilled_at"] == "2026-11-25T10:00:01.500Z");
  CHECK(j["valid_from"] == "2026-11-25T10:00:00.000Z");
  CHECK(j["valid_until"] == "2026-11-25T11:00:00.000Z");
}

TEST_CASE("order JSON shows only the fields of its kind") {
  auto v = order_to_json(sample_order(resource_kind::volume));
  CHECK(v["kind"] == "volume");
  CHECK(v["size_gb"] == 5);
  CHECK_FALSE(v.contains("vcpu"));
  CHECK_FALSE(v.contains("user_data_bytes"));
  CHECK_FALSE(v.contains("network_cidr"));

  auto n = order_to_json(sample_order(resource_kind::network));
  CHECK(n["kind"] == "network");
  CHECK(n["network_cidr"] == "10.0.0.0/24");
  CHECK(n["network_gateway"].is_null());
  CHECK(n["network_allocation"] == "dynamic");
  CHECK_FALSE(n.contains("size_gb"));
  CHECK_FALSE(n.contains("image"));
}

TEST_CASE("instance, member, quota, status and error JSON") {
  instance x;
  x.id = "vm-7@site-a";
  x.order_id = "o-1";
  x.state = instance_state::running;
  x.size = flavor{"small", 1, 512, -1};
  x.image = "debian";
  x.created_at = *parse_iso8601("2026-11-25T10:00:00Z");
  auto i = instance_to_json(x);
  CHECK(i["id"] == "vm-7@site-a");
  CHECK(i["order_id"] == "o-1");
  CHECK(i["state"] == "running");
  CHECK(i["flavor"] == "small");
  CHECK(i["vcpu"] == 1);
  CHECK(i["memory_mb"] == 512);
  CHECK(i["disk_gb"].is_null());
  CHECK(i["image"] == "debian");
  CHECK(i["ip"].is_null());
  CHECK(i["fault"].is_null());
  CHECK(i["created_at"] == "2026-11-25T10:00:00.000Z");
  x.ip = "10.0.0.5";
  x.fault = "boot failed";
  i = instance_to_json(x);
  CHECK(i["ip"] == "10.0.0.5");
  CHECK(i["fault"] == "boot failed");

  auto m = member_to_json(member_info{"site-b", false, 0, false});
  CHECK(m["id"] == "site-b");
  CHECK(m["alive"] == false);
  CHECK(m["self"] == false);
  CHECK(m["last_seen"].is_null());

  quota_report q;
  q.member_id = "site-a";
  q.cloud = cloud_resources{16, 4, 32768, 2048, 10, 2};
  q.user_vcpu = 2;
  q.user_memory_mb = 1024;
  q.user_instances = 1;
  auto qj = quota_to_json(q);
  CHECK(qj["member_id"] == "site-a");
  CHECK(qj["vcpu"]
        == json{{"total", 16}, {"in_use", 4}, {"in_use_by_user", 2}});
  CHECK(qj["memory_mb"]
        == json{{"total", 32768}, {"in_use", 2048}, {"in_use_by_user", 1024}});
  CHECK(qj["instances"]
        == json{{"total", 10}, {"in_use", 2}, {"in_use_by_user", 1}});

  status_report s;
  s.member_id = "site-a";
  // Per state over every kind.
  s.orders = {{resource_kind::compute, order_state::open, 1},
              {resource_kind::volume, order_state::open, 1},
              {resource_kind::compute, order_state::fulfilled, 1}};
  s.instances = 1;
  s.started_at = 1000;
  auto sj = status_to_json(s, "1.2.3", {"manager", "tunnel"}, 62'500);
  CHECK(sj["status"] == "ok");
  CHECK(sj["version"] == "1.2.3");
  CHECK(sj["roles"] == json{"manager", "tunnel"});
  CHECK(sj["member_id"] == "site-a");
  CHECK(sj["orders_by_state"] == json{{"open", 2}, {"fulfilled", 1}});
  CHECK(sj["instances"] == 1);
  CHECK(sj["uptime_s"] == 61);

  auto e = error_to_json({404, "not_found", "no order 'x'"});
  CHECK(
    e == json{{"error", {{"code", "not_found"}, {"message", "no order 'x'"}}}});
}

TEST_CASE("dump_json survives strings that are not UTF-8") {
  instance x;
  x.fault = "bad \xff\xfe bytes";
  std::string out;
  CHECK_NOTHROW(out = dump_json(instance_to_json(x)));
  CHECK(json::parse(out)["fault"].get<std::string>().find("bad ")
        != std::string::npos);
}

TEST_CASE("numbers too large for any type are a 400, not an exception") {
  auto r = parse_order_request(R"({"kind":"compute","disk_gb":11e999})", {});
  auto e = std::get_if<api_error>(&r);
  REQUIRE(e != nullptr);
  CHECK(e->http_status == 400);
  CHECK(e->code == "invalid_json");
}

TEST_CASE(
  "requirements that only fail once combined with the sizes are refused") {
  std::string deep(64, '(');
  deep += "Glue2vCPU >= 1";
  deep += std::string(64, ')');
  // At the nesting limit alone; one level too deep inside combine()'s parens.
  REQUIRE(std::holds_alternative<requirements::expression>(
    requirements::parse(deep)));
  auto body = R"({"kind":"compute","requirements":")" + deep + R"("})";
  auto r = parse_order_request(body, {});
  auto e = std::get_if<api_error>(&r);
  REQUIRE(e != nullptr);
  CHECK(e->http_status == 400);
  CHECK(e->message.find("requirements") != std::string::npos);
}

TEST_CASE("usage is summed as local, consumed from and donated to members") {
  std::vector<usage_record> rows{
    {"alice", "a@x", "a@x", {2, 1024, 0}},
    {"alice", "a@x", "b@x", {3, 0, 5}},
    {"bob", "a@x", "b@x", {1, 0, 0}},
    {"carol", "c@x", "a@x", {4, 512, 0}},
  };
  auto j = usage_to_json(rows, "a@x", "*");
  CHECK(j["member_id"] == "a@x");
  CHECK(j["user"].is_null());
  CHECK(j["local"] == usage_amount_to_json({2, 1024, 0}));
  REQUIRE(j["members"].size() == 2);
  CHECK(j["members"][0]["id"] == "b@x");
  CHECK(j["members"][0]["consumed"] == usage_amount_to_json({4, 0, 5}));
  CHECK(j["members"][0]["donated"] == usage_amount_to_json({}));
  CHECK(j["members"][1]["id"] == "c@x");
  CHECK(j["members"][1]["donated"] == usage_amount_to_json({4, 512, 0}));
  CHECK(j["records"].size() == 4);
  CHECK(j["records"][3]["requesting_member"] == "c@x");

  // One member asked for by name is listed even without any use.
  std::string d = "d@x";
  auto none = usage_to_json({}, "a@x", "alice", &d);
  CHECK(none["user"] == "alice");
  REQUIRE(none["members"].size() == 1);
  CHECK(none["members"][0]["id"] == "d@x");
  CHECK(none["members"][0]["consumed"]["vcpu_minutes"] == 0.0);
  std::string self = "a@x";
  CHECK(usage_to_json({}, "a@x", "alice", &self)["members"].empty());
}
