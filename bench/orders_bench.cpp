// bench/orders: what the order path costs, against one running manager.
//
// Starts `fogbow --role=manager` with config/benchmark.toml (the `instant`
// driver, so cloud time is zero) and measures, in one run:
//   1. GET /v1/status requests per second: the baseline of the HTTP stack
//      (socket, parsing, authentication-free route, one actor round trip);
//   2. POST /v1/orders accepted per second, each order persisted in SQLite
//      before its 201;
//   3. the time from POST to `fulfilled`, seen by a client polling
//      GET /v1/orders/{id}, one order at a time (p50/p90/p99);
//   4. a burst: 1,000 connections opened at once, each sending one
//      GET /v1/status, against the configured listen backlog and, for
//      comparison, against a second manager with httplib's old backlog of 5
//      (served, p50/p99/max of connect + response).
// Usage: orders_bench FOGBOW_BINARY CONFIG [seconds-per-phase] [threads]

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using clock_type = std::chrono::steady_clock;

namespace {

struct server {
  pid_t pid = -1;
  int port = 0;
  std::string data_dir;
};

server start_server(const std::string& binary, const std::string& config) {
  server s;
  char tmpl[] = "/tmp/fogbow-bench-XXXXXX";
  s.data_dir = mkdtemp(tmpl);
  int fds[2];
  if (pipe(fds) != 0)
    std::exit(1);
  s.pid = fork();
  if (s.pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    execl(binary.c_str(), binary.c_str(), "--role=manager", "--config",
          config.c_str(), "--data-dir", s.data_dir.c_str(), "--http-port", "0",
          "--log-level", "info", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* err = fdopen(fds[0], "r");
  char line[4096];
  while (fgets(line, sizeof(line), err)) {
    std::string l{line};
    auto at = l.find("listening on http://");
    if (at != std::string::npos) {
      s.port = std::stoi(l.substr(l.rfind(':') + 1));
      break;
    }
  }
  if (s.port == 0) {
    std::cerr << "the manager did not start\n";
    std::exit(1);
  }
  // Keep draining its log so that it never blocks on a full pipe.
  std::thread([err] {
    char buf[4096];
    while (fgets(buf, sizeof(buf), err)) {
    }
    fclose(err);
  }).detach();
  return s;
}

void stop_server(server& s) {
  kill(s.pid, SIGTERM);
  int status = 0;
  waitpid(s.pid, &status, 0);
  std::filesystem::remove_all(s.data_dir);
}

httplib::Headers auth() {
  return {{"X-Auth-Token", "alice-secret"}};
}

/// Runs `op` from `threads` clients for `seconds`; returns successes/s.
template <class Op>
double rate(int port, int threads, double seconds, Op op) {
  std::atomic<long> done{0}, failed{0};
  auto deadline = clock_type::now()
                  + std::chrono::duration_cast<clock_type::duration>(
                    std::chrono::duration<double>(seconds));
  std::vector<std::thread> workers;
  auto start = clock_type::now();
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([&] {
      httplib::Client cli{"127.0.0.1", port};
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      while (clock_type::now() < deadline)
        (op(cli) ? done : failed)++;
    });
  for (auto& w : workers)
    w.join();
  double elapsed =
    std::chrono::duration<double>(clock_type::now() - start).count();
  if (failed > 0)
    std::cerr << "  (" << failed << " requests failed)\n";
  return done / elapsed;
}

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return xs[std::min(xs.size() - 1, static_cast<size_t>(p * xs.size()))];
}

/// One connection of the burst: connect, send one request, read the
/// response until the server closes (Connection: close).
struct burst_conn {
  int fd = -1;
  clock_type::time_point t0;
  bool sent = false;
  std::string in;
  double ms = -1; ///< set once the response is complete and is a 200
};

struct burst_result {
  int served = 0;
  std::vector<double> ms;
};

int open_nonblocking(int port, burst_conn& c) {
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c.t0 = clock_type::now();
  int r = ::connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  return r == 0 || errno == EINPROGRESS ? 0 : -1;
}

/// Steps `c` on a poll event; returns true when it is finished.
bool step(burst_conn& c, short revents) {
  static const std::string request = "GET /v1/status HTTP/1.1\r\n"
                                     "Host: 127.0.0.1\r\n"
                                     "Connection: close\r\n\r\n";
  if (!c.sent && (revents & (POLLOUT | POLLERR | POLLHUP))) {
    // A refused or reset connect shows as a failed send.
    c.sent = true;
    return ::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL)
           != static_cast<ssize_t>(request.size());
  }
  if (!(revents & (POLLIN | POLLERR | POLLHUP)))
    return false;
  char buf[4096];
  ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
  if (n > 0) {
    c.in.append(buf, static_cast<size_t>(n));
    return false;
  }
  if (n < 0 && errno == EAGAIN)
    return false;
  if (n == 0 && c.in.starts_with("HTTP/1.1 200"))
    c.ms = std::chrono::duration<double, std::milli>(clock_type::now() - c.t0)
             .count();
  return true;
}

/// Opens `n` connections at once, each sending one GET /v1/status; gives
/// up on those not answered within 60 s.
burst_result burst(int port, int n) {
  std::vector<burst_conn> conns(static_cast<size_t>(n));
  for (auto& c : conns)
    if (open_nonblocking(port, c) != 0) {
      ::close(c.fd);
      c.fd = -1;
    }
  auto deadline = clock_type::now() + std::chrono::seconds(60);
  std::vector<pollfd> fds;
  std::vector<burst_conn*> owners;
  for (;;) {
    fds.clear();
    owners.clear();
    for (auto& c : conns)
      if (c.fd >= 0) {
        fds.push_back({c.fd, static_cast<short>(c.sent ? POLLIN : POLLOUT), 0});
        owners.push_back(&c);
      }
    if (fds.empty() || clock_type::now() > deadline)
      break;
    if (::poll(fds.data(), fds.size(), 100) < 0)
      break;
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents && step(*owners[i], fds[i].revents)) {
        ::close(owners[i]->fd);
        owners[i]->fd = -1;
      }
  }
  burst_result r;
  for (auto& c : conns) {
    if (c.fd >= 0)
      ::close(c.fd);
    if (c.ms >= 0) {
      ++r.served;
      r.ms.push_back(c.ms);
    }
  }
  return r;
}

/// A copy of `config` with `[http] listen_backlog = backlog`.
std::string config_with_backlog(const std::string& config, int backlog,
                                const std::string& dir) {
  std::ifstream in{config};
  std::stringstream text;
  text << in.rdbuf();
  auto s = text.str();
  auto at = s.find("[http]\n");
  if (at == std::string::npos) {
    std::cerr << config << " has no [http] section\n";
    std::exit(1);
  }
  s.insert(at + 7, "listen_backlog = " + std::to_string(backlog) + "\n");
  auto path = dir + "/backlog.toml";
  std::ofstream{path} << s;
  return path;
}

void print_burst(const char* label, int n, const burst_result& r) {
  std::printf("%-44s %7d / %d\n", label, r.served, n);
  if (r.ms.empty())
    return;
  std::printf("%-44s %12.1f ms\n", "  connect+response p50",
              percentile(r.ms, 0.50));
  std::printf("%-44s %12.1f ms\n", "  connect+response p99",
              percentile(r.ms, 0.99));
  std::printf("%-44s %12.1f ms\n", "  connect+response max",
              *std::max_element(r.ms.begin(), r.ms.end()));
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr
      << "usage: orders_bench FOGBOW_BINARY CONFIG [seconds] [threads]\n";
    return 2;
  }
  double seconds = argc > 3 ? std::atof(argv[3]) : 5;
  int threads = argc > 4 ? std::atoi(argv[4]) : 4;
  auto s = start_server(argv[1], argv[2]);
  std::cout << "manager on port " << s.port << ", " << threads
            << " client threads, " << seconds << " s per phase\n";

  auto status_rate = rate(s.port, threads, seconds, [](httplib::Client& c) {
    auto r = c.Get("/v1/status");
    return r && r->status == 200;
  });
  const std::string body = R"({"kind":"compute","vcpu":1,"memory_mb":512})";
  auto order_rate = rate(s.port, threads, seconds, [&](httplib::Client& c) {
    auto r = c.Post("/v1/orders", auth(), body, "application/json");
    return r && r->status == 201;
  });

  // POST → fulfilled, one order at a time so that queueing does not count.
  httplib::Client cli{"127.0.0.1", s.port};
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  std::vector<double> latencies_ms;
  int timeouts = 0;
  for (int i = 0; i < 300; ++i) {
    auto t0 = clock_type::now();
    auto r = cli.Post("/v1/orders", auth(), body, "application/json");
    if (!r || r->status != 201)
      continue;
    auto id =
      nlohmann::json::parse(r->body)["orders"][0]["id"].get<std::string>();
    bool fulfilled = false;
    while (clock_type::now() - t0 < std::chrono::seconds(5)) {
      auto g = cli.Get(("/v1/orders/" + id).c_str(), auth());
      if (g && g->status == 200
          && nlohmann::json::parse(g->body)["state"] == "fulfilled") {
        fulfilled = true;
        break;
      }
    }
    if (!fulfilled) {
      ++timeouts;
      continue;
    }
    latencies_ms.push_back(
      std::chrono::duration<double, std::milli>(clock_type::now() - t0)
        .count());
  }
  stop_server(s);

  // The burst runs against fresh managers: GET /v1/status counts the
  // orders, so the thousands created above would make it slower and hide
  // what the connections cost. Then against httplib's former backlog of 5.
  const int burst_size = 1000;
  auto fresh = start_server(argv[1], argv[2]);
  auto burst_configured = burst(fresh.port, burst_size);
  stop_server(fresh);
  char tmpl[] = "/tmp/fogbow-bench-cfg-XXXXXX";
  std::string cfg_dir = mkdtemp(tmpl);
  auto small = start_server(argv[1], config_with_backlog(argv[2], 5, cfg_dir));
  auto burst_small = burst(small.port, burst_size);
  stop_server(small);
  std::filesystem::remove_all(cfg_dir);

  std::printf("\n%-44s %12s\n", "measure", "value");
  std::printf("%-44s %12.0f req/s\n", "GET /v1/status (baseline)", status_rate);
  std::printf("%-44s %12.0f orders/s\n", "POST /v1/orders accepted (persisted)",
              order_rate);
  std::printf("%-44s %12.2f\n", "ratio orders/status",
              order_rate / status_rate);
  if (!latencies_ms.empty()) {
    std::printf("%-44s %12.2f ms\n", "POST -> fulfilled p50",
                percentile(latencies_ms, 0.50));
    std::printf("%-44s %12.2f ms\n", "POST -> fulfilled p90",
                percentile(latencies_ms, 0.90));
    std::printf("%-44s %12.2f ms\n", "POST -> fulfilled p99",
                percentile(latencies_ms, 0.99));
  }
  if (timeouts)
    std::printf("%d orders not fulfilled within 5 s\n", timeouts);
  print_burst("1,000 connections at once, served", burst_size,
              burst_configured);
  print_burst("same with listen_backlog = 5, served", burst_size, burst_small);
  return 0;
}
