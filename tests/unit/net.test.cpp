// src/net/: the URL parser and the HTTP client against a real local server.

#include "net/http_client.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

using namespace fogbow;

TEST_CASE("URLs split into origin and path prefix") {
  auto u = parse_url("http://127.0.0.1:8774/v2.1/");
  REQUIRE(u);
  CHECK(u->origin == "http://127.0.0.1:8774");
  CHECK(u->prefix == "/v2.1");
  CHECK(parse_url("https://h")->prefix.empty());
  CHECK_FALSE(parse_url("ftp://h/x"));
  CHECK_FALSE(parse_url("127.0.0.1:5000"));
  CHECK_FALSE(parse_url("http://"));
}

TEST_CASE("URLs: the scheme in any case, a path prefix kept, no host refused") {
  auto u = parse_url("HTTPS://manager.example:8443/fogbow//");
  REQUIRE(u);
  CHECK(u->origin == "https://manager.example:8443");
  CHECK(u->prefix == "/fogbow");
  CHECK_FALSE(parse_url("http:///path"));
  CHECK_FALSE(parse_url(""));
  CHECK_FALSE(http_client::to("manager:8182"));
}

namespace {

/// A real HTTP server on a free loopback port, for the duration of a test.
struct echo_server {
  httplib::Server server;
  int port = 0;
  std::thread thread;

  echo_server() {
    server.Get(
      "/base/hello", [](const httplib::Request& req, httplib::Response& res) {
        res.set_header("X-Subject-Token", "tok");
        res.set_content("auth=" + req.get_header_value("X-Auth-Token")
                          + " accept=" + req.get_header_value("Accept"),
                        "text/plain");
      });
    server.Post(
      "/base/echo", [](const httplib::Request& req, httplib::Response& res) {
        res.status = 201;
        res.set_content(req.get_header_value("Content-Type") + " " + req.body,
                        "text/plain");
      });
    port = server.bind_to_any_port("127.0.0.1");
    // Bound and listening already: requests queue until the loop runs.
    thread = std::thread{[this] { server.listen_after_bind(); }};
  }

  ~echo_server() {
    while (!server.is_running()) // stop() before the loop would be lost
      std::this_thread::yield();
    server.stop();
    thread.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

} // namespace

TEST_CASE(
  "http_client: base path, default headers, answer headers, JSON body") {
  echo_server srv;
  http_options opts;
  opts.default_headers = {{"X-Auth-Token", "secret"}};
  auto client = http_client::to(srv.url() + "/base/", opts);
  REQUIRE(client);
  auto r = client->request("GET", "/hello");
  CHECK(r.status == 200);
  CHECK(r.failure == transport_failure::none);
  CHECK(r.body == "auth=secret accept=application/json");
  CHECK(r.header("x-subject-token") == "tok");
  CHECK(r.header("X-Missing") == "");
  auto p = client->request("POST", "/echo", {}, R"({"a":1})");
  CHECK(p.status == 201);
  CHECK(p.body == R"(application/json {"a":1})");
  auto full = http_call(srv.url() + "/base/hello", "GET",
                        {{"X-Auth-Token", "t"}}, {}, {});
  CHECK(full.body == "auth=t accept=application/json");
}

TEST_CASE("http_client: failures are results, never exceptions") {
  auto bad = http_call("ftp://127.0.0.1/x", "GET", {}, {}, {});
  CHECK(bad.status == 0);
  CHECK(bad.transport_error.find("not an http(s) URL") != std::string::npos);
  int closed_port = 0;
  {
    echo_server srv; // take a port, then free it: nobody listens there
    closed_port = srv.port;
  }
  auto client =
    http_client::to("http://127.0.0.1:" + std::to_string(closed_port),
                    {std::chrono::milliseconds{2000}, true, {}});
  REQUIRE(client);
  auto refused = client->request("GET", "/");
  CHECK(refused.status == 0);
  CHECK(refused.failure == transport_failure::refused);
  CHECK_FALSE(refused.transport_error.empty());
  auto odd = client->request("BREW", "/");
  CHECK(odd.status == 0);
  CHECK(odd.transport_error == "unsupported method BREW");
}
