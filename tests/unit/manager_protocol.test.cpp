// The manager-to-manager payload codecs: every message round-trips, the
// Java Fogbow's payload shapes decode, and malformed, truncated, oversized
// or misplaced input is a bad-request, never a crash.

#include "federation/manager_protocol.hpp"
#include "federation/xml.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace fogbow;
using namespace fogbow::fed;

namespace {

/// "ok", the protocol_error's condition, or "other exception".
std::string outcome(const std::function<void()>& f) {
  try {
    f();
  } catch (const protocol_error& e) {
    return e.condition();
  } catch (...) {
    return "other exception";
  }
  return "ok";
}

/// Through the wire: serialized and parsed again.
xml::element wire(const xml::element& e) {
  return xml::parse(xml::to_string(e));
}

std::string q(std::string_view ns, const std::string& body) {
  return "<query xmlns='" + std::string{ns} + "'>" + body + "</query>";
}

const std::string user_token =
  "<token><user><id>alice</id><name>Alice</name></user></token>";

order_request compute_order() {
  order_request r;
  r.order_id = "3f2a-9c.order_1";
  r.user = {"alice", "Alice Liddell"};
  r.kind = resource_kind::compute;
  r.type = order_type::persistent;
  r.requirements = "Glue2vCPU >= 2 && Glue2RAM >= 1024 && "
                   "Glue2CloudComputeManagerID == \"b@xmpp.example.org\"";
  r.image = "ubuntu-22.04";
  r.user_data = std::string{"#!/bin/sh\necho <hi> & 'bye'\n\0\xff", 30};
  r.public_key = "ssh-ed25519 AAAAC3Nza alice@laptop";
  return r;
}

instance full_instance() {
  instance x;
  x.id = "vm-7f3c";
  x.order_id = "";
  x.kind = resource_kind::compute;
  x.state = instance_state::running;
  x.size = {"medium", 2, 1536, -1};
  x.image = "ubuntu-22.04";
  x.ip = "10.0.0.5";
  x.size_gb = 20;
  x.network_cidr = "10.1.0.0/24";
  x.network_gateway = "10.1.0.1";
  x.server_id = "vm-7f3c";
  x.volume_id = "vol-1";
  x.device = "/dev/vdb";
  x.created_at = 1764064800123;
  x.fault = "No valid host <was> found & \"retried\" — twice";
  x.ssh_public_address = "tunnel.example.org:20001";
  x.extra_ports = {{"web", "tunnel.example.org:20002"},
                   {"db", "tunnel.example.org:20003"}};
  return x;
}

} // namespace

// --- order
// ---------------------------------------------------------------------

TEST_CASE("manager protocol: order round trip for every kind") {
  auto compute = compute_order();
  CHECK(decode_order(wire(encode_order(compute))) == compute);
  compute.image = "Ubuntu 22.04 LTS"; // Glance names may hold blanks
  CHECK(decode_order(wire(encode_order(compute))) == compute);

  order_request volume;
  volume.order_id = "v1";
  volume.user = {"bob", ""};
  volume.kind = resource_kind::volume;
  volume.size_gb = 100000;
  CHECK(decode_order(wire(encode_order(volume))) == volume);

  order_request network;
  network.order_id = "n1";
  network.user = {"bob", "Bob"};
  network.kind = resource_kind::network;
  network.network_cidr = "10.1.0.0/24";
  network.network_gateway = "10.1.0.1";
  network.network_allocation = "static";
  CHECK(decode_order(wire(encode_order(network))) == network);

  auto result = encode_order_result("vm-1");
  CHECK(xml::to_string(result)
        == "<query xmlns=\"http://fogbowcloud.org/manager/order\">"
           "<instance><id>vm-1</id></instance></query>");
  CHECK(decode_order_result(wire(result)) == "vm-1");
}

TEST_CASE("manager protocol: the order payload has the Java shape") {
  auto e = encode_order(compute_order());
  CHECK(e.ns == ns_order);
  CHECK(e.child("order")->child("id")->text == "3f2a-9c.order_1");
  CHECK(e.child("token")->child("user")->child("id")->text == "alice");
  CHECK_FALSE(
    e.child("token")->child("accessId")); // the user's token stays home
  bool kind = false, os = false, user_data = false;
  for (auto& c : e.children) {
    if (c.name == "category" && c.child("term")->text == "ubuntu-22.04")
      os =
        c.child("scheme")->text == "http://schemas.fogbowcloud.org/template/os#"
        && c.child("class")->text == "mixin";
    if (c.name == "attribute"
        && *c.attr("var") == "org.fogbowcloud.order.resource-kind")
      kind = c.child("value")->text == "compute";
    if (c.name == "attribute"
        && *c.attr("var") == "org.fogbowcloud.order.user-data")
      user_data = c.child("value")->text.find('\n') == std::string::npos;
  }
  CHECK(kind);
  CHECK(os);
  CHECK(user_data);
}

TEST_CASE("manager protocol: a Java manager's order decodes") {
  // As ManagerPacketHelper.asynchronousRemoteOrder writes it (develop,
  // f7be7534), with attributes we do not read.
  auto text =
    q(ns_order,
      "<category><class>kind</class><term>order</term>"
      "<scheme>http://schemas.fogbowcloud.org/order#</scheme></category>"
      "<category><class>mixin</class><term>fogbow-ubuntu</term>"
      "<scheme>http://schemas.fogbowcloud.org/template/os#</scheme></category>"
      "<category><class>mixin</class><term>fogbow_userdata</term>"
      "<scheme>http://schemas.fogbowcloud.org/order#</scheme></category>"
      "<attribute "
      "var='org.fogbowcloud.order.instance-count'><value>1</value></attribute>"
      "<attribute "
      "var='org.fogbowcloud.order.type'><value>one-time</value></attribute>"
      "<attribute "
      "var='org.fogbowcloud.order.resource-kind'><value>compute</value></"
      "attribute>"
      "<attribute var='org.fogbowcloud.order.requirements'>"
      "<value>Glue2RAM &gt;= 1024 &amp;&amp; Glue2vCPU &gt;= "
      "2</value></attribute>"
      "<attribute "
      "var='org.fogbowcloud.order.user-data'><value>IyEvYmluL3NoCmVjaG8gaGk=</"
      "value></attribute>"
      "<attribute "
      "var='org.fogbowcloud.order.batch-id'><value>b-1</value></attribute>"
      "<attribute var='org.fogbowcloud.order.requesting-member'>"
      "<value>manager.site-a.org</value></attribute>"
      "<order><id>5b4c6a2e-3a11-4d1a-9f4c-0c1d2e3f4a5b</id></order>"
      "<token><accessId>keystone-token</accessId>"
      "<user><id>fogbow</id><name>Fogbow User</name></user></token>");
  auto r = decode_order(xml::parse(text));
  CHECK(r.order_id == "5b4c6a2e-3a11-4d1a-9f4c-0c1d2e3f4a5b");
  CHECK(r.user == remote_user{"fogbow", "Fogbow User"});
  CHECK(r.kind == resource_kind::compute);
  CHECK(r.type == order_type::one_time);
  CHECK(r.requirements == "Glue2RAM >= 1024 && Glue2vCPU >= 2");
  CHECK(r.image == "fogbow-ubuntu");
  CHECK(r.user_data == "#!/bin/sh\necho hi");
  CHECK(r.public_key.empty());

  // storage, Java's name for a volume
  auto storage =
    q(ns_order,
      "<attribute "
      "var='org.fogbowcloud.order.resource-kind'><value>storage</value></"
      "attribute>"
      "<attribute "
      "var='org.fogbowcloud.order.storage-size'><value>5</value></attribute>"
      "<order><id>s1</id></order>"
        + user_token);
  auto s = decode_order(xml::parse(storage));
  CHECK(s.kind == resource_kind::volume);
  CHECK(s.size_gb == 5);
  // no resource kind at all: compute (Java managers before storage)
  auto old = decode_order(
    xml::parse(q(ns_order, "<order><id>o1</id></order>" + user_token)));
  CHECK(old.kind == resource_kind::compute);
  CHECK(old.type == order_type::one_time);
  // base64 split over lines is fine
  auto wrapped = decode_order(
    xml::parse(q(ns_order, "<attribute "
                           "var='org.fogbowcloud.order.user-data'><value>"
                           "IyEvYmlu\r\nL3No</value></attribute>"
                           "<order><id>o1</id></order>"
                             + user_token)));
  CHECK(wrapped.user_data == "#!/bin/sh");
}

TEST_CASE("manager protocol: malformed orders are bad requests") {
  auto order = [](const std::string& attrs,
                  const std::string& tail =
                    "<order><id>o1</id></order>" + user_token) {
    return q(ns_order, attrs + tail);
  };
  auto attr = [](const std::string& name, const std::string& value) {
    return "<attribute var='" + name + "'><value>" + value
           + "</value></attribute>";
  };
  const std::string kind = "org.fogbowcloud.order.resource-kind";
  const std::string size = "org.fogbowcloud.order.storage-size";
  std::vector<std::string> cases{
    "<query xmlns='urn:evil'><order><id>o1</id></order>" + user_token
      + "</query>",
    "<order xmlns='http://fogbowcloud.org/manager/order'/>",
    order("", user_token),                                 // no <order>
    order("", "<order/>" + user_token),                    // no <id>
    order("", "<order><id> </id></order>" + user_token),   // empty id
    order("", "<order><id>a/b</id></order>" + user_token), // bad character
    order("",
          "<order><id>" + std::string(129, 'a') + "</id></order>" + user_token),
    order("",
          "<order><id>o1</id></order><order><id>o2</id></order>" + user_token),
    order("", "<order><id>o1</id></order>"), // no token
    order("",
          "<order><id>o1</id></order><token><accessId>x</accessId></token>"),
    order(
      "",
      "<order><id>o1</id></order><token><user><name>n</name></user></token>"),
    order("",
          "<order><id>o1</id></order><token><user><id></id></user></token>"),
    order("", "<order><id>o1</id></order><token><user><id>"
                + std::string(257, 'u') + "</id></user></token>"),
    order(attr(kind, "attachment")),
    order(attr(kind, "vm")),
    order(attr(kind, "compute") + attr(kind, "storage")), // duplicate attribute
    order("<attribute><value>x</value></attribute>"),     // no name
    order("<attribute var='org.fogbowcloud.order.type'/>"), // no value
    order(attr("org.fogbowcloud.order.type", "forever")),
    order(attr("org.fogbowcloud.order.requirements", "Glue2Foo &gt; 1")),
    order(attr("org.fogbowcloud.order.requirements", "Glue2vCPU &gt;= ")),
    order(attr("org.fogbowcloud.order.requirements",
               "Glue2vCPU &gt;= 1" + std::string(4100, ' '))),
    order(attr("org.fogbowcloud.order.user-data", "not base64!")),
    order(attr("org.fogbowcloud.order.user-data", "YWJjZ")), // ragged length
    order(attr("org.fogbowcloud.order.user-data",
               "YQ==YQ==")), // data after padding
    order(attr("org.fogbowcloud.order.user-data", "YR==")), // non-canonical
    order(attr("org.fogbowcloud.order.user-data",
               std::string(87384, 'A'))), // > 64 KiB
    order(attr("org.fogbowcloud.credentials.publickey.data",
               std::string(16385, 'k'))),
    order(attr(kind, "storage")), // no size
    order(attr(kind, "storage") + attr(size, "0")),
    order(attr(kind, "storage") + attr(size, "100001")),
    order(attr(kind, "storage") + attr(size, "-1")),
    order(attr(kind, "storage") + attr(size, "1e3")),
    order(attr(kind, "storage") + attr(size, "+5")),
    order(attr(kind, "storage") + attr(size, "99999999999999999999999")),
    order(attr(kind, "network")), // no address
    order(attr(kind, "network") + attr("occi.network.address", "10.0.0.0/8")
          + attr("occi.network.allocation", "dhcp")),
    order("<category><term>a</term><scheme>http://schemas.fogbowcloud.org/"
          "template/os#</scheme></category>"
          "<category><term>b</term><scheme>http://schemas.fogbowcloud.org/"
          "template/os#</scheme></category>"),
    order("<category><scheme>http://schemas.fogbowcloud.org/template/os#</"
          "scheme></category>"),
    order("<category><term>a&#9;b</term>"
          "<scheme>http://schemas.fogbowcloud.org/template/os#</scheme></"
          "category>"),
    order("<category><term> </term>"
          "<scheme>http://schemas.fogbowcloud.org/template/os#</scheme></"
          "category>"),
  };
  for (auto& text : cases) {
    CAPTURE(text.substr(0, 300));
    CHECK(outcome([&] { decode_order(xml::parse(text)); }) == "bad-request");
  }
  // the limits themselves are accepted
  CHECK(outcome([&] {
          decode_order(xml::parse(order(
            attr("org.fogbowcloud.order.user-data", std::string(87380, 'A')))));
        })
        == "ok");
  CHECK(outcome([&] {
          decode_order(
            xml::parse(order("", "<order><id>" + std::string(128, 'a')
                                   + "</id></order>" + user_token)));
        })
        == "ok");
  CHECK(
    outcome([] { decode_order_result(xml::parse(q(ns_order, "<instance/>"))); })
    == "bad-request");
  CHECK(outcome([] {
          decode_order_result(
            xml::parse(q(ns_getinstance, "<instance><id>x</id></instance>")));
        })
        == "bad-request");
}

// --- getinstance
// -------------------------------------------------------------------

TEST_CASE("manager protocol: getinstance requests, one (Java) or a batch") {
  CHECK(xml::to_string(encode_getinstance({"vm-1"}))
        == "<query xmlns=\"http://fogbowcloud.org/manager/getinstance\">"
           "<instance><id>vm-1</id></instance></query>");
  std::vector<std::string> ids;
  for (int i = 0; i < 500; ++i)
    ids.push_back("vm-" + std::to_string(i));
  CHECK(decode_getinstance(wire(encode_getinstance(ids))) == ids);
  ids.push_back("vm-500");
  CHECK(outcome([&] { decode_getinstance(encode_getinstance(ids)); })
        == "bad-request");
  CHECK(outcome([] { decode_getinstance(encode_getinstance({})); })
        == "bad-request");
  CHECK(outcome([] {
          decode_getinstance(encode_getinstance({"a", "b", "a"}));
        })
        == "bad-request");
  CHECK(outcome([] {
          decode_getinstance(encode_getinstance({std::string(257, 'x')}));
        })
        == "bad-request");
  CHECK(outcome([] {
          decode_getinstance(xml::parse(q(ns_getinstance, "<instance/>")));
        })
        == "bad-request");
  CHECK(outcome([] {
          decode_getinstance(xml::parse(
            q(ns_getinstance, "<instance><id>a</id><id>b</id></instance>")));
        })
        == "bad-request");
}

TEST_CASE("manager protocol: every field of an instance round-trips") {
  auto full = full_instance();
  instance minimal;
  minimal.id = "vol-2";
  minimal.kind = resource_kind::volume;
  minimal.state = instance_state::spawning;
  auto lost = full;
  lost.id = "net-3";
  lost.kind = resource_kind::network;
  lost.state = instance_state::lost;
  auto unknown = minimal;
  unknown.id = "att-4";
  unknown.kind = resource_kind::attachment;
  unknown.state = instance_state::unknown;
  auto failed = minimal;
  failed.id = "vm-5";
  failed.state = instance_state::failed;
  failed.size = {"", -1, -1, 0};
  std::vector<instance> all{full, minimal, lost, unknown, failed};
  CHECK(decode_instances(wire(encode_instances(all))) == all);
  CHECK(decode_instances(wire(encode_instances({}))).empty());

  // the provider's order id stays private
  full.order_id = "provider-secret-order";
  auto back = decode_instances(wire(encode_instances({full})));
  REQUIRE(back.size() == 1);
  CHECK(back[0].order_id.empty());
  CHECK(xml::to_string(encode_instances({full})).find("provider-secret-order")
        == std::string::npos);

  // each field is carried, not just left at its default
  auto changed = [](auto change) {
    auto x = full_instance();
    change(x);
    auto y = decode_instances(wire(encode_instances({x})));
    return y.size() == 1 && y[0] == x && !(y[0] == full_instance());
  };
  CHECK(changed([](instance& x) { x.size.name = "large"; }));
  CHECK(changed([](instance& x) { x.size.vcpu = 8; }));
  CHECK(changed([](instance& x) { x.size.memory_mb = 1000; }));
  CHECK(changed([](instance& x) { x.size.disk_gb = 40; }));
  CHECK(changed([](instance& x) { x.image = "debian"; }));
  CHECK(changed([](instance& x) { x.ip = "10.0.0.6"; }));
  CHECK(changed([](instance& x) { x.size_gb = 21; }));
  CHECK(changed([](instance& x) { x.network_cidr = "10.2.0.0/16"; }));
  CHECK(changed([](instance& x) { x.network_gateway = "10.2.0.1"; }));
  CHECK(changed([](instance& x) { x.server_id = "vm-x"; }));
  CHECK(changed([](instance& x) { x.volume_id = "vol-x"; }));
  CHECK(changed([](instance& x) { x.device = "/dev/vdc"; }));
  CHECK(changed([](instance& x) { x.created_at = 1; }));
  CHECK(changed([](instance& x) { x.fault = "other"; }));
  CHECK(changed([](instance& x) { x.ssh_public_address = "h:1"; }));
  CHECK(changed([](instance& x) { x.extra_ports.pop_back(); }));
  CHECK(changed(
    [](instance& x) { std::swap(x.extra_ports[0], x.extra_ports[1]); }));
  CHECK(changed([](instance& x) { x.kind = resource_kind::volume; }));
  CHECK(changed([](instance& x) { x.state = instance_state::spawning; }));
}

TEST_CASE(
  "manager protocol: instances carry Java's state and attribute names") {
  auto e = encode_instances({full_instance()});
  auto& inst = e.children.at(0);
  CHECK(inst.child("state")->text == "RUNNING");
  CHECK(inst.child("id")->text == "vm-7f3c");
  std::map<std::string, std::string> attrs;
  for (auto& c : inst.children)
    if (c.name == "attribute")
      attrs[*c.attr("val")] = c.text;
  CHECK(attrs["occi.compute.cores"] == "2");
  CHECK(attrs["occi.compute.memory"] == "1.5");
  CHECK(attrs["occi.storage.size"] == "20");
  CHECK(attrs["occi.network.address"] == "10.1.0.0/24");
  CHECK(attrs["org.fogbowcloud.order.ssh-public-address"]
        == "tunnel.example.org:20001");
  CHECK(
    attrs["org.fogbowcloud.order.extra-ports"]
    == R"({"web":"tunnel.example.org:20002","db":"tunnel.example.org:20003"})");
  auto states = [](instance_state s) {
    auto x = full_instance();
    x.state = s;
    return encode_instances({x}).children.at(0).child("state")->text;
  };
  CHECK(states(instance_state::spawning) == "PENDING");
  CHECK(states(instance_state::failed) == "FAILED");
  CHECK(states(instance_state::lost) == "FAILED");
  CHECK(states(instance_state::unknown) == "null");
  auto x = full_instance();
  x.size.memory_mb = 2048;
  auto two = encode_instances({x}).children.at(0);
  for (auto& c : two.children)
    if (c.name == "attribute" && *c.attr("val") == "occi.compute.memory")
      CHECK(c.text == "2.0");
}

TEST_CASE("manager protocol: a Java manager's getinstance reply decodes") {
  // As GetInstanceHandler writes it, for an OpenStack server behind a tunnel.
  auto text = q(
    ns_getinstance,
    "<instance><state>RUNNING</state><id>vm-1</id>"
    "<link><link>network</link><attribute val='k'>v</attribute></link>"
    "<resource><category><term>compute</term>"
    "<scheme>http://schemas.ogf.org/occi/infrastructure#</scheme><class>kind</"
    "class>"
    "<attribute>occi.compute.cores</attribute><action>start</action></category>"
    "<location>http://localhost:8182/compute/</location><title>Compute "
    "Resource</title>"
    "<rel>http://schemas.ogf.org/occi/core#resource</rel></resource>"
    "<attribute val='occi.compute.state'>active</attribute>"
    "<attribute val='occi.compute.speed'>Not defined</attribute>"
    "<attribute val='occi.compute.architecture'>Not defined</attribute>"
    "<attribute val='occi.compute.memory'>2.0</attribute>"
    "<attribute val='occi.compute.cores'>1</attribute>"
    "<attribute val='occi.compute.hostname'>fogbow-instance-1</attribute>"
    "<attribute val='occi.core.id'>vm-1</attribute>"
    "<attribute "
    "val='org.fogbowcloud.order.local-ip-address'>10.0.0.5</attribute>"
    "<attribute "
    "val='org.fogbowcloud.order.ssh-public-address'>t.example.org:20001</"
    "attribute>"
    "<attribute val='org.fogbowcloud.order.ssh-username'>fogbow</attribute>"
    "<attribute "
    "val='org.fogbowcloud.order.extra-ports'>{\"http\":\"t.example.org:20002\"}"
    "</attribute>"
    "</instance>");
  auto xs = decode_instances(xml::parse(text));
  REQUIRE(xs.size() == 1);
  auto& x = xs[0];
  CHECK(x.id == "vm-1");
  CHECK(x.kind == resource_kind::compute);
  CHECK(x.state == instance_state::running);
  CHECK(x.size.vcpu == 1);
  CHECK(x.size.memory_mb == 2048);
  CHECK(x.ip == "10.0.0.5");
  CHECK(x.ssh_public_address == "t.example.org:20001");
  CHECK(x.extra_ports
        == std::vector<std::pair<std::string, std::string>>{
          {"http", "t.example.org:20002"}});

  auto storage = decode_instances(xml::parse(
    q(ns_getinstance,
      "<instance><state>null</state><id>vol-1</id>"
      "<attribute val='occi.storage.size'>5</attribute></instance>")));
  REQUIRE(storage.size() == 1);
  CHECK(storage[0].kind == resource_kind::volume);
  CHECK(storage[0].state == instance_state::unknown);
  CHECK(storage[0].size_gb == 5);
  auto pending = decode_instances(xml::parse(
    q(ns_getinstance,
      "<instance><state>PENDING</state><id>n-1</id>"
      "<attribute val='occi.network.address'>10.0.0.0/24</attribute>"
      "<attribute val='occi.compute.memory'>0.5</attribute></instance>")));
  CHECK(pending.at(0).kind == resource_kind::network);
  CHECK(pending.at(0).state == instance_state::spawning);
  CHECK(pending.at(0).size.memory_mb == 512);
}

TEST_CASE("manager protocol: malformed instances are bad requests") {
  auto inst = [](const std::string& body) {
    return q(ns_getinstance, "<instance><id>vm-1</id>" + body + "</instance>");
  };
  auto attr = [](const std::string& name, const std::string& value) {
    return "<attribute val='" + name + "'>" + value + "</attribute>";
  };
  std::vector<std::string> cases{
    q(ns_getinstance, "<instance><state>RUNNING</state></instance>"),
    q(ns_getinstance,
      "<instance><id>a</id></instance><instance><id>a</id></instance>"),
    inst("<state>ACTIVE</state>"),
    inst("<state>RUNNING</state><state>FAILED</state>"),
    inst(attr("org.fogbowcloud.instance.state", "sleeping")),
    inst(attr("org.fogbowcloud.order.resource-kind", "vm")),
    inst(attr("occi.compute.cores", "two")),
    inst(attr("occi.compute.cores", "-2")),
    inst(attr("occi.compute.cores", "1.0")),
    inst(attr("occi.compute.memory", "-1.0")),
    inst(attr("occi.compute.memory", "1e3")),
    inst(attr("occi.compute.memory", "99999999999")),
    inst(attr("org.fogbowcloud.instance.memory-mb", "2147483648")),
    inst(attr("occi.storage.size", "-5")),
    inst(attr("org.fogbowcloud.instance.created-at", "-1")),
    inst(attr("org.fogbowcloud.instance.fault", std::string(4097, 'f'))),
    inst(attr("occi.core.source", "a b")),
    inst(attr("org.fogbowcloud.order.extra-ports", "[1,2]")),
    inst(attr("org.fogbowcloud.order.extra-ports", "{\"a\":1}")),
    inst(attr("org.fogbowcloud.order.extra-ports",
              "{\"a\":\"h:1\",\"a\":\"h:2\"}")),
    inst(attr("org.fogbowcloud.order.extra-ports", "{\"a\":")),
    inst(attr("org.fogbowcloud.order.extra-ports", "{\"\":\"h:1\"}")),
    inst(attr("occi.compute.cores", "1") + attr("occi.compute.cores", "2")),
    inst("<attribute>x</attribute>"),
  };
  std::string many;
  for (int i = 0; i < 501; ++i)
    many += "<instance><id>vm-" + std::to_string(i) + "</id></instance>";
  cases.push_back(q(ns_getinstance, many));
  for (auto& text : cases) {
    CAPTURE(text.substr(0, 300));
    CHECK(outcome([&] { decode_instances(xml::parse(text)); })
          == "bad-request");
  }
}

// --- the small messages
// ---------------------------------------------------------------

TEST_CASE("manager protocol: removeinstance, removeorder, instancebeingused") {
  CHECK(decode_removeinstance(wire(encode_removeinstance("vm-1"))) == "vm-1");
  CHECK(decode_removeorder(wire(encode_removeorder("o-1"))) == "o-1");
  // Java's removeorder, with the token its handler insists on
  CHECK(decode_removeorder(xml::parse(q(
          ns_removeorder,
          "<order><id>o-1</id></order><token><accessId>t</accessId></token>")))
        == "o-1");
  CHECK(encode_removeorder("o-1").child("token")->child("accessId"));
  usage_probe with{"o-1", "vm-1@site-b@xmpp.example.org"};
  usage_probe without{"o-2", ""};
  CHECK(decode_instancebeingused(wire(encode_instancebeingused(with))) == with);
  CHECK(decode_instancebeingused(wire(encode_instancebeingused(without)))
        == without);
  CHECK_FALSE(encode_instancebeingused(without).child("instance"));
  CHECK(decode_instancebeingused(xml::parse(
          q(ns_instancebeingused,
            "<order><id>o-1</id></order><instance><id>vm-1@manager.site-a.org</"
            "id></instance>")))
        == usage_probe{"o-1", "vm-1@manager.site-a.org"});

  for (auto& [text, decoder] : std::vector<
         std::pair<std::string, std::function<void(const xml::element&)>>>{
         {q(ns_removeinstance, ""), [](auto& e) { decode_removeinstance(e); }},
         {q(ns_removeinstance, "<instance><id/></instance>"),
          [](auto& e) { decode_removeinstance(e); }},
         {q(ns_removeorder, "<instance><id>vm</id></instance>"),
          [](auto& e) { decode_removeinstance(e); }},
         {q(ns_removeorder, "<order><id>o 1</id></order>"),
          [](auto& e) { decode_removeorder(e); }},
         {q(ns_removeorder, "<order/>"),
          [](auto& e) { decode_removeorder(e); }},
         {q(ns_instancebeingused, "<instance><id>x</id></instance>"),
          [](auto& e) { decode_instancebeingused(e); }},
         {q(ns_instancebeingused, "<order><id>o</id></order><instance/>"),
          [](auto& e) { decode_instancebeingused(e); }},
         {q(ns_instancebeingused, "<order><id>o</id></order><instance><id>"
                                    + std::string(1025, 'g')
                                    + "</id></instance>"),
          [](auto& e) { decode_instancebeingused(e); }},
       }) {
    CAPTURE(text.substr(0, 200));
    CHECK(outcome([&] { decoder(xml::parse(text)); }) == "bad-request");
  }
}

TEST_CASE("manager protocol: getremoteuserquota") {
  remote_user alice{"alice", "Alice"};
  CHECK(decode_quota_request(wire(encode_quota_request(alice))) == alice);
  CHECK(
    decode_quota_request(xml::parse(
      q(ns_getremoteuserquota, "<token><accessId>t</accessId><user><id>fogbow</"
                               "id><name>F</name></user></token>")))
    == remote_user{"fogbow", "F"});

  quota_report r;
  r.member_id = "site-b@xmpp.example.org";
  r.cloud = {16, 4, 32768, 8192, 10, 3};
  r.user_vcpu = 2;
  r.user_memory_mb = 4096;
  r.user_instances = 1;
  auto e = encode_quota(r);
  auto info = e.child("resourcesInfo");
  REQUIRE(info);
  CHECK(info->child("cpuIdle")->text == "12");
  CHECK(info->child("memIdle")->text == "24576");
  CHECK(info->child("instancesInUseByUser")->text == "1");
  auto back = decode_quota(wire(e));
  CHECK(back.member_id == r.member_id);
  CHECK(back.cloud == r.cloud);
  CHECK(back.user_vcpu == 2);
  CHECK(back.user_memory_mb == 4096);
  CHECK(back.user_instances == 1);

  // over quota: idle is 0, never negative
  r.cloud = {4, 6, 0, 0, 0, 0};
  CHECK(encode_quota(r).child("resourcesInfo")->child("cpuIdle")->text == "0");

  // Java's numbers may be doubles
  auto java = decode_quota(xml::parse(
    q(ns_getremoteuserquota,
      "<resourcesInfo><id>manager.site-b.org</id><cpuIdle>6</"
      "cpuIdle><cpuInUse>2</cpuInUse>"
      "<cpuInUseByUser>1</cpuInUseByUser><instancesIdle>8</instancesIdle>"
      "<instancesInUse>2</instancesInUse><instancesInUseByUser>1</"
      "instancesInUseByUser>"
      "<memIdle>6144</memIdle><memInUse>2048</memInUse><memInUseByUser>2048.0</"
      "memInUseByUser>"
      "</resourcesInfo>")));
  CHECK(java.member_id == "manager.site-b.org");
  CHECK(java.cloud == cloud_resources{8, 2, 8192, 2048, 10, 2});
  CHECK(java.user_memory_mb == 2048);

  auto bad_info = [](const std::string& cpu_idle) {
    return q(
      ns_getremoteuserquota,
      "<resourcesInfo><id>m</id><cpuIdle>" + cpu_idle
        + "</cpuIdle><cpuInUse>2</cpuInUse>"
          "<cpuInUseByUser>1</cpuInUseByUser><instancesIdle>8</instancesIdle>"
          "<instancesInUse>2</instancesInUse><instancesInUseByUser>1</"
          "instancesInUseByUser>"
          "<memIdle>6</memIdle><memInUse>2</memInUse><memInUseByUser>2</"
          "memInUseByUser>"
          "</resourcesInfo>");
  };
  CHECK(outcome([&] { decode_quota(xml::parse(bad_info("6"))); }) == "ok");
  for (auto v : {"", "-1", "x", "1e9", "2147483647", "99999999999999999999",
                 "1.", ".5"}) {
    CAPTURE(v);
    CHECK(outcome([&] { decode_quota(xml::parse(bad_info(v))); })
          == "bad-request");
  }
  CHECK(
    outcome([] {
      decode_quota(xml::parse(
        q(ns_getremoteuserquota, "<resourcesInfo><id>m</id></resourcesInfo>")));
    })
    == "bad-request");
  CHECK(outcome([] {
          decode_quota_request(
            xml::parse(q(ns_getremoteuserquota, "<token/>")));
        })
        == "bad-request");
}

TEST_CASE("manager protocol: storagelink and removestoragelink") {
  link_request r{"att-1", {"alice", "Alice"}, "vm-1", "vol-1", "/dev/vdb"};
  CHECK(decode_storagelink(wire(encode_storagelink(r))) == r);
  r.device.clear();
  CHECK(decode_storagelink(wire(encode_storagelink(r))) == r);
  // Java's shape: no <order>
  auto java = decode_storagelink(
    xml::parse(q(ns_storagelink,
                 "<storageLink><target>vol-9</target><source>vm-9</"
                 "source><deviceId>/dev/vdc</deviceId>"
                 "</storageLink><token><accessId>t</accessId><user><id>fogbow</"
                 "id><name>F</name></user></token>")));
  CHECK(java == link_request{"", {"fogbow", "F"}, "vm-9", "vol-9", "/dev/vdc"});
  CHECK(decode_link_result(wire(encode_link_result("vm-1:vol-1")))
        == "vm-1:vol-1");

  auto remove = encode_removestoragelink("vm-1:vol-1");
  CHECK(decode_removestoragelink(wire(remove)) == "vm-1:vol-1");
  CHECK(remove.child("storageLink")->child("source")->text == "vm-1");
  CHECK(remove.child("storageLink")->child("target")->text == "vol-1");
  CHECK(remove.child("token")); // Java's handler needs one
  CHECK(decode_removestoragelink(xml::parse(
          q(ns_removestoragelink, "<storageLink><id>att-7</id><target>v</"
                                  "target><source>s</source></storageLink>"
                                  "<token><accessId>t</accessId><user><id>u</"
                                  "id><name>n</name></user></token>")))
        == "att-7");

  for (auto text : {
         q(ns_storagelink,
           "<storageLink><target>v</target></storageLink>" + user_token),
         q(ns_storagelink,
           "<storageLink><source>s</source></storageLink>" + user_token),
         q(ns_storagelink,
           "<storageLink><source>s</source><target>v</target></storageLink>"),
         q(ns_storagelink, "<storageLink><source>s</source><target>v</target>"
                           "<deviceId>/dev/ vdb</deviceId></storageLink>"
                             + user_token),
         q(ns_storagelink,
           "<storageLink><source>s</source><target>v</target></storageLink>"
           "<order><id>a:b</id></order>"
             + user_token),
         q(ns_storagelink,
           "<storageLink><source>s</source><target>v</target></storageLink>"
           "<storageLink><source>s</source><target>v</target></storageLink>"
             + user_token),
         q(ns_removestoragelink,
           "<storageLink><source>s</source></storageLink>"),
       }) {
    CAPTURE(text);
    CHECK(outcome([&] {
            auto e = xml::parse(text);
            if (e.ns == ns_storagelink)
              decode_storagelink(e);
            else
              decode_removestoragelink(e);
          })
          == "bad-request");
  }
  CHECK(outcome([] {
          decode_link_result(xml::parse(q(ns_storagelink, "<attachment/>")));
        })
        == "bad-request");
}

// --- hostile input
// ----------------------------------------------------------------------

namespace {

/// Every element of `root` by path (indices into children).
void paths(const xml::element& e, std::vector<std::size_t>& here,
           std::vector<std::vector<std::size_t>>& out) {
  for (std::size_t i = 0; i < e.children.size(); ++i) {
    here.push_back(i);
    out.push_back(here);
    paths(e.children[i], here, out);
    here.pop_back();
  }
}

xml::element& at(xml::element& root, const std::vector<std::size_t>& path,
                 std::size_t depth) {
  xml::element* e = &root;
  for (std::size_t i = 0; i < depth; ++i)
    e = &e->children[path[i]];
  return *e;
}

/// Drops each element, empties each text, fills each text with junk, and
/// cuts the serialized text at every length: each decode either works or
/// says bad-request.
void mutate_all(const xml::element& good,
                const std::function<void(const xml::element&)>& decode) {
  std::vector<std::vector<std::size_t>> all;
  std::vector<std::size_t> here;
  paths(good, here, all);
  for (auto& path : all) {
    for (int how = 0; how < 4; ++how) {
      auto copy = good;
      auto& parent = at(copy, path, path.size() - 1);
      auto& target = parent.children[path.back()];
      if (how == 0)
        parent.children.erase(parent.children.begin()
                              + static_cast<std::ptrdiff_t>(path.back()));
      else if (how == 1)
        target.text.clear();
      else if (how == 2)
        target.text = "-1\x01 <&>" + std::string(70000, 'z');
      else
        parent.children.push_back(target); // a duplicate
      auto result = outcome([&] { decode(copy); });
      CAPTURE(xml::to_string(copy).substr(0, 400));
      CHECK((result == "ok" || result == "bad-request"));
    }
  }
  auto text = xml::to_string(good);
  for (std::size_t n = 0; n < text.size(); ++n) {
    xml::element cut;
    try {
      cut = xml::parse(text.substr(0, n));
    } catch (const xml::parse_error&) {
      continue; // the bridge answers bad-request for unparsable payloads
    }
    auto result = outcome([&] { decode(cut); });
    CHECK((result == "ok" || result == "bad-request"));
  }
}

} // namespace

TEST_CASE("manager protocol: mutated and truncated payloads never crash") {
  auto volume = compute_order();
  volume.kind = resource_kind::volume;
  volume.size_gb = 10;
  mutate_all(encode_order(compute_order()), [](auto& e) { decode_order(e); });
  mutate_all(encode_order(volume), [](auto& e) { decode_order(e); });
  mutate_all(encode_order_result("vm-1"),
             [](auto& e) { decode_order_result(e); });
  mutate_all(encode_getinstance({"a", "b"}),
             [](auto& e) { decode_getinstance(e); });
  mutate_all(encode_instances({full_instance()}),
             [](auto& e) { decode_instances(e); });
  mutate_all(encode_removeinstance("a"),
             [](auto& e) { decode_removeinstance(e); });
  mutate_all(encode_removeorder("a"), [](auto& e) { decode_removeorder(e); });
  mutate_all(encode_instancebeingused({"o", "g@m"}),
             [](auto& e) { decode_instancebeingused(e); });
  mutate_all(encode_quota_request({"u", "n"}),
             [](auto& e) { decode_quota_request(e); });
  quota_report r;
  r.member_id = "m";
  mutate_all(encode_quota(r), [](auto& e) { decode_quota(e); });
  mutate_all(encode_storagelink({"o", {"u", "n"}, "s", "v", "d"}),
             [](auto& e) { decode_storagelink(e); });
  mutate_all(encode_link_result("a"), [](auto& e) { decode_link_result(e); });
  mutate_all(encode_removestoragelink("s:v"),
             [](auto& e) { decode_removestoragelink(e); });
}

TEST_CASE("manager protocol: each decoder refuses the others' payloads") {
  std::vector<xml::element> payloads{
    encode_order(compute_order()),
    encode_getinstance({"a"}),
    encode_removeinstance("a"),
    encode_removeorder("a"),
    encode_instancebeingused({"o", ""}),
    encode_quota_request({"u", ""}),
    encode_storagelink({"o", {"u", ""}, "s", "v", ""}),
    encode_removestoragelink("a")};
  std::vector<std::function<void(const xml::element&)>> decoders{
    [](auto& e) { decode_order(e); },
    [](auto& e) { decode_getinstance(e); },
    [](auto& e) { decode_removeinstance(e); },
    [](auto& e) { decode_removeorder(e); },
    [](auto& e) { decode_instancebeingused(e); },
    [](auto& e) { decode_quota_request(e); },
    [](auto& e) { decode_storagelink(e); },
    [](auto& e) { decode_removestoragelink(e); }};
  for (std::size_t p = 0; p < payloads.size(); ++p)
    for (std::size_t d = 0; d < decoders.size(); ++d) {
      CAPTURE(p);
      CAPTURE(d);
      CHECK(outcome([&] { decoders[d](payloads[p]); })
            == (p == d ? "ok" : "bad-request"));
    }
}
