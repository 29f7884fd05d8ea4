// src/http/tunnel_request.*: what the tunnel API reads from a request
// before authentication (also fuzzed: tests/fuzz/fuzz_tunnel_request.cpp).

#include "http/tunnel_request.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace fogbow;
namespace tr = fogbow::tunnel_request;
using strings = std::vector<std::string>;

TEST_CASE("tunnel_request: path_segments splits after the leading slash") {
  CHECK(tr::path_segments("/token/a/1") == strings{"token", "a", "1"});
  CHECK(tr::path_segments("/") == strings{""});
  CHECK(tr::path_segments("/a/") == strings{"a", ""});
  CHECK(tr::path_segments("//") == strings{"", ""});
  CHECK(tr::path_segments("").empty());
}

TEST_CASE("tunnel_request: credential prefers X-Auth-Token, then Basic") {
  CHECK(tr::credential(std::string{"s"}, "Basic dTpw") == "s");
  CHECK(tr::credential(std::string{}, "") == "");
  CHECK(tr::credential(std::nullopt, "Basic dDE6czNjcmV0") == "s3cret");
  CHECK(tr::credential(std::nullopt, "Basic dTo=") == ""); // "u:"
  CHECK_FALSE(tr::credential(std::nullopt, "Basic dQ==")); // no colon
  CHECK_FALSE(tr::credential(std::nullopt, "Bearer x"));
  CHECK_FALSE(tr::credential(std::nullopt, ""));
}

TEST_CASE("tunnel_request: port_segment takes 1..65535 in plain digits") {
  CHECK(tr::port_segment("20001") == 20001);
  CHECK(tr::port_segment("1") == 1);
  CHECK(tr::port_segment("65535") == 65535);
  for (const char* bad : {"", "0", "65536", "-1", "+1", " 1", "1 ", "0x10",
                          "99999999999999999999", "1a"})
    CHECK_MESSAGE(!tr::port_segment(bad), bad);
}

TEST_CASE("tunnel_request: register_body is empty or {\"secret\": string}") {
  auto secret = [](std::string_view body) {
    auto r = tr::register_body(body);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r)
                                                  : "ERROR";
  };
  CHECK(secret("") == "");
  CHECK(secret("{}") == "");
  CHECK(secret(R"({"secret":"s"})") == "s");
  CHECK(secret(R"({"secret":1})") == "ERROR");
  CHECK(secret(R"({"secret":"s","x":1})") == "ERROR");
  CHECK(secret("[]") == "ERROR");
  CHECK(secret("{") == "ERROR");
  auto r = tr::register_body(R"({"other":true})");
  REQUIRE(std::holds_alternative<tr::body_error>(r));
  CHECK(std::get<tr::body_error>(r).message == "unknown field 'other'");
}
