#include "http/rest_api.hpp"

#include "actors/errors.hpp"
#include "auth/authorization.hpp"
#include "auth/identity.hpp"
#include "util/encoding.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <mutex>
#include <random>

using namespace fogbow;
using namespace std::literals;
using json = nlohmann::json;

namespace {

// What the fake scheduler holds; the test reads it to see what reached it.
struct fake_db {
  std::mutex mtx;
  std::map<std::string, order> orders; // by id
  std::vector<instance> instances;     // ids are global
  int create_calls = 0;
  page_query last_query; // of the last list request
};

caf::error not_found(const std::string& what) {
  return make_error(errc::not_found, "no " + what);
}

// An in-memory order_scheduler that keeps the interface's promises the
// REST layer relies on: per-user visibility and typed errors.
order_scheduler_actor::behavior_type
fake_scheduler(order_scheduler_actor::pointer, std::shared_ptr<fake_db> db) {
  auto owned_order = [db](const std::string& user,
                          const std::string& id) -> order* {
    auto it = db->orders.find(id);
    return it == db->orders.end() || it->second.user_id != user ? nullptr
                                                                : &it->second;
  };
  auto owned_instance =
    [db](const std::string& user,
         const std::string& id) -> std::vector<instance>::iterator {
    return std::find_if(
      db->instances.begin(), db->instances.end(), [&](const instance& x) {
        auto o = db->orders.find(x.order_id);
        return x.id == id && o != db->orders.end() && o->second.user_id == user;
      });
  };
  return {
    [](atom::instance_changed, const instance&) {},
    [](atom::capacity_freed) {},
    [db](atom::create, order proto,
         std::int32_t count) -> caf::result<std::vector<order>> {
      std::lock_guard guard{db->mtx};
      ++db->create_calls;
      if (proto.image == "disk-full")
        return make_error(errc::storage_failure, "database is full");
      if (proto.image == "no-driver")
        return make_error(errc::unsupported, "no driver for this image");
      std::vector<order> out;
      auto batch = make_uuid();
      for (std::int32_t i = 0; i < count; ++i) {
        auto o = proto;
        o.id = make_uuid();
        o.batch_id = batch;
        o.requesting_member = "site-a";
        o.created_at = o.updated_at = now_millis();
        db->orders[o.id] = o;
        out.push_back(std::move(o));
      }
      return out;
    },
    [db](atom::list, const std::string& user,
         const page_query& q) -> caf::result<page<order>> {
      std::lock_guard guard{db->mtx};
      db->last_query = q;
      std::vector<const order*> all;
      for (auto& [id, o] : db->orders)
        if (o.user_id == user)
          all.push_back(&o);
      auto p = take_page(
        all, q,
        [&](const order& o) {
          return (!q.state || o.state == *q.state)
                 && (!q.kind || o.kind == *q.kind);
        },
        [](const order& o) { return o.id; });
      if (!p)
        return make_error(errc::invalid_argument, "no marker " + q.marker);
      return std::move(*p);
    },
    [db, owned_order](atom::get, const std::string& user,
                      const std::string& id) -> caf::result<order> {
      std::lock_guard guard{db->mtx};
      if (auto o = owned_order(user, id))
        return *o;
      return not_found("order " + id);
    },
    [db, owned_order](atom::erase, const std::string& user,
                      const std::string& id) -> caf::result<order> {
      std::lock_guard guard{db->mtx};
      auto o = owned_order(user, id);
      if (!o)
        return not_found("order " + id);
      if (o->state == order_state::deleted)
        return make_error(errc::conflict, "order " + id + " is being deleted");
      o->state = order_state::deleted;
      return *o;
    },
    [db](atom::instances, const std::string& user, resource_kind kind,
         const page_query& q) -> caf::result<page<instance>> {
      std::lock_guard guard{db->mtx};
      db->last_query = q;
      std::vector<const instance*> all;
      for (auto& x : db->instances) {
        auto o = db->orders.find(x.order_id);
        if (o != db->orders.end() && o->second.user_id == user
            && x.kind == kind)
          all.push_back(&x);
      }
      auto p = take_page(
        all, q,
        [&](const instance& x) { return !q.status || x.state == *q.status; },
        [](const instance& x) { return x.id; });
      if (!p)
        return make_error(errc::invalid_argument, "no marker " + q.marker);
      return std::move(*p);
    },
    [db, owned_instance](atom::instance, const std::string& user,
                         const std::string& id) -> caf::result<instance> {
      std::lock_guard guard{db->mtx};
      auto it = owned_instance(user, id);
      if (it == db->instances.end())
        return not_found("instance " + id);
      return *it;
    },
    [db, owned_instance](atom::erase_instance, const std::string& user,
                         const std::string& id) -> caf::result<atom::ok> {
      std::lock_guard guard{db->mtx};
      auto it = owned_instance(user, id);
      if (it == db->instances.end())
        return not_found("instance " + id);
      db->instances.erase(it);
      return atom::ok_v;
    },
    [](atom::quota, const std::string&,
       const std::string& member) -> caf::result<quota_report> {
      if (member != "site-a")
        return not_found("member " + member);
      quota_report q;
      q.member_id = member;
      q.cloud = cloud_resources{8, 2, 8192, 1024, 4, 1};
      q.user_vcpu = 2;
      q.user_memory_mb = 1024;
      q.user_instances = 1;
      return q;
    },
    [](atom::members) {
      return std::vector<member_info>{{"site-a", true, now_millis(), true}};
    },
    [db](atom::status) {
      std::lock_guard guard{db->mtx};
      status_report s;
      s.member_id = "site-a";
      s.orders = {{resource_kind::compute, order_state::open,
                   static_cast<int>(db->orders.size())}};
      s.instances = static_cast<int>(db->instances.size());
      s.started_at = now_millis() - 5000;
      return s;
    },
    [](atom::retry) {},
    [](atom::validity) {},
    // The provider side is not reached through the REST API.
    [](atom::members_changed, const std::vector<member_info>&) {},
    [](atom::serve, const order&, std::int32_t) -> caf::result<instance> {
      return make_error(errc::no_capacity, "not served here");
    },
    [](atom::served_instances, const std::string&,
       const std::vector<std::string>&) { return std::vector<instance>{}; },
    [](atom::unserve, const std::string&, const std::string&) {
      return atom::ok_v;
    },
    [](atom::unserve_instance, const std::string&,
       const std::string&) -> caf::result<atom::ok> {
      return make_error(errc::not_found, "not served here");
    },
    [](atom::served_quota, const std::string&,
       const std::string&) -> caf::result<quota_report> {
      return make_error(errc::not_found, "not served here");
    },
    [](atom::probe, const std::string&, const std::string&,
       const std::string&) { return false; },
    [](atom::monitor) {},
    [](atom::probe_tick) {},
    [](atom::balances, const fed::exchange_table&, const fed::debt_table&) {},
  };
}

// A scheduler that never answers: requests stay skipped in its mailbox.
caf::behavior silent_scheduler(caf::event_based_actor* self) {
  self->set_default_handler(
    [](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      return caf::skip;
    });
  return {[](atom::retry) {}};
}

const std::vector<static_token> tokens{
  {"alice", "Alice", "tok-alice-0123456789"},
  {"bob", "Bob", "tok-bob-0123456789"},
  {"carol", "Carol", "tok-carol-0123456789"},
};

httplib::Headers as(const std::string& token) {
  return {{"X-Auth-Token", token}};
}
const auto alice = as("tok-alice-0123456789");
const auto bob = as("tok-bob-0123456789");
const auto carol = as("tok-carol-0123456789");

struct api_fixture {
  struct config : caf::actor_system_config {
    config() { set("scheduler.max-threads", 2); }
  };
  config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<fake_db> db = std::make_shared<fake_db>();
  order_scheduler_actor scheduler = sys.spawn(fake_scheduler, db);
  std::unique_ptr<rest_api> api;
  int port = 0;

  ~api_fixture() {
    api.reset();
    caf::anon_send_exit(scheduler, caf::exit_reason::user_shutdown);
  }

  void start(rest_api_config c = {},
             std::shared_ptr<const authorization_plugin> authz =
               std::make_shared<allow_all>()) {
    c.roles = {"manager"};
    api = std::make_unique<rest_api>(
      sys, scheduler, std::make_shared<static_tokens_identity>(tokens),
      std::move(authz), std::move(c));
    port = api->start();
    REQUIRE(port > 0);
  }

  httplib::Client client() {
    httplib::Client c{"127.0.0.1", port};
    c.set_read_timeout(10, 0);
    c.set_tcp_nodelay(true);
    return c;
  }

  size_t stored_orders() {
    std::lock_guard guard{db->mtx};
    return db->orders.size();
  }

  int create_calls() {
    std::lock_guard guard{db->mtx};
    return db->create_calls;
  }

  instance& add_instance(const std::string& order_id, const std::string& id,
                         resource_kind kind = resource_kind::compute) {
    std::lock_guard guard{db->mtx};
    instance x;
    x.id = id;
    x.kind = kind;
    x.order_id = order_id;
    x.state = instance_state::running;
    x.size = flavor{"small", 1, 512, 10};
    db->instances.push_back(x);
    return db->instances.back();
  }
};

json body_of(const httplib::Result& r) {
  REQUIRE(r);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  auto j = json::parse(r->body, nullptr, false);
  REQUIRE_MESSAGE(!j.is_discarded(), r->body);
  return j;
}

std::string error_code(const httplib::Result& r) {
  auto j = body_of(r);
  REQUIRE(j.contains("error"));
  CHECK(j["error"]["message"].is_string());
  return j["error"]["code"].get<std::string>();
}

// Sends raw bytes and returns everything the server answers until it closes
// or goes quiet; for requests httplib::Client cannot produce.
std::string raw_exchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  REQUIRE(::send(fd, request.data(), request.size(), 0)
          == static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos
        && out.find("}") != std::string::npos)
      break;
  }
  ::close(fd);
  return out;
}

const std::string compute_body =
  R"({"kind":"compute","vcpu":2,"memory_mb":1024})";

} // namespace

TEST_CASE("static tokens: only the exact token authenticates") {
  static_tokens_identity id{tokens};
  CHECK(id.authenticate("tok-alice-0123456789") == user{"alice", "Alice"});
  CHECK(id.authenticate("tok-carol-0123456789") == user{"carol", "Carol"});
  CHECK_FALSE(id.authenticate(""));
  CHECK_FALSE(id.authenticate("tok-alice-012345678"));   // prefix
  CHECK_FALSE(id.authenticate("tok-alice-01234567890")); // longer
  CHECK_FALSE(id.authenticate("tok-alice-0123456788"));  // last byte
  CHECK_FALSE(id.authenticate("Tok-alice-0123456789"));  // first byte
  CHECK_FALSE(id.authenticate(std::string_view{"tok-alice-0123456789\0", 21}));
  CHECK_THROWS_AS(static_tokens_identity({{"a", "A", ""}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(static_tokens_identity({{"", "A", "t"}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(static_tokens_identity({{"a", "A", "t"}, {"b", "B", "t"}}),
                  std::invalid_argument);
  CHECK_FALSE(static_tokens_identity({}).authenticate("anything"));
}

TEST_CASE("static tokens: a token_sha256 stands for its token") {
  // printf %s tok-dave-0123456789 | sha256sum
  const std::string dave = sha256_hex("tok-dave-0123456789");
  std::string upper = dave;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static_tokens_identity id{{{"alice", "Alice", "tok-alice-0123456789", ""},
                             {"dave", "Dave", "", upper}}};
  CHECK(id.authenticate("tok-dave-0123456789") == user{"dave", "Dave"});
  CHECK(id.authenticate("tok-alice-0123456789") == user{"alice", "Alice"});
  CHECK_FALSE(id.authenticate(dave)); // the digest is not the token
  CHECK_FALSE(id.authenticate("tok-dave-012345678"));
  // Exactly one of the two, a well-formed digest, no token twice.
  CHECK_THROWS_AS(static_tokens_identity({{"d", "D", "tok-d-0123", dave}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(static_tokens_identity({{"d", "D", "", ""}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(static_tokens_identity({{"d", "D", "", dave.substr(1)}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(
    static_tokens_identity({{"d", "D", "", "z" + dave.substr(1)}}),
    std::invalid_argument);
  CHECK_THROWS_AS(static_tokens_identity({{"d", "D", "tok-dave-0123456789", ""},
                                          {"e", "E", "", dave}}),
                  std::invalid_argument);
}

TEST_CASE("authorization plugins") {
  user a{"alice", "Alice"}, c{"carol", "Carol"};
  CHECK(allow_all{}.is_authorized(c, action::order_delete));
  user_whitelist w{{"alice"}};
  CHECK(w.is_authorized(a, action::order_create));
  CHECK_FALSE(w.is_authorized(c, action::order_read));
}

TEST_CASE_FIXTURE(api_fixture, "status needs no token and reports health") {
  start();
  auto r = client().Get("/v1/status");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto j = body_of(r);
  CHECK(j["status"] == "ok");
  CHECK(j["version"].is_string());
  CHECK(j["roles"] == json{"manager"});
  CHECK(j["member_id"] == "site-a");
  CHECK(j["orders_by_state"].is_object());
  CHECK(j["instances"] == 0);
  CHECK(j["uptime_s"].get<int>() >= 5);
}

TEST_CASE_FIXTURE(api_fixture, "a missing or wrong token is 401") {
  start();
  auto c = client();
  auto r = c.Get("/v1/orders");
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(error_code(r) == "unauthorized");
  for (auto token :
       {"", "wrong", "tok-alice-012345678", "tok-alice-01234567890"}) {
    CAPTURE(token);
    r = c.Get("/v1/orders", as(token));
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(error_code(r) == "unauthorized");
  }
  r = c.Post("/v1/orders", compute_body, "application/json");
  REQUIRE(r);
  CHECK(r->status == 401);
  httplib::Headers twice{{"X-Auth-Token", "tok-alice-0123456789"},
                         {"X-Auth-Token", "tok-bob-0123456789"}};
  r = c.Get("/v1/orders", twice);
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(create_calls() == 0);
}

TEST_CASE_FIXTURE(api_fixture, "a user outside the whitelist is 403") {
  start({}, std::make_shared<user_whitelist>(
              std::set<std::string, std::less<>>{"alice", "bob"}));
  auto c = client();
  auto r = c.Get("/v1/orders", carol);
  REQUIRE(r);
  CHECK(r->status == 403);
  CHECK(error_code(r) == "forbidden");
  r = c.Post("/v1/orders", carol, compute_body, "application/json");
  REQUIRE(r);
  CHECK(r->status == 403);
  CHECK(create_calls() == 0);
  r = c.Get("/v1/orders", alice);
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE_FIXTURE(api_fixture, "POST creates count orders for the caller") {
  start();
  auto c = client();
  auto r =
    c.Post("/v1/orders", alice,
           R"({"kind":"compute","count":3,"vcpu":2,"user_data":"echo hi"})",
           "application/json");
  REQUIRE(r);
  CHECK(r->status == 201);
  auto j = body_of(r);
  REQUIRE(j["orders"].size() == 3);
  for (auto& o : j["orders"]) {
    CHECK(o["batch_id"] == j["orders"][0]["batch_id"]);
    CHECK(o["vcpu"] == 2);
    CHECK(o["user_data_bytes"] == 7);
    CHECK_FALSE(o.contains("user_data"));
  }
  CHECK(stored_orders() == 3);
  {
    std::lock_guard guard{db->mtx};
    for (auto& [id, o] : db->orders) {
      CHECK(o.user_id == "alice");
      CHECK(o.user_name == "Alice");
      CHECK(o.user_data == "echo hi");
    }
  }
  r = c.Get("/v1/orders", alice);
  REQUIRE(r);
  CHECK(body_of(r)["orders"].size() == 3);
  r = c.Get("/v1/orders", bob);
  REQUIRE(r);
  CHECK(body_of(r)["orders"].empty());

  r = c.Post("/v1/orders", alice, R"({"kind":"volume","size_gb":5})",
             "application/json; charset=UTF-8");
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(body_of(r)["orders"][0]["size_gb"] == 5);
}

TEST_CASE_FIXTURE(api_fixture,
                  "bad bodies are 400 and never reach the scheduler") {
  rest_api_config cfg;
  cfg.max_count = 10;
  start(cfg);
  auto c = client();
  for (const std::string& body : std::vector<std::string>{
         "", "nope", "[]", "{}", R"({"kind":"compute","count":11})",
         R"({"kind":"compute","vcpu":"2"})",
         R"({"kind":"compute","size_gb":1})",
         R"({"kind":"compute","bogus":true})",
         R"({"kind":"compute","requirements":"Glue2Foo > 1"})",
         R"({"kind":"network","network_cidr":"10.0.0.1/24"})",
         std::string(100000, '[') + std::string(100000, ']')}) {
    CAPTURE(body.substr(0, 80));
    auto r = c.Post("/v1/orders", alice, body, "application/json");
    REQUIRE(r);
    CHECK(r->status == 400);
    auto code = error_code(r);
    CHECK((code == "invalid_argument" || code == "invalid_json"));
  }
  CHECK(create_calls() == 0);
  CHECK(stored_orders() == 0);
}

TEST_CASE_FIXTURE(api_fixture, "another user's order is 404") {
  start();
  auto c = client();
  auto r = c.Post("/v1/orders", alice, compute_body, "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 201);
  auto id = body_of(r)["orders"][0]["id"].get<std::string>();
  r = c.Get("/v1/orders/" + id, alice);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(body_of(r)["id"] == id);
  r = c.Get("/v1/orders/" + id, bob);
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(error_code(r) == "not_found");
  r = c.Delete("/v1/orders/" + id, bob);
  REQUIRE(r);
  CHECK(r->status == 404);
  std::lock_guard guard{db->mtx};
  CHECK(db->orders.at(id).state == order_state::open);
}

TEST_CASE_FIXTURE(api_fixture, "DELETE answers 200 with the order, then 409") {
  start();
  auto c = client();
  auto r = c.Post("/v1/orders", alice, compute_body, "application/json");
  REQUIRE(r);
  auto id = body_of(r)["orders"][0]["id"].get<std::string>();
  r = c.Delete("/v1/orders/" + id, alice);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(body_of(r)["state"] == "deleted");
  r = c.Delete("/v1/orders/" + id, alice);
  REQUIRE(r);
  CHECK(r->status == 409);
  CHECK(error_code(r) == "conflict");
}

TEST_CASE_FIXTURE(api_fixture, "computes: list, get, delete") {
  start();
  auto c = client();
  auto r = c.Post("/v1/orders", alice, compute_body, "application/json");
  REQUIRE(r);
  auto id = body_of(r)["orders"][0]["id"].get<std::string>();
  add_instance(id, "vm-1@site-a");

  r = c.Get("/v1/computes", alice);
  REQUIRE(r);
  CHECK(r->status == 200);
  auto j = body_of(r);
  REQUIRE(j["computes"].size() == 1);
  CHECK(j["computes"][0]["id"] == "vm-1@site-a");
  CHECK(j["computes"][0]["order_id"] == id);
  CHECK(j["computes"][0]["flavor"] == "small");
  CHECK(j["computes"][0]["ip"].is_null());

  r = c.Get("/v1/computes/vm-1@site-a", alice);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(body_of(r)["state"] == "running");
  r = c.Get("/v1/computes/vm-1@site-a", bob);
  REQUIRE(r);
  CHECK(r->status == 404);
  r = c.Delete("/v1/computes/vm-1@site-a", bob);
  REQUIRE(r);
  CHECK(r->status == 404);
  r = c.Delete("/v1/computes/vm-1@site-a", alice);
  REQUIRE(r);
  CHECK(r->status == 204);
  CHECK(r->body.empty());
  r = c.Delete("/v1/computes/vm-1@site-a", alice);
  REQUIRE(r);
  CHECK(r->status == 404);
}

TEST_CASE_FIXTURE(api_fixture, "members and quota") {
  start();
  auto c = client();
  auto r = c.Get("/v1/members", alice);
  REQUIRE(r);
  CHECK(r->status == 200);
  auto j = body_of(r);
  REQUIRE(j["members"].size() == 1);
  CHECK(j["members"][0]["id"] == "site-a");
  CHECK(j["members"][0]["self"] == true);

  r = c.Get("/v1/members/site-a/quota", alice);
  REQUIRE(r);
  CHECK(r->status == 200);
  j = body_of(r);
  CHECK(j["member_id"] == "site-a");
  CHECK(j["vcpu"] == json{{"total", 8}, {"in_use", 2}, {"in_use_by_user", 2}});
  CHECK(j["memory_mb"]["total"] == 8192);
  CHECK(j["instances"]["in_use"] == 1);

  r = c.Get("/v1/members/site-z/quota", alice);
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(error_code(r) == "not_found");
}

TEST_CASE_FIXTURE(api_fixture, "scheduler errors map to their statuses") {
  start();
  auto c = client();
  auto r =
    c.Post("/v1/orders", alice, R"({"kind":"compute","image":"disk-full"})",
           "application/json");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(error_code(r) == "storage_failure");
  CHECK(body_of(r)["error"]["message"] == "database is full");
  r = c.Post("/v1/orders", alice, R"({"kind":"compute","image":"no-driver"})",
             "application/json");
  REQUIRE(r);
  CHECK(r->status == 501);
  CHECK(error_code(r) == "not_implemented");
}

TEST_CASE_FIXTURE(api_fixture, "a body over the limit is 413 JSON") {
  rest_api_config cfg;
  cfg.max_body_bytes = 1 << 20;
  start(cfg);
  auto c = client();
  std::string big =
    R"({"kind":"compute","image":")" + std::string(2 << 20, 'x') + "\"}";
  auto r = c.Post("/v1/orders", alice, big, "application/json");
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(error_code(r) == "payload_too_large");
  CHECK(create_calls() == 0);
  r = c.Get("/v1/status");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE_FIXTURE(api_fixture,
                  "chunked bodies are held to the limit, compressed refused") {
  rest_api_config cfg;
  cfg.max_body_bytes = 4096;
  start(cfg);
  auto c = client();
  auto r = c.Post(
    "/v1/orders", alice,
    [&](size_t, httplib::DataSink& sink) {
      sink.write(compute_body.data(), compute_body.size());
      sink.done();
      return true;
    },
    "application/json");
  REQUIRE(r);
  CHECK(r->status == 201);
  // Chunked, over the limit: every byte counts, whatever the framing.
  std::string big =
    R"({"kind":"compute","image":")" + std::string(6000, 'x') + "\"}";
  r = c.Post(
    "/v1/orders", alice,
    [&](size_t, httplib::DataSink& sink) {
      for (size_t at = 0; at < big.size(); at += 1000)
        sink.write(big.data() + at, std::min<size_t>(1000, big.size() - at));
      sink.done();
      return true;
    },
    "application/json");
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(error_code(r) == "payload_too_large");
  // Nothing is ever inflated: any Content-Encoding but identity is 415.
  auto gz = client();
  gz.set_compress(true);
  r = gz.Post("/v1/orders", alice, compute_body, "application/json");
  REQUIRE(r);
  CHECK(r->status == 415);
  CHECK(error_code(r) == "unsupported_media_type");
  CHECK(create_calls() == 1);
  // 76 bytes of gzip that would inflate to a 10 KB order.
  const auto bomb =
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xed\xc8\x51\x0a\x40\x40"
    "\x00\x05\xc0\xbb\xbc\x6f\x27\x70\x1b\xb1\x69\xd3\xe2\x83\x52\x72"
    "\x77\xce\xa1\x99\xcf\xb9\xb3\xd4\x75\x4a\x9f\x71\x6b\xfb\x79\x94"
    "\x74\xa9\x6d\x98\xcb\x37\x17\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\xfc\x40\x9e\x17\x62\x00\x87\x7f\x2d\x27\x00\x00"s;
  REQUIRE(bomb.size() == 76);
  auto out = raw_exchange(port, "POST /v1/orders HTTP/1.1\r\nHost: x\r\n"
                                "X-Auth-Token: tok-alice-0123456789\r\n"
                                "Content-Type: application/json\r\n"
                                "Content-Encoding: gzip\r\n"
                                "Content-Length: 76\r\n\r\n"
                                  + bomb);
  CHECK(out.rfind("HTTP/1.1 415", 0) == 0);
  CHECK(out.find("unsupported_media_type") != std::string::npos);
  CHECK(create_calls() == 1);
  r = c.Get("/v1/status");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE_FIXTURE(api_fixture, "only JSON request bodies are accepted") {
  start();
  auto c = client();
  for (std::string type :
       {"text/plain", "application/x-www-form-urlencoded", "application/jsonx",
        "multipart/form-data; boundary=x"}) {
    CAPTURE(type);
    auto r = c.Post("/v1/orders", alice, compute_body, type);
    REQUIRE(r);
    CHECK(r->status == 415);
    CHECK(error_code(r) == "unsupported_media_type");
  }
  CHECK(create_calls() == 0);
  for (std::string type :
       {"application/json", "Application/JSON ; charset=utf-8"}) {
    CAPTURE(type);
    auto r = c.Post("/v1/orders", alice, compute_body, type);
    REQUIRE(r);
    CHECK(r->status == 201);
  }
  // httplib::Client always sends a Content-Type; without one is fine too.
  auto out = raw_exchange(port, "POST /v1/orders HTTP/1.1\r\nHost: x\r\n"
                                "X-Auth-Token: tok-alice-0123456789\r\n"
                                "Content-Length: "
                                  + std::to_string(compute_body.size())
                                  + "\r\n\r\n" + compute_body);
  CHECK(out.rfind("HTTP/1.1 201", 0) == 0);
  CHECK(create_calls() == 3);
}

TEST_CASE_FIXTURE(api_fixture,
                  "unknown paths are 404 and wrong methods 405, as JSON") {
  start();
  auto c = client();
  for (auto path :
       {"/", "/v1", "/v1/", "/v2/orders", "/v1/order", "/v1/orders/",
        "/v1/orders/a/b", "/v1/members/site-a", "/v1/members/x/usage2",
        "/v1//orders", "/v1/orders%2Fx/y"}) {
    CAPTURE(path);
    auto r = c.Get(path, alice);
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(error_code(r) == "not_found");
  }
  auto r = c.Put("/v1/orders", alice, compute_body, "application/json");
  REQUIRE(r);
  CHECK(r->status == 405);
  CHECK(error_code(r) == "method_not_allowed");
  CHECK(r->get_header_value("Allow") == "GET, POST");
  r = c.Post("/v1/computes/x", alice, "{}", "application/json");
  REQUIRE(r);
  CHECK(r->status == 405);
  r = c.Delete("/v1/orders", alice);
  REQUIRE(r);
  CHECK(r->status == 405);
  r = c.Patch("/v1/orders/x", alice, "{}", "application/json");
  REQUIRE(r);
  CHECK(r->status == 405);
  CHECK(r->get_header_value("Allow") == "GET, DELETE");
  r = c.Delete("/v1/status");
  REQUIRE(r);
  CHECK(r->status == 405);
  CHECK(create_calls() == 0);
}

TEST_CASE_FIXTURE(
  api_fixture, "volumes, networks and attachments: each under its own path") {
  start();
  auto c = client();
  auto post = [&](const char* body) {
    auto r = c.Post("/v1/orders", alice, body, "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 201);
    return body_of(r)["orders"][0]["id"].get<std::string>();
  };
  auto v = post(R"({"kind":"volume","size_gb":3})");
  auto n = post(R"({"kind":"network","network_cidr":"10.1.0.0/24"})");
  auto a = post(
    R"({"kind":"attachment","compute":"c-1","volume":"v-1@site-a","device":"/dev/vdc"})");
  auto& vol = add_instance(v, "v-1@site-a", resource_kind::volume);
  vol.size_gb = 3;
  vol.server_id = "vm-1@site-a";
  add_instance(n, "n-1@site-a", resource_kind::network).network_cidr =
    "10.1.0.0/24";
  auto& att = add_instance(a, "vm-1:v-1@site-a", resource_kind::attachment);
  att.server_id = "vm-1@site-a";
  att.volume_id = "v-1@site-a";
  att.device = "/dev/vdc";

  auto j = body_of(c.Get("/v1/orders/" + a, alice));
  CHECK(j["kind"] == "attachment");
  CHECK(j["compute"] == "c-1");
  CHECK(j["volume"] == "v-1@site-a");
  CHECK(j["device"] == "/dev/vdc");
  CHECK_FALSE(j.contains("vcpu"));

  j = body_of(c.Get("/v1/volumes", alice));
  REQUIRE(j["volumes"].size() == 1);
  CHECK(j["volumes"][0]["id"] == "v-1@site-a");
  CHECK(j["volumes"][0]["state"] == "ready");
  CHECK(j["volumes"][0]["size_gb"] == 3);
  CHECK(j["volumes"][0]["attached_to"] == "vm-1@site-a");
  CHECK_FALSE(j["volumes"][0].contains("flavor"));
  j = body_of(c.Get("/v1/networks/n-1@site-a", alice));
  CHECK(j["network_cidr"] == "10.1.0.0/24");
  CHECK(j["network_gateway"].is_null());
  j = body_of(c.Get("/v1/attachments", alice));
  REQUIRE(j["attachments"].size() == 1);
  CHECK(j["attachments"][0]["compute"] == "vm-1@site-a");
  CHECK(j["attachments"][0]["volume"] == "v-1@site-a");
  CHECK(j["attachments"][0]["device"] == "/dev/vdc");
  CHECK(body_of(c.Get("/v1/computes", alice))["computes"].empty());

  // Under another kind's path an instance does not exist, and is not deleted.
  auto r = c.Get("/v1/computes/v-1@site-a", alice);
  REQUIRE(r);
  CHECK(r->status == 404);
  r = c.Delete("/v1/networks/v-1@site-a", alice);
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(body_of(c.Get("/v1/volumes", alice))["volumes"].size() == 1);
  r = c.Get("/v1/volumes", bob);
  CHECK(body_of(r)["volumes"].empty());
  r = c.Get("/v1/volumes");
  REQUIRE(r);
  CHECK(r->status == 401);
  r = c.Delete("/v1/volumes/v-1@site-a", alice);
  REQUIRE(r);
  CHECK(r->status == 204);
  CHECK(body_of(c.Get("/v1/volumes", alice))["volumes"].empty());
  r = c.Post("/v1/volumes", alice, R"({"size_gb":1})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 405);
}

TEST_CASE_FIXTURE(api_fixture, "requests httplib::Client cannot make") {
  start();
  // A POST without Content-Length: refused at once, not after a read timeout.
  auto out = raw_exchange(port, "POST /v1/orders HTTP/1.1\r\nHost: x\r\n"
                                "X-Auth-Token: tok-alice-0123456789\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 411", 0) == 0);
  CHECK(out.find("length_required") != std::string::npos);
  // A malformed request line still gets a JSON error.
  out = raw_exchange(port, "BREW /v1/orders HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(out.find("\"error\"") != std::string::npos);
  CHECK(create_calls() == 0);
}

TEST_CASE("a scheduler that does not answer gives 504") {
  api_fixture f;
  auto silent =
    caf::actor_cast<order_scheduler_actor>(f.sys.spawn(silent_scheduler));
  rest_api_config cfg;
  cfg.actor_timeout = std::chrono::milliseconds{200};
  rest_api api{f.sys, silent, std::make_shared<static_tokens_identity>(tokens),
               std::make_shared<allow_all>(), cfg};
  f.port = api.start();
  auto c = f.client();
  auto r = c.Get("/v1/orders", alice);
  REQUIRE(r);
  CHECK(r->status == 504);
  CHECK(error_code(r) == "timeout");
  r = c.Post("/v1/orders", alice, compute_body, "application/json");
  REQUIRE(r);
  CHECK(r->status == 504);
  r = c.Get("/v1/status");
  REQUIRE(r);
  CHECK(r->status == 504);
  api.stop();
  caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
}

TEST_CASE("a scheduler that is gone gives 503") {
  api_fixture f;
  caf::anon_send_exit(f.scheduler, caf::exit_reason::user_shutdown);
  f.start();
  auto r = f.client().Get("/v1/orders", alice);
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(error_code(r) == "unavailable");
}

TEST_CASE_FIXTURE(api_fixture, "start and stop") {
  start();
  CHECK_THROWS_AS(api->start(), std::logic_error);
  api->stop();
  api->stop();
  auto r = client().Get("/v1/status");
  CHECK_FALSE(r);
  rest_api_config busy;
  auto first = std::make_unique<rest_api>(
    sys, scheduler, std::make_shared<static_tokens_identity>(tokens),
    std::make_shared<allow_all>(), busy);
  busy.port = first->start();
  rest_api second{sys, scheduler,
                  std::make_shared<static_tokens_identity>(tokens),
                  std::make_shared<allow_all>(), busy};
  CHECK_THROWS_AS(second.start(), std::runtime_error);
}

TEST_CASE_FIXTURE(api_fixture, "fuzzed bodies never cause a 5xx") {
  rest_api_config cfg;
  cfg.max_count = 5;
  cfg.max_body_bytes = 64 * 1024;
  start(cfg);
  auto c = client();
  c.set_keep_alive(true);
  std::mt19937 rng{20261125};
  auto pick = [&](size_t n) {
    return std::uniform_int_distribution<size_t>{0, n - 1}(rng);
  };
  const std::vector<std::string> seeds{
    R"({"kind":"compute","count":2,"type":"persistent","vcpu":2,"memory_mb":1024,"disk_gb":10,"image":"debian","requirements":"Glue2RAM >= 512 && Glue2CloudComputeManagerID == \"site-a\"","public_key":"ssh-ed25519 AAAA","user_data":"#!/bin/sh\necho hi","valid_from":"2026-11-25T10:00:00Z","valid_until":"2099-11-26T10:00:00+02:00"})",
    R"({"kind":"volume","size_gb":10,"count":1})",
    R"({"kind":"network","network_cidr":"10.1.0.0/16","network_gateway":"10.1.0.1","network_allocation":"static"})",
  };
  const std::vector<std::string> fields{"kind",
                                        "count",
                                        "type",
                                        "vcpu",
                                        "memory_mb",
                                        "disk_gb",
                                        "image",
                                        "requirements",
                                        "public_key",
                                        "user_data",
                                        "valid_from",
                                        "valid_until",
                                        "size_gb",
                                        "network_cidr",
                                        "network_gateway",
                                        "network_allocation",
                                        "x"};
  const std::vector<json> values{nullptr,
                                 true,
                                 false,
                                 0,
                                 -1,
                                 1,
                                 5,
                                 6,
                                 1024,
                                 1025,
                                 65536,
                                 4294967296LL,
                                 -9223372036854775807LL - 1,
                                 18446744073709551615ULL,
                                 1.5,
                                 1e308,
                                 "",
                                 "compute",
                                 "volume",
                                 "network",
                                 "one-time",
                                 "persistent",
                                 "static",
                                 "10.0.0.0/24",
                                 "10.0.0.1",
                                 "2026-11-25T10:00:00Z",
                                 "Glue2vCPU > (",
                                 "\xc3\xa9",
                                 std::string(70000, 'a'),
                                 json::array(),
                                 json::object(),
                                 json::array({1, 2}),
                                 json{{"kind", "compute"}}};
  const std::string alphabet = "{}[]\",:0123456789.-+eE \\/tfnu\x00\xff\xc3"
                               "abkz"s;
  int statuses[6] = {};
  for (int i = 0; i < 3000; ++i) {
    std::string body = seeds[pick(seeds.size())];
    if (i % 3 == 0) {
      // Structured mutation: replace or add a field with a random value.
      auto j = json::parse(body);
      j[fields[pick(fields.size())]] = values[pick(values.size())];
      if (pick(4) == 0)
        j.erase(fields[pick(fields.size())]);
      body = j.dump();
    } else {
      // Byte mutation: flip, insert and delete a few bytes.
      for (size_t n = 1 + pick(4); n > 0; --n) {
        auto pos = pick(body.size() + 1);
        switch (pick(3)) {
        case 0:
          if (pos < body.size())
            body[pos] = static_cast<char>(body[pos] ^ (1 << pick(8)));
          break;
        case 1:
          body.insert(pos, 1, alphabet[pick(alphabet.size())]);
          break;
        case 2:
          if (pos < body.size())
            body.erase(pos, 1 + pick(8));
          break;
        }
      }
    }
    auto r = c.Post("/v1/orders", alice, body, "application/json");
    REQUIRE_MESSAGE(r, "no answer to: " << body);
    CAPTURE(body);
    CHECK(r->status >= 200);
    CHECK(r->status < 500);
    statuses[r->status / 100]++;
    auto j = json::parse(r->body, nullptr, false);
    CHECK_FALSE(j.is_discarded());
    CHECK((r->status == 201 ? j.contains("orders") : j.contains("error")));
  }
  MESSAGE("2xx: " << statuses[2] << ", 4xx: " << statuses[4]);
  CHECK(statuses[2] > 0);
  CHECK(statuses[4] > 0);
  // Paths get the same treatment.
  const std::string path_chars = "ao/%.?&#\x01 ";
  for (int i = 0; i < 500; ++i) {
    std::string path = "/v1/";
    for (size_t n = pick(30); n > 0; --n)
      path += path_chars[pick(path_chars.size())];
    auto r = c.Get(path, alice);
    REQUIRE(r);
    CAPTURE(path);
    CHECK(r->status < 500);
    CHECK_FALSE(json::parse(r->body, nullptr, false).is_discarded());
  }
  auto r = client().Get("/v1/status");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE_FIXTURE(api_fixture,
                  "list parameters reach the scheduler and pages link on") {
  rest_api_config cfg;
  cfg.max_page_size = 2;
  start(cfg);
  auto c = client();
  auto r = c.Post("/v1/orders", alice, R"({"kind":"compute","count":3})",
                  "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 201);
  r = c.Get("/v1/orders?limit=2&state=open&kind=compute", alice);
  REQUIRE(r);
  CHECK(r->status == 200);
  {
    std::lock_guard guard{db->mtx};
    CHECK(db->last_query.limit == 2);
    CHECK(db->last_query.state == order_state::open);
    CHECK(db->last_query.kind == resource_kind::compute);
  }
  auto first = body_of(r);
  REQUIRE(first["orders"].size() == 2);
  auto href = first["links"][0]["href"].get<std::string>();
  CHECK(href
        == "/v1/orders?limit=2&marker="
             + first["orders"][1]["id"].get<std::string>()
             + "&state=open&kind=compute");
  r = c.Get(href, alice);
  REQUIRE(r);
  CHECK(body_of(r)["orders"].size() == 1);
  CHECK(body_of(r)["links"] == json::array());
  // The default page is the configured maximum when that is smaller.
  r = c.Get("/v1/orders", alice);
  REQUIRE(r);
  CHECK(body_of(r)["orders"].size() == 2);
  for (auto bad : {"/v1/orders?limit=3", "/v1/orders?marker=nope",
                   "/v1/computes?state=open", "/v1/members?limit=0"}) {
    CAPTURE(bad);
    r = c.Get(bad, alice);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(error_code(r) == "invalid_argument");
  }
}

TEST_CASE_FIXTURE(api_fixture, "the OpenAPI document is served to anyone") {
  start();
  auto r = client().Get("/v1/openapi.json");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto doc = json::parse(r->body);
  CHECK(doc["openapi"] == "3.1.0");
  CHECK(doc["paths"].contains("/v1/orders"));
}
