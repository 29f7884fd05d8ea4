// The pure parts of the OpenStack volume/attachment/network drivers:
// parsing Cinder, Nova-attachment and Neutron answers (samples measured on
// the test OpenStack, docs/openstack-volumes.md), status mapping, the
// subnet request, and the config keys `volumes` / `networks`.
// Against a real OpenStack: tests/integration/test_openstack_resources.py.

#include "openstack/openstack_resources_api.hpp"
#include "domain/errors.hpp"
#include "roles/config.hpp"
#include "support/config_errors.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace fogbow;
using fogbow::test::error_of;
using json = nlohmann::json;

namespace {

const char* created_volume =
  R"({"volume": {"id": "406e176c-c325-41b5-9961-50db7d72920c",
  "status": "creating", "size": 1, "availability_zone": "nova",
  "created_at": "2026-11-27T01:15:35.454373", "updated_at": null,
  "name": "fogbow-o-1", "description": null, "volume_type": "__DEFAULT__",
  "snapshot_id": null, "source_volid": null,
  "metadata": {"fogbow-order-id": "o-1", "fogbow-member": "site-a"},
  "links": [{"rel": "self", "href": "http://127.0.0.1:8776/v3/f939/volumes/406e176c"}],
  "user_id": "afff08610e084fe4955b72591087c1bf", "bootable": "false",
  "encrypted": false, "replication_status": null, "consistencygroup_id": null,
  "multiattach": false, "attachments": []}})";

const char* attached_volume =
  R"({"volume": {"id": "406e176c", "status": "in-use",
  "size": 2, "name": "fogbow-o-1",
  "metadata": {"fogbow-order-id": "o-1", "fogbow-member": "site-a",
               "fogbow-attachment-order": "a-9"},
  "attachments": [{"id": "406e176c", "attachment_id": "a13c3070",
    "volume_id": "406e176c", "server_id": "40edc02a", "host_name": null,
    "device": "/dev/sdb", "attached_at": "2026-11-27T01:15:38.848042"}]}})";

const char* volume_list = R"({"volumes": [
  {"id": "v-1", "status": "available", "size": 1, "name": "fogbow-o-1",
   "metadata": {"fogbow-order-id": "o-1", "fogbow-member": "site-a"}, "attachments": []},
  {"id": "v-2", "status": "error", "size": 1, "name": "fogbow-o-2",
   "metadata": {"fogbow-order-id": "o-2", "fogbow-member": "site-a"}, "attachments": []},
  {"id": "v-3", "status": "available", "size": 1, "name": "fogbow-o-3",
   "metadata": {"fogbow-order-id": "o-3", "fogbow-member": "site-b"}, "attachments": []},
  {"id": "v-4", "status": "in-use", "size": 5, "name": "data",
   "metadata": {}, "attachments": []},
  {"id": "v-5", "status": "in-use", "size": 1, "name": "fogbow-o-5",
   "metadata": {"fogbow-order-id": "o-5", "fogbow-member": "site-a"},
   "attachments": [{"server_id": "s-1", "device": "/dev/sdc"}]}]})";

const char* cinder_limits = R"({"limits": {"rate": [], "absolute": {
  "maxTotalVolumes": 10, "maxTotalSnapshots": 10, "maxTotalVolumeGigabytes": 1000,
  "maxTotalBackups": 10, "maxTotalBackupGigabytes": 1000,
  "totalVolumesUsed": 1, "totalGigabytesUsed": 1, "totalSnapshotsUsed": 0,
  "totalBackupsUsed": 0, "totalBackupGigabytesUsed": 0}}})";

// Measured on the test Neutron (ML2 without agents): ACTIVE at once.
const char* network_list = R"({"networks": [
  {"id": "d6223313", "name": "fogbow-o-7", "tenant_id": "083d", "admin_state_up": true,
   "mtu": 1450, "status": "ACTIVE", "subnets": ["e679414a"], "shared": false,
   "description": "fogbow-member=site-a", "tags": [],
   "created_at": "2026-11-27T01:54:30Z", "updated_at": "2026-11-27T01:54:30Z"},
  {"id": "n-2", "name": "fogbow-o-8", "status": "ACTIVE", "subnets": [],
   "description": "fogbow-member=site-a"},
  {"id": "n-3", "name": "fogbow-o-9", "status": "ACTIVE", "subnets": [],
   "description": "fogbow-member=site-b"},
  {"id": "n-4", "name": "public", "status": "ACTIVE", "subnets": [],
   "description": ""}]})";

const char* subnet_list = R"({"subnets": [
  {"id": "e679414a", "name": "", "network_id": "d6223313", "ip_version": 4,
   "enable_dhcp": true, "gateway_ip": "10.20.0.1", "cidr": "10.20.0.0/24",
   "allocation_pools": [{"start": "10.20.0.2", "end": "10.20.0.254"}]}]})";

} // namespace

TEST_CASE("a new Cinder volume is a spawning volume of its order") {
  auto c = parse_volume(created_volume);
  CHECK(c.status == "creating");
  CHECK(c.member == "site-a");
  CHECK(c.volume.kind == resource_kind::volume);
  CHECK(c.volume.id == "406e176c-c325-41b5-9961-50db7d72920c");
  CHECK(c.volume.order_id == "o-1");
  CHECK(c.volume.state == instance_state::spawning);
  CHECK(c.volume.size_gb == 1);
  CHECK(c.volume.server_id.empty());
  CHECK(c.volume.created_at == *parse_iso8601("2026-11-27T01:15:35.454Z"));
  CHECK(c.attachments.empty());
}

TEST_CASE("an attached volume names its server and its attachment order") {
  auto c = parse_volume(attached_volume);
  CHECK(c.volume.state == instance_state::running);
  CHECK(c.volume.server_id == "40edc02a");
  CHECK(c.volume.size_gb == 2);
  REQUIRE(c.attachments.size() == 1);
  auto& a = c.attachments[0];
  CHECK(a.kind == resource_kind::attachment);
  CHECK(a.id == attachment_local_id("40edc02a", "406e176c"));
  CHECK(a.order_id == "a-9");
  CHECK(a.server_id == "40edc02a");
  CHECK(a.volume_id == "406e176c");
  CHECK(a.device == "/dev/sdb");
  CHECK(a.state == instance_state::running);
}

TEST_CASE("volume status mapping") {
  CHECK(map_volume_status("creating") == instance_state::spawning);
  CHECK(map_volume_status("available") == instance_state::running);
  CHECK(map_volume_status("in-use") == instance_state::running);
  CHECK(map_volume_status("attaching") == instance_state::running);
  CHECK(map_volume_status("detaching") == instance_state::running);
  CHECK(map_volume_status("error") == instance_state::failed);
  CHECK(map_volume_status("error_deleting") == instance_state::failed);
  CHECK(map_volume_status("ERROR_extending") == instance_state::failed);
}

TEST_CASE(
  "a volume listing keeps only this member's volumes, with their state") {
  auto vs = parse_volume_list(volume_list, "site-a");
  REQUIRE(vs.size() == 3);
  CHECK(vs[0].volume.id == "v-1");
  CHECK(vs[0].volume.state == instance_state::running);
  CHECK(vs[1].volume.id == "v-2");
  CHECK(vs[1].volume.state == instance_state::failed);
  CHECK(vs[1].volume.fault == "volume is error");
  CHECK(vs[2].volume.id == "v-5");
  CHECK(vs[2].volume.server_id == "s-1");
  REQUIRE(vs[2].attachments.size() == 1);
  CHECK(vs[2].attachments[0].order_id.empty()); // no attachment order: not ours
  CHECK(parse_volume_list(volume_list, "site-b").size() == 1);
  CHECK(parse_volume_list(volume_list, "site-c").empty());
}

TEST_CASE("unusable Cinder answers are cloud errors") {
  CHECK_THROWS_AS(parse_volume("<html>502</html>"), cloud_failure);
  CHECK_THROWS_AS(parse_volume(R"({"volume": {"status": "creating"}})"),
                  cloud_failure);
  CHECK_THROWS_AS(parse_volume_list(R"({"servers": []})", "m"), cloud_failure);
  CHECK_THROWS_AS(parse_volume_limits(R"({"limits": {}})"), cloud_failure);
  try {
    parse_volume("[]");
    FAIL("no throw");
  } catch (const cloud_failure& e) {
    CHECK(e.code == errc::cloud_error);
  }
}

TEST_CASE("Cinder limits and when the quota has more room") {
  auto l = parse_volume_limits(cinder_limits);
  CHECK(l.volumes_total == 10);
  CHECK(l.volumes_used == 1);
  CHECK(l.gigabytes_total == 1000);
  CHECK(l.gigabytes_used == 1);
  auto fuller = l;
  fuller.volumes_used = 10;
  CHECK(more_room(l, fuller));
  CHECK_FALSE(more_room(fuller, l));
  CHECK_FALSE(more_room(l, l));
  auto unlimited = l;
  unlimited.volumes_total = -1;
  CHECK(more_room(unlimited, fuller));
  auto bigger = fuller;
  bigger.gigabytes_total = 2000;
  CHECK(more_room(bigger, fuller));
}

TEST_CASE(
  "Cinder's quota error is no_capacity, an in-use delete a bad request") {
  http_result over{
    413,
    R"({"overLimit": {"code": 413, "message": "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'.", "retryAfter": "0"}})"};
  try {
    throw_http_failure(over, "create volume");
  } catch (const cloud_failure& e) {
    CHECK(e.code == errc::no_capacity);
    CHECK(std::string{e.what()}.find("VolumeLimitExceeded")
          != std::string::npos);
  }
  CHECK(
    cloud_message(
      R"({"itemNotFound": {"code": 404, "message": "Volume 406e could not be found."}})")
    == "Volume 406e could not be found.");
  CHECK(classify_http_error(404, "") == errc::not_found);
}

TEST_CASE("Nova's attach answer gives the device") {
  CHECK(parse_attach_device(
          R"({"volumeAttachment": {"id": "406e", "serverId": "40ed",
    "volumeId": "406e", "device": "/dev/sdb"}})")
        == "/dev/sdb");
  CHECK(parse_attach_device(R"({"volumeAttachment": {"id": "406e"}})").empty());
  CHECK(parse_attach_device("not json").empty());
}

TEST_CASE(
  "a network listing keeps this member's networks joined with their subnet") {
  auto ns = parse_network_list(network_list, subnet_list, "site-a");
  REQUIRE(ns.size() == 2);
  auto& n = ns[0];
  CHECK(n.net.kind == resource_kind::network);
  CHECK(n.net.id == "d6223313");
  CHECK(n.net.order_id == "o-7");
  CHECK(n.status == "ACTIVE");
  CHECK(n.subnet_id == "e679414a");
  CHECK(n.net.network_cidr == "10.20.0.0/24");
  CHECK(n.net.network_gateway == "10.20.0.1");
  CHECK(n.net.state == instance_state::running);
  CHECK(n.net.created_at == *parse_iso8601("2026-11-27T01:54:30Z"));
  // A network without its subnet (left by a crash) is not ready yet.
  CHECK(ns[1].net.id == "n-2");
  CHECK(ns[1].subnet_id.empty());
  CHECK(ns[1].net.state == instance_state::spawning);
  CHECK(parse_network_list(network_list, subnet_list, "site-b").size() == 1);
  CHECK_THROWS_AS(parse_network_list("{}", subnet_list, "site-a"),
                  cloud_failure);
}

TEST_CASE("Neutron's quota: OverQuota is no_capacity, details give room") {
  http_result over{
    409,
    R"({"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['network'].", "detail": ""}})"};
  try {
    throw_http_failure(over, "create network");
    FAIL("no throw");
  } catch (const cloud_failure& e) {
    CHECK(e.code == errc::no_capacity);
    CHECK(std::string{e.what()}.find("Quota exceeded for resources")
          != std::string::npos);
  }
  // Another 409 stays a conflict (e.g. a network with ports in use).
  CHECK(classify_http_error(409, "Unable to complete operation on network n-1. "
                                 "There are one or more ports still in use")
        == errc::conflict);
  // Measured on the test Neutron (member user, own project).
  auto l = parse_network_limits(
    R"({"quota": {"network": {"limit": 1, "used": 1, "reserved": 0},
    "subnet": {"limit": 100, "used": 0, "reserved": 0},
    "subnetpool": {"limit": -1, "used": 0, "reserved": 0},
    "port": {"limit": 500, "used": 0, "reserved": 0}}})");
  CHECK(l.networks_total == 1);
  CHECK(l.networks_used == 1);
  CHECK(l.subnets_total == 100);
  CHECK(l.subnets_used == 0);
  auto raised = l;
  raised.networks_total = 2;
  CHECK(more_room(raised, l));
  CHECK_FALSE(more_room(l, raised));
  CHECK_FALSE(more_room(l, l));
  CHECK_THROWS_AS(parse_network_limits(R"({"quotas": []})"), cloud_failure);
}

TEST_CASE("network status mapping") {
  CHECK(map_network_status("ACTIVE", true) == instance_state::running);
  CHECK(map_network_status("ACTIVE", false) == instance_state::spawning);
  CHECK(map_network_status("BUILD", true) == instance_state::spawning);
  CHECK(map_network_status("DOWN", true) == instance_state::failed);
  CHECK(map_network_status("ERROR", true) == instance_state::failed);
  CHECK(network_description("site-a") == "fogbow-member=site-a");
}

TEST_CASE("the subnet request carries cidr, gateway and DHCP from the order") {
  instance_spec spec;
  spec.order_id = "o-7";
  spec.kind = resource_kind::network;
  spec.network_cidr = "10.20.0.0/24";
  spec.network_gateway = "10.20.0.1";
  spec.network_allocation = "dynamic";
  auto j = json::parse(subnet_request("d6223313", spec));
  auto& s = j.at("subnet");
  CHECK(s.at("network_id") == "d6223313");
  CHECK(s.at("cidr") == "10.20.0.0/24");
  CHECK(s.at("gateway_ip") == "10.20.0.1");
  CHECK(s.at("ip_version") == 4);
  CHECK(s.at("enable_dhcp") == true);
  CHECK(s.at("name") == "fogbow-o-7");
  spec.network_gateway.clear();
  spec.network_allocation = "static";
  j = json::parse(subnet_request("d6223313", spec));
  CHECK_FALSE(j.at("subnet").contains("gateway_ip"));
  CHECK(j.at("subnet").at("enable_dhcp") == false);
}

TEST_CASE("config: volumes and networks can be switched off, default on") {
  const std::string head = R"(
[manager.driver]
kind = "openstack"
[manager.driver.openstack]
auth_url = "http://127.0.0.1:5000/v3"
)";
  const std::string account = R"(
[[manager.driver.openstack.accounts]]
name = "main"
username = "demo"
password = "demo-pw"
project_name = "demo"
)";
  auto c = parse_config(head + account, "t.toml");
  CHECK(c.manager.driver.openstack.volumes);
  CHECK(c.manager.driver.openstack.networks);
  c = parse_config(head + "volumes = false\nnetworks = false\n" + account,
                   "t.toml");
  CHECK_FALSE(c.manager.driver.openstack.volumes);
  CHECK_FALSE(c.manager.driver.openstack.networks);
  CHECK(error_of(head + "volumes = \"no\"\n" + account).find("volumes")
        != std::string::npos);
}
