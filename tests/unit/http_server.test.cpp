// The HTTP server under the REST and tunnel APIs: admission before the
// body, bodies bounded whatever the framing, its own refusals, lifecycle.

#include "http/http_server.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

using namespace fogbow;

namespace {

// Admits only requests carrying "X-Key: yes"; answers with the body's size.
struct counting_handler : http_handler {
  std::atomic<int> admitted = 0;
  std::atomic<int> served = 0;

  std::optional<http_response> admit(http_request& req) override {
    ++admitted;
    if (req.header("x-key") == "yes")
      return std::nullopt;
    http_response r;
    r.status = 401;
    r.set_content("no", "text/plain");
    return r;
  }

  http_response serve(http_request& req) override {
    ++served;
    http_response r;
    r.set_content(std::to_string(req.body.size()), "text/plain");
    return r;
  }

  http_response error_response(int status) override {
    http_response r;
    r.status = status;
    r.set_content("refused " + std::to_string(status), "text/plain");
    return r;
  }
};

// Sends `request` and returns what the server answers until it closes or
// is quiet for 3 s.
std::string talk(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
    auto head_end = out.find("\r\n\r\n");
    if (head_end != std::string::npos && out.size() > head_end + 4)
      break;
  }
  ::close(fd);
  return out;
}

std::string chunked(const std::string& body, size_t piece) {
  std::string out;
  for (size_t at = 0; at < body.size(); at += piece) {
    auto part = body.substr(at, piece);
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", part.size());
    out += size + part + "\r\n";
  }
  return out + "0\r\n\r\n";
}

struct server_fixture {
  counting_handler handler;
  http_server_config cfg;
  std::unique_ptr<http_server> server;
  int port = 0;

  void start() {
    cfg.max_body_bytes = 1000;
    cfg.threads = 2;
    server = std::make_unique<http_server>(cfg, handler);
    port = server->start();
    REQUIRE(port > 0);
  }
};

} // namespace

TEST_CASE("http_request headers are found in any case") {
  http_request r;
  r.headers = {{"X-Auth-Token", "a"}, {"x-auth-token", "b"}, {"Host", "h"}};
  CHECK(r.header("x-AUTH-token") == "a");
  CHECK(r.header_count("X-Auth-Token") == 2);
  CHECK(r.has_header("host"));
  CHECK_FALSE(r.has_header("Content-Length"));
  CHECK(r.header("Content-Length").empty());
  http_response res;
  res.set_header("Allow", "GET");
  res.set_header("allow", "GET, POST");
  REQUIRE(res.headers.size() == 1);
  CHECK(res.headers[0].second == "GET, POST");
}

TEST_CASE("a refused body is dropped up to a bound, then cut off") {
  CHECK(discard_limit(1) == 64 * 1024);
  CHECK(discard_limit(1 << 20) == 4 << 20);
}

TEST_CASE("PEM files must be readable and hold PEM") {
  CHECK_THROWS_WITH_AS(read_pem_file("/nonexistent/x.crt", "'http.tls_cert'"),
                       doctest::Contains("/nonexistent/x.crt"),
                       std::runtime_error);
  auto path = std::string{"/tmp/fogbow-http-server-test.pem"};
  std::ofstream{path} << "not pem\n";
  CHECK_THROWS_WITH_AS(read_pem_file(path, "'http.tls_cert'"),
                       doctest::Contains("no PEM"), std::runtime_error);
  std::ofstream{path} << "-----BEGIN CERTIFICATE-----\nx\n";
  CHECK(read_pem_file(path, "c").starts_with("-----BEGIN"));
  std::remove(path.c_str());
}

TEST_CASE_FIXTURE(server_fixture, "admission comes before the body") {
  start();
  // Refused: an endless (chunked) body is not waited for ...
  auto out = talk(port, "POST /x HTTP/1.1\r\nHost: h\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"
                        "10\r\n0123456789abcdef\r\n");
  CHECK(out.rfind("HTTP/1.1 401", 0) == 0);
  // ... a short one is read and dropped, so the client gets the answer.
  out = talk(port, "POST /x HTTP/1.1\r\nHost: h\r\n"
                   "Content-Length: 900\r\n\r\n"
                     + std::string(900, 'x'));
  CHECK(out.rfind("HTTP/1.1 401", 0) == 0);
  out = talk(port, "POST /x HTTP/1.1\r\nHost: h\r\nX-Key: yes\r\n"
                   "Content-Length: 5\r\n\r\nhello");
  CHECK(out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(out.ends_with("5"));
  // A request without a body is admitted, then served.
  out = talk(port, "GET /x HTTP/1.1\r\nHost: h\r\nX-Key: yes\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(handler.admitted == 4);
  CHECK(handler.served == 2);
}

TEST_CASE_FIXTURE(server_fixture, "bodies are bounded in every framing") {
  start();
  auto head = std::string{"POST /x HTTP/1.1\r\nHost: h\r\nX-Key: yes\r\n"};
  auto out = talk(port, head + "Content-Length: 100000000\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 413", 0) == 0);
  out =
    talk(port, head + "Content-Length: 1001\r\n\r\n" + std::string(1001, 'x'));
  CHECK(out.rfind("HTTP/1.1 413", 0) == 0);
  out = talk(port, head + "Transfer-Encoding: chunked\r\n\r\n"
                     + chunked(std::string(1001, 'x'), 100));
  CHECK(out.rfind("HTTP/1.1 413", 0) == 0);
  out = talk(port, head + "Transfer-Encoding: chunked\r\n\r\n"
                     + chunked(std::string(1000, 'x'), 100));
  CHECK(out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(out.ends_with("1000"));
  out = talk(port, head
                     + "Content-Encoding: gzip\r\n"
                       "Content-Length: 3\r\n\r\nabc");
  CHECK(out.rfind("HTTP/1.1 415", 0) == 0);
  out = talk(port, "BREW /x HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 400", 0) == 0);
  out = talk(port,
             "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 414", 0) == 0);
  CHECK(handler.served == 1);
}

TEST_CASE_FIXTURE(server_fixture, "start, stop and a taken port") {
  start();
  CHECK_THROWS_AS(server->start(), std::logic_error);
  http_server_config same = cfg;
  same.port = port;
  http_server second{same, handler};
  CHECK_THROWS_AS(second.start(), std::runtime_error);
  server->stop();
  server->stop();
  http_server_config half_tls = cfg;
  half_tls.transport.tls_cert_pem = "-----BEGIN CERTIFICATE-----";
  http_server tls{half_tls, handler};
  CHECK_THROWS_WITH_AS(tls.start(), doctest::Contains("both"),
                       std::runtime_error);
}
