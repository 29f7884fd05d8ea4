// The plain-C++ XML parser, the rendezvous payload codecs and the member
// directory, including malformed and hostile input.

#include "federation/rendezvous_protocol.hpp"
#include "federation/xml.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fogbow;
using namespace fogbow::rdv;

namespace {

std::string condition_of(auto&& f) {
  try {
    f();
  } catch (const protocol_error& e) {
    return e.condition();
  }
  return "no error";
}

const std::string wia = std::string{ns_whoisalive};

} // namespace

TEST_CASE("xml: parses namespaces, attributes, entities and CDATA") {
  auto e = xml::parse(
    "<?xml version='1.0'?><!-- c --><q:query xmlns:q='urn:x' xmlns='urn:d'>"
    "<item id=\"a&amp;b\">t&lt;&#65;&#x42;<![CDATA[<raw>]]></item>"
    "<set xmlns='urn:rsm'><max> 7 </max></set></q:query>");
  CHECK(e.name == "query");
  CHECK(e.ns == "urn:x");
  REQUIRE(e.children.size() == 2);
  CHECK(e.children[0].ns == "urn:d");
  CHECK(*e.children[0].attr("id") == "a&b");
  CHECK(e.children[0].text == "t<AB<raw>");
  CHECK(e.child("set")->ns == "urn:rsm");
  CHECK(e.child("set")->child("max")->text == " 7 ");
}

TEST_CASE("xml: round trip through to_string") {
  xml::element q{"query", wia};
  q.add(xml::element{"item", wia}).set_attr("id", "x\"<y>&'z");
  q.add_text("count", "3", std::string{ns_rsm});
  auto text = xml::to_string(q);
  CHECK(xml::parse(text) == q);
}

TEST_CASE("xml: hostile and malformed documents are parse errors") {
  for (auto doc : {
         "",
         "<a>",
         "<a></b>",
         "<a x='1' x='2'/>",
         "<a x=1/>",
         "<p:a/>",
         "<a>&unknown;</a>",
         "<a>&#0;</a>",
         "<a>&#x110000;</a>",
         "<a>&#xD800;</a>",
         "<!DOCTYPE a [<!ENTITY x 'xx'>]><a>&x;</a>",
         "<a><!ENTITY x 'y'></a>",
         "<a/><b/>",
         "<a><b></a></b>",
         "<a x='<'/>",
         "<a xmlns:p=''/>",
         "<a xmlns:p='urn:p' p:xmlns='urn:q'/>", // found by fuzz_xml
         "<a><!-- unterminated </a>",
       }) {
    CAPTURE(doc);
    CHECK_THROWS_AS(xml::parse(doc), xml::parse_error);
  }
  std::string deep;
  for (int i = 0; i < 100; ++i)
    deep += "<a>";
  for (int i = 0; i < 100; ++i)
    deep += "</a>";
  CHECK_THROWS_AS(xml::parse(deep), xml::parse_error);
  std::string many = "<a>";
  for (int i = 0; i < 200; ++i)
    many += "<b/>";
  many += "</a>";
  CHECK_THROWS_AS(xml::parse(many, {1 << 20, 32, 100}), xml::parse_error);
  CHECK_THROWS_AS(xml::parse(std::string(2000, ' ') + "<a/>", {1000, 32, 10}),
                  xml::parse_error);
}

TEST_CASE("iamalive: Java request and reply") {
  // The Java manager sends an empty query; old ones sent <status/>.
  CHECK_FALSE(decode_iamalive(
    xml::parse("<query xmlns='http://fogbowcloud.org/rendezvous/iamalive'/>")));
  CHECK(decode_iamalive(xml::parse(
          "<query xmlns='http://fogbowcloud.org/rendezvous/iamalive'>"
          "<status/><cert>PEM</cert></query>"))
        == "PEM");
  auto reply = encode_iamalive_reply(3000);
  CHECK(xml::to_string(reply)
        == "<query xmlns=\"http://fogbowcloud.org/rendezvous/iamalive\">"
           "<iamalive-period>3000</iamalive-period></query>");
  CHECK(decode_iamalive_reply(reply) == 3000);
  CHECK_FALSE(decode_iamalive_reply(encode_iamalive()));
}

TEST_CASE("iamalive: wrong namespace, wrong element, bad period") {
  CHECK(condition_of(
          [] { decode_iamalive(xml::parse("<query xmlns='urn:evil'/>")); })
        == "bad-request");
  CHECK(condition_of([] {
          decode_iamalive(xml::parse(
            "<ping xmlns='http://fogbowcloud.org/rendezvous/iamalive'/>"));
        })
        == "bad-request");
  CHECK(condition_of([] {
          decode_iamalive_reply(xml::parse(
            "<query xmlns='http://fogbowcloud.org/rendezvous/iamalive'>"
            "<iamalive-period>-5</iamalive-period></query>"));
        })
        == "bad-request");
  CHECK(condition_of([] {
          decode_iamalive_reply(xml::parse(
            "<query xmlns='http://fogbowcloud.org/rendezvous/iamalive'>"
            "<iamalive-period>99999999999999999999</iamalive-period></query>"));
        })
        == "bad-request");
  std::string huge_cert(max_cert_bytes + 1, 'x');
  CHECK(condition_of([&] {
          decode_iamalive(xml::parse(
            "<query xmlns='http://fogbowcloud.org/rendezvous/iamalive'><cert>"
            + huge_cert + "</cert></query>"));
        })
        == "bad-request");
}

TEST_CASE("whoisalive: RSM matched by local name, in any namespace") {
  // Exactly what the Java manager sends: <set> inherits the query's ns.
  auto java =
    xml::parse("<query xmlns='http://fogbowcloud.org/rendezvous/whoisalive'>"
               "<set><max>100</max></set></query>");
  CHECK(decode_whoisalive(java) == page_request{100, {}});
  auto rsm =
    xml::parse("<query xmlns='http://fogbowcloud.org/rendezvous/whoisalive'>"
               "<set xmlns='http://jabber.org/protocol/rsm'><max>5</max>"
               "<after>m1@x</after></set></query>");
  CHECK(decode_whoisalive(rsm) == page_request{5, "m1@x"});
  // <set> without <max> (a NullPointerException in Java): default cap.
  CHECK(decode_whoisalive(xml::parse(
          "<query xmlns='http://fogbowcloud.org/rendezvous/whoisalive'>"
          "<set/></query>"))
        == page_request{});
  CHECK(decode_whoisalive(encode_whoisalive({7, "a@b"}))
        == page_request{7, "a@b"});
}

TEST_CASE("whoisalive: hostile requests") {
  for (auto body :
       {"<set><max>ten</max></set>", "<set><max></max></set>",
        "<set><max>-1</max></set>", "<set><max>1e9</max></set>",
        "<set><max>999999999999999999999</max></set>",
        "<set><after></after></set>", "<set><after>a b</after></set>"}) {
    CAPTURE(body);
    CHECK(condition_of([&] {
            decode_whoisalive(xml::parse(
              std::string{"<query xmlns='http://fogbowcloud.org/rendezvous/"
                          "whoisalive'>"}
              + body + "</query>"));
          })
          == "bad-request");
  }
  // A huge max is fine: the directory caps it.
  CHECK(
    decode_whoisalive(
      xml::parse("<query xmlns='http://fogbowcloud.org/rendezvous/whoisalive'>"
                 "<set><max>999999999999999999</max></set></query>"))
      .max
    == 999999999999999999);
}

TEST_CASE("whoisalive reply: encode, decode, hostile replies") {
  page p;
  p.items = {{"a@x", std::nullopt, 0, 0}, {"b@x", "CERT", 0, 0}};
  p.first = "a@x";
  p.last = "b@x";
  p.count = 5;
  auto e = encode_whoisalive_reply(p);
  CHECK(xml::to_string(e)
        == "<query xmlns=\"http://fogbowcloud.org/rendezvous/whoisalive\">"
           "<item id=\"a@x\"/><item id=\"b@x\"><cert>CERT</cert></item>"
           "<set xmlns=\"http://jabber.org/protocol/rsm\"><first>a@x</first>"
           "<last>b@x</last><count>5</count></set></query>");
  CHECK(decode_whoisalive_reply(e) == p);
  CHECK(condition_of([] {
          decode_whoisalive_reply(xml::parse(
            "<query xmlns='http://fogbowcloud.org/rendezvous/whoisalive'>"
            "<item/></query>"));
        })
        == "bad-request");
  std::string many =
    "<query xmlns='http://fogbowcloud.org/rendezvous/whoisalive'>";
  for (size_t i = 0; i <= max_page_items; ++i)
    many += "<item id='m" + std::to_string(i) + "'/>";
  many += "</query>";
  CHECK(condition_of([&] { decode_whoisalive_reply(xml::parse(many)); })
        == "bad-request");
  CHECK(condition_of([] {
          decode_whoisalive_reply(xml::parse(
            "<query xmlns='http://fogbowcloud.org/rendezvous/whoisalive'>"
            "<set><count>lots</count></set></query>"));
        })
        == "bad-request");
}

TEST_CASE("sync: request and reply with relative ages") {
  CHECK(
    decode_sync(xml::parse(
      "<query xmlns='http://fogbowcloud.org/rendezvous/synch/whoisalive'/>"))
    == page_request{});
  CHECK(decode_sync(encode_sync({50, "z@x"})) == page_request{50, "z@x"});
  page p;
  p.items = {{"a@x", std::nullopt, 9000, 1200}};
  p.first = p.last = "a@x";
  p.count = 1;
  auto e = encode_sync_reply(p);
  CHECK(
    xml::to_string(e)
    == "<query xmlns=\"http://fogbowcloud.org/rendezvous/synch/whoisalive\">"
       "<managers><manager id=\"a@x\"><status><timeout>9000</timeout>"
       "<quiet-for>1200</quiet-for></status></manager>"
       "<set xmlns=\"http://jabber.org/protocol/rsm\"><first>a@x</first>"
       "<last>a@x</last><count>1</count></set></managers></query>");
  CHECK(decode_sync_reply(e) == p);
  for (auto body : {"", "<managers><manager id='a@x'/></managers>",
                    "<managers><manager id='a@x'><status><timeout>1</timeout>"
                    "</status></manager></managers>",
                    "<managers><manager><status><timeout>1</timeout>"
                    "<quiet-for>1</quiet-for></status></manager></managers>",
                    "<managers><manager id='a@x'><status><timeout>x</timeout>"
                    "<quiet-for>1</quiet-for></status></manager></managers>"}) {
    CAPTURE(body);
    CHECK(condition_of([&] {
            decode_sync_reply(xml::parse(
              std::string{"<query xmlns='http://fogbowcloud.org/rendezvous/"
                          "synch/whoisalive'>"}
              + body + "</query>"));
          })
          == "bad-request");
  }
}

TEST_CASE("directory: heartbeat, expiry after the timeout, not before") {
  member_directory d;
  d.heartbeat("a@x", std::nullopt, 1000, 9000);
  d.heartbeat("b@x", "c", 2000, 9000);
  CHECK(d.expire(10000) == 0); // a: 1000 + 9000 is not < 10000
  CHECK(d.expire(10001) == 1);
  CHECK(d.size() == 1);
  d.heartbeat("b@x", std::nullopt, 10500, 9000); // keeps heartbeating
  CHECK(d.expire(19000) == 0);
  CHECK(d.size() == 1);
}

TEST_CASE("directory: expiry skips scans yet misses no deadline") {
  member_directory d;
  d.heartbeat("a@x", std::nullopt, 0, 1000);
  d.heartbeat("b@x", std::nullopt, 0, 1000);
  CHECK(d.expire(500) == 0);
  d.heartbeat("a@x", std::nullopt, 600, 1000); // a's deadline moves to 1600
  CHECK(d.expire(1001) == 1);                  // b, not a
  CHECK(d.members().count("a@x") == 1);
  // A relayed entry with an earlier deadline than any local one.
  CHECK(d.merge({"c@x", std::nullopt, 1100, 1000}, 1200)); // deadline 1300
  CHECK(d.expire(1300) == 0);
  CHECK(d.expire(1301) == 1);
  CHECK(d.members().count("c@x") == 0);
  // A shorter timeout on refresh also counts.
  d.heartbeat("a@x", std::nullopt, 1400, 10);
  CHECK(d.expire(1411) == 1);
  CHECK(d.size() == 0);
  CHECK(d.expire(100000) == 0);
}

TEST_CASE("directory: RSM paging in id order, caps, item-not-found") {
  member_directory d;
  for (int i = 0; i < 250; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "m%03d@x", i);
    d.heartbeat(id, std::nullopt, 0, 1000);
  }
  auto p1 = d.page_at({}, 100, 0);
  CHECK(p1.items.size() == 100);
  CHECK(p1.first == "m000@x");
  CHECK(p1.last == "m099@x");
  CHECK(p1.count == 250);
  auto p2 = d.page_at({500, p1.last}, 100, 0); // capped
  CHECK(p2.items.size() == 100);
  CHECK(p2.first == "m100@x");
  auto p3 = d.page_at({100, p2.last}, 100, 0);
  CHECK(p3.items.size() == 50);
  CHECK(p3.last == "m249@x");
  auto p4 = d.page_at({100, p3.last}, 100, 0);
  CHECK(p4.items.empty());
  CHECK_FALSE(p4.first);
  CHECK(d.page_at({0, {}}, 100, 0).items.empty());
  CHECK(condition_of([&] {
          d.page_at({10, "nobody@x"}, 100, 0);
        })
        == "item-not-found");
  member_directory empty;
  CHECK(empty.page_at({}, 100, 0).count == 0);
  CHECK(condition_of([&] {
          empty.page_at({10, "a@x"}, 100, 0);
        })
        == "item-not-found");
}

TEST_CASE("directory: merge keeps the most recent heartbeat") {
  member_directory d;
  d.heartbeat("a@x", std::nullopt, 10000, 9000);
  // The neighbour heard from a@x 5 s ago: older than ours, ignored.
  CHECK_FALSE(d.merge({"a@x", "old", 9000, 5000}, 12000));
  CHECK(d.members().at("a@x").last_ms == 10000);
  // 1 s ago: newer, replaces cert and timeout.
  CHECK(d.merge({"a@x", "new", 6000, 1000}, 12000));
  CHECK(d.members().at("a@x").last_ms == 11000);
  CHECK(d.members().at("a@x").cert == "new");
  // Relayed entries keep their age: expire at last + their timeout.
  CHECK(d.merge({"b@x", std::nullopt, 9000, 8000}, 12000)); // last = 4000
  CHECK(d.expire(13000) == 0);
  CHECK(d.expire(13001) == 1);
  auto p = d.page_at({}, 10, 13001);
  REQUIRE(p.items.size() == 1);
  CHECK(p.items[0].quiet_for_ms == 2001);
  CHECK(p.items[0].timeout_ms == 6000);
}
