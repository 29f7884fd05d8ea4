// Helper of bench/tunnel: a tiny HTTP backend and a connections-per-second
// load generator, both with blocking sockets and plain threads, so that
// neither is the bottleneck of a tunnel measurement.
//   tunnel_conns serve PORT THREADS          (runs until killed)
//   tunnel_conns load PORT SECONDS CLIENTS   (prints "<conns/s> <errors>")
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

const char response[] = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n"
                        "Connection: close\r\n\r\nhello";

void serve_one(int fd) {
  char buf[4096];
  std::string req;
  while (req.find("\r\n\r\n") == std::string::npos) {
    auto n = read(fd, buf, sizeof(buf));
    if (n <= 0)
      break;
    req.append(buf, static_cast<size_t>(n));
  }
  [[maybe_unused]] auto w = write(fd, response, sizeof(response) - 1);
  close(fd);
}

int serve(int port, int threads) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  auto sa = loopback(port);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0
      || listen(lfd, 4096) < 0) {
    std::perror("listen");
    return 1;
  }
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([lfd] {
      for (;;) {
        int fd = accept(lfd, nullptr, nullptr);
        if (fd >= 0)
          serve_one(fd);
      }
    });
  for (auto& t : pool)
    t.join();
  return 0;
}

int load(int port, double seconds, int clients) {
  std::atomic<long> done{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < clients; ++i)
    pool.emplace_back([&] {
      const char req[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
      char buf[512];
      while (!stop) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int yes = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
        auto sa = loopback(port);
        bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0
                  && write(fd, req, sizeof(req) - 1) > 0;
        std::string got;
        while (ok) {
          auto n = read(fd, buf, sizeof(buf));
          if (n <= 0)
            break;
          got.append(buf, static_cast<size_t>(n));
        }
        close(fd);
        if (ok && got.find("hello") != std::string::npos)
          ++done;
        else
          ++errors;
      }
    });
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool)
    t.join();
  double secs =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
  std::printf("%.1f %ld\n", static_cast<double>(done) / secs, errors.load());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "serve") == 0)
    return serve(std::atoi(argv[2]), std::atoi(argv[3]));
  if (argc == 5 && std::strcmp(argv[1], "load") == 0)
    return load(std::atoi(argv[2]), std::atof(argv[3]), std::atoi(argv[4]));
  std::fprintf(stderr, "usage: tunnel_conns serve PORT THREADS | load PORT "
                       "SECONDS CLIENTS\n");
  return 2;
}
