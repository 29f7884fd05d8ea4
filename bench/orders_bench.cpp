// bench/orders: what the order path costs, against one running manager.
//
// Starts `fogbow --role=manager` with config/benchmark.toml (the `instant`
// driver, so cloud time is zero) and measures, in one run:
//   1. GET /v1/status requests per second: the baseline of the HTTP stack
//      (socket, parsing, authentication-free route, one actor round trip);
//   2. POST /v1/orders accepted per second, each order persisted in SQLite
//      before its 201;
//   3. the time from POST to `fulfilled`, seen by a client polling
//      GET /v1/orders/{id}, one order at a time (p50/p90/p99).
// Usage: orders_bench FOGBOW_BINARY CONFIG [seconds-per-phase] [threads]

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
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
  return 0;
}
