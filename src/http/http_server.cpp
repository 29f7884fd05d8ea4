#include "http/http_server.hpp"

#include "metrics/metrics.hpp"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <strings.h>
#include <thread>

namespace fogbow {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `s` in place, as libmicrohttpd's own decoder does,
/// except "%00": a NUL would end the C string early, so that
/// "/dashboard/app.js%00.css" named app.js. It stays three characters,
/// which name nothing. Returns the new length.
std::size_t unescape_keeping_nul(void*, MHD_Connection*, char* s) {
  char* out = s;
  for (const char* in = s; *in != '\0'; ++in) {
    if (in[0] == '%' && hex_value(in[1]) >= 0 && hex_value(in[2]) >= 0) {
      int v = hex_value(in[1]) * 16 + hex_value(in[2]);
      if (v != 0) {
        *out++ = static_cast<char>(v);
        in += 2;
        continue;
      }
    }
    *out++ = *in;
  }
  *out = '\0';
  return static_cast<std::size_t>(out - s);
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// A fixed set of threads running jobs in order.
class worker_pool {
public:
  explicit worker_pool(int n) {
    for (int i = 0; i < std::max(1, n); ++i)
      threads_.emplace_back([this] { run(); });
  }

  ~worker_pool() {
    {
      std::lock_guard guard{mtx_};
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  void post(std::function<void()> job) {
    {
      std::lock_guard guard{mtx_};
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

private:
  // Runs every job posted, including those queued when stopping begins.
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock{mtx_};
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty())
          return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

/// One connection, for the header deadline. `waiting_since` is when it
/// began waiting for a request's headers, -1 while a request is handled.
struct connection_watch {
  int fd;
  std::atomic<std::int64_t> waiting_since;
  bool cut = false; ///< already shut down by the reaper
};

/// Where a request is. The polling thread and the worker that runs a job
/// never touch an exchange at the same time: the connection is suspended
/// while the job runs.
enum class phase {
  admitting,  ///< admit() runs on a worker
  admitted,   ///< admit() has returned; next call decides
  body,       ///< receiving an accepted body
  discarding, ///< receiving a refused body, answer in `answer`
  serving,    ///< serve() runs on a worker
  answering,  ///< `answer` is ready to be queued
};

struct exchange {
  http_request req;
  phase at = phase::admitting;
  std::optional<http_response> answer;
  std::size_t received = 0; ///< body bytes received, kept or not
  int status = 0;           ///< of the answer queued
  std::size_t answer_bytes = 0;
};

std::string address_of(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa == nullptr)
    return "?";
  if (sa->sa_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr,
                buf, sizeof(buf));
  else if (sa->sa_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr,
                buf, sizeof(buf));
  else
    return "?";
  return buf;
}

MHD_Result add_field(void* cls, MHD_ValueKind, const char* key,
                     const char* value) {
  static_cast<http_fields*>(cls)->emplace_back(key ? key : "",
                                               value ? value : "");
  return MHD_YES;
}

bool known_method(std::string_view m) {
  for (auto k : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
    if (m == k)
      return true;
  return false;
}

/// The bound, listening socket for `address`:`port`; throws.
int listen_socket(const http_server_config& cfg) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto where = cfg.name + " cannot listen on " + cfg.bind_address + ":"
               + std::to_string(cfg.port);
  auto service = std::to_string(cfg.port);
  if (int rc = ::getaddrinfo(cfg.bind_address.c_str(), service.c_str(), &hints,
                             &found);
      rc != 0)
    throw std::runtime_error(where + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard{found, ::freeaddrinfo};
  std::string why = "no address";
  for (auto* ai = found; ai; ai = ai->ai_next) {
    int fd =
      ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0
        && ::listen(fd, std::max(1, cfg.listen_backlog)) == 0)
      return fd;
    why = std::strerror(errno);
    ::close(fd);
  }
  throw std::runtime_error(where + ": " + why);
}

int bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return -1;
  if (ss.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

} // namespace

std::string http_request::header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (same_name(k, name))
      return v;
  return {};
}

std::size_t http_request::header_count(std::string_view name) const {
  return static_cast<std::size_t>(
    std::count_if(headers.begin(), headers.end(),
                  [&](auto& h) { return same_name(h.first, name); }));
}

std::optional<std::string>
http_request::query_value(std::string_view name) const {
  for (auto& [k, v] : query)
    if (k == name)
      return v;
  return std::nullopt;
}

void http_response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers)
    if (same_name(k, name)) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(std::move(name), std::move(value));
}

void http_response::set_content(std::string content, std::string type) {
  body = std::move(content);
  set_header("Content-Type", std::move(type));
}

std::size_t discard_limit(std::size_t max_body_bytes) {
  constexpr std::size_t at_least = 64 * std::size_t{1024};
  return std::max(at_least, 4 * max_body_bytes);
}

std::string read_pem_file(const std::string& path, const std::string& what) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error(what + " " + path + ": cannot read it ("
                             + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  auto pem = text.str();
  if (pem.find("-----BEGIN ") == std::string::npos)
    throw std::runtime_error(what + " " + path + ": no PEM block in it");
  return pem;
}

struct http_server::impl {
  http_server_config cfg;
  http_handler& handler;
  std::size_t discard_max;
  std::mutex lifecycle; ///< serialises start() and stop()
  bool started = false;
  MHD_Daemon* daemon = nullptr;
  std::unique_ptr<worker_pool> workers;
  std::atomic<bool> stopping = false;
  std::atomic<int> in_flight = 0; ///< jobs posted and not yet resumed
  // The header deadline: connections and the thread that cuts the late.
  std::mutex watch_mtx;
  std::set<connection_watch*> watched;
  std::condition_variable reaper_cv;
  bool reaper_stop = false;
  std::thread reaper;

  impl(http_server_config c, http_handler& h)
      : cfg(std::move(c)), handler(h),
        discard_max(discard_limit(cfg.max_body_bytes)) {}

  // --- answers --------------------------------------------------------------

  MHD_Result queue(MHD_Connection* c, exchange& x, http_response r) {
    auto* res = MHD_create_response_from_buffer(r.body.size(), r.body.data(),
                                                MHD_RESPMEM_MUST_COPY);
    if (!res)
      return MHD_NO;
    for (auto& [k, v] : r.headers)
      MHD_add_response_header(res, k.c_str(), v.c_str());
    if (r.close)
      MHD_add_response_header(res, MHD_HTTP_HEADER_CONNECTION, "close");
    x.status = r.status;
    x.answer_bytes = r.body.size();
    auto ok = MHD_queue_response(c, static_cast<unsigned>(r.status), res);
    MHD_destroy_response(res);
    return ok;
  }

  // Refused before reading the body: read and drop it when it is short
  // enough, so that the client gets the answer, else answer and close.
  MHD_Result refuse(MHD_Connection* c, exchange& x, http_response r) {
    r.close = true;
    auto length = x.req.header("Content-Length");
    bool short_body =
      !x.req.has_body
      || (!length.empty()
          && std::strtoull(length.c_str(), nullptr, 10) <= discard_max);
    if (!short_body)
      return queue(c, x, std::move(r)); // now: MHD discards and closes
    x.answer = std::move(r);
    x.at = phase::discarding;
    return MHD_YES;
  }

  // --- the worker side ------------------------------------------------------

  // Runs `job` on a worker with the connection suspended; the job leaves
  // x.answer (or nothing: admitted) and the next call goes on from `next`.
  // False when the server is stopping (the caller then closes).
  bool run_on_worker(MHD_Connection* c, exchange& x, phase running,
                     std::function<void(exchange&)> job) {
    // Counted before looking at `stopping`: stop() either sees this job
    // and waits for it, or this call sees `stopping`.
    ++in_flight;
    if (stopping) {
      --in_flight;
      return false;
    }
    x.at = running;
    MHD_suspend_connection(c);
    workers->post([this, c, &x, job = std::move(job)] {
      job(x);
      MHD_resume_connection(c);
      --in_flight;
    });
    return true;
  }

  void admit_job(exchange& x) {
    try {
      x.answer = handler.admit(x.req);
    } catch (...) {
      x.answer = handler.error_response(500);
    }
    x.at = phase::admitted;
  }

  // A request without a body is admitted and served in one go.
  void serve_job(exchange& x) {
    try {
      if (!x.req.has_body)
        x.answer = handler.admit(x.req);
      if (!x.answer)
        x.answer = handler.serve(x.req);
    } catch (...) {
      x.answer = handler.error_response(500);
    }
    x.at = phase::answering;
  }

  // --- the polling side -----------------------------------------------------

  std::unique_ptr<exchange> new_exchange(MHD_Connection* c, const char* url,
                                         const char* method) {
    auto x = std::make_unique<exchange>();
    x->req.method = method ? method : "";
    x->req.path = url ? url : "";
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_field, &x->req.headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_field,
                              &x->req.query);
    auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    x->req.remote_address = address_of(info ? info->client_addr : nullptr);
    auto length = x->req.header("Content-Length");
    x->req.has_body =
      x->req.has_header("Transfer-Encoding")
      || (!length.empty()
          && length.find_first_not_of('0') != std::string::npos);
    return x;
  }

  /// What the server refuses by itself before asking the handler.
  int transport_refusal(const http_request& req) const {
    if (!known_method(req.method))
      return 400;
    if (req.path.size() > cfg.max_target_bytes)
      return 414;
    auto encoding = req.header("Content-Encoding");
    if (req.header_count("Content-Encoding") > 1
        || (!encoding.empty() && !same_name(encoding, "identity")))
      return 415;
    auto te = req.header("Transfer-Encoding");
    if (!te.empty() && !same_name(te, "chunked"))
      return 400;
    auto length = req.header("Content-Length");
    if (!length.empty()
        && (length.find_first_not_of("0123456789") != std::string::npos
            || length.size() > 18))
      return 400;
    if (!length.empty()
        && std::strtoull(length.c_str(), nullptr, 10) > cfg.max_body_bytes)
      return 413;
    return 0;
  }

  // The first call, when the headers are complete.
  MHD_Result on_headers(MHD_Connection* c, exchange& x) {
    set_waiting(c, false);
    if (int status = transport_refusal(x.req))
      return refuse(c, x, handler.error_response(status));
    if (!x.req.has_body) {
      x.at = phase::body; // no body: serve() at the final call
      return MHD_YES;
    }
    if (!handler.admit_may_block(x.req)) {
      admit_job(x);
      return after_admit(c, x);
    }
    return run_on_worker(c, x, phase::admitting,
                         [this](exchange& e) { admit_job(e); })
             ? MHD_YES
             : MHD_NO;
  }

  // Still at the headers: refuse, or take the body.
  MHD_Result after_admit(MHD_Connection* c, exchange& x) {
    if (x.answer) {
      auto r = std::move(*x.answer);
      x.answer.reset();
      return refuse(c, x, std::move(r));
    }
    x.at = phase::body;
    return MHD_YES;
  }

  MHD_Result on_body(exchange& x, const char* data, std::size_t* size) {
    x.received += *size;
    if (x.at == phase::discarding) {
      *size = 0;
      // A refused body that goes on and on: stop reading, close.
      return x.received > discard_max ? MHD_NO : MHD_YES;
    }
    if (x.received > cfg.max_body_bytes) {
      x.req.body.clear();
      x.req.body.shrink_to_fit();
      x.answer = handler.error_response(413);
      x.answer->close = true;
      x.at = phase::discarding;
    } else {
      x.req.body.append(data, *size);
    }
    *size = 0;
    return x.received > discard_max ? MHD_NO : MHD_YES;
  }

  MHD_Result on_call(MHD_Connection* c, const char* url, const char* method,
                     const char* data, std::size_t* size, void** ctx) {
    auto* x = static_cast<exchange*>(*ctx);
    if (!x) {
      auto fresh = new_exchange(c, url, method);
      x = fresh.release();
      *ctx = x;
      return on_headers(c, *x);
    }
    switch (x->at) {
    case phase::admitted: // called again at the headers, after admit()
      return after_admit(c, *x);
    case phase::body:
    case phase::discarding:
      if (*size > 0)
        return on_body(*x, data, size);
      if (x->at == phase::discarding) {
        x->at = phase::answering;
        return queue(c, *x, std::move(*x->answer));
      }
      return run_on_worker(c, *x, phase::serving,
                           [this](exchange& e) { serve_job(e); })
               ? MHD_YES
               : MHD_NO;
    case phase::answering:
      return queue(c, *x, std::move(*x->answer));
    case phase::admitting:
    case phase::serving:
      break; // suspended: not called
    }
    *size = 0;
    return MHD_YES;
  }

  void on_completed(MHD_Connection* c, void** ctx) {
    std::unique_ptr<exchange> x{static_cast<exchange*>(*ctx)};
    *ctx = nullptr;
    set_waiting(c, true);
    if (!x)
      return;
    if (x->status != 0)
      metrics::count_http_response(cfg.metrics_label, x->status);
    handler.completed(x->req, x->status, x->answer_bytes);
  }

  // --- the header deadline --------------------------------------------------

  void set_waiting(MHD_Connection* c, bool waiting) {
    auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info && info->socket_context)
      static_cast<connection_watch*>(info->socket_context)
        ->waiting_since.store(waiting ? now_ms() : -1);
  }

  void on_connection(MHD_Connection* c, void** socket_ctx,
                     MHD_ConnectionNotificationCode what) {
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      auto* w = new connection_watch{info ? info->connect_fd : -1, now_ms()};
      std::lock_guard guard{watch_mtx};
      watched.insert(w);
      *socket_ctx = w;
      return;
    }
    // MHD closes the socket after this returns: the reaper, which holds
    // the same lock while it shuts a socket down, never sees a reused fd.
    auto* w = static_cast<connection_watch*>(*socket_ctx);
    *socket_ctx = nullptr;
    std::lock_guard guard{watch_mtx};
    watched.erase(w);
    delete w;
  }

  // Shuts down the sockets that have waited too long for headers; MHD then
  // sees them closed and cleans up on its own thread.
  void reap() {
    auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(
                   cfg.transport.header_timeout)
                   .count();
    std::unique_lock lock{watch_mtx};
    while (!reaper_stop) {
      reaper_cv.wait_for(lock, std::chrono::milliseconds{250});
      auto now = now_ms();
      for (auto* w : watched) {
        auto since = w->waiting_since.load();
        if (!w->cut && since >= 0 && now - since > limit && w->fd >= 0) {
          ::shutdown(w->fd, SHUT_RDWR);
          w->cut = true;
        }
      }
    }
  }

  // --- the daemon -----------------------------------------------------------

  MHD_Daemon* start_daemon(int fd) {
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
                     | MHD_ALLOW_SUSPEND_RESUME;
    bool tls = !cfg.transport.tls_cert_pem.empty();
    if (tls)
      flags |= MHD_USE_TLS;
    auto idle = static_cast<unsigned>(std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(
           cfg.transport.idle_timeout)
           .count()));
    // Request line and headers live in the connection's memory pool; room
    // for a target of max_target_bytes and ordinary headers.
    constexpr std::size_t kib = 1024;
    auto pool = std::max(32 * kib, 2 * cfg.max_target_bytes + 16 * kib);
    auto access = +[](void* cls, MHD_Connection* c, const char* url,
                      const char* method, const char*, const char* data,
                      size_t* size, void** ctx) {
      return static_cast<impl*>(cls)->on_call(c, url, method, data, size, ctx);
    };
    auto completed = +[](void* cls, MHD_Connection* c, void** ctx,
                         MHD_RequestTerminationCode) {
      static_cast<impl*>(cls)->on_completed(c, ctx);
    };
    auto notify = +[](void* cls, MHD_Connection* c, void** socket_ctx,
                      MHD_ConnectionNotificationCode what) {
      static_cast<impl*>(cls)->on_connection(c, socket_ctx, what);
    };
    std::vector<MHD_OptionItem> opts{
      {MHD_OPTION_LISTEN_SOCKET, fd, nullptr},
      {MHD_OPTION_THREAD_POOL_SIZE, std::max(1, cfg.io_threads), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, idle, nullptr},
      {MHD_OPTION_UNESCAPE_CALLBACK,
       reinterpret_cast<intptr_t>(&unescape_keeping_nul), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, std::max(1, cfg.transport.max_connections),
       nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT,
       std::max(0, cfg.transport.max_connections_per_address), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(pool),
       nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(completed),
       this},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(notify), this},
    };
    if (tls) {
      opts.push_back(
        {MHD_OPTION_HTTPS_MEM_CERT, 0, cfg.transport.tls_cert_pem.data()});
      opts.push_back(
        {MHD_OPTION_HTTPS_MEM_KEY, 0, cfg.transport.tls_key_pem.data()});
    }
    opts.push_back({MHD_OPTION_END, 0, nullptr});
    return MHD_start_daemon(flags, 0, nullptr, nullptr, access, this,
                            MHD_OPTION_ARRAY, opts.data(), MHD_OPTION_END);
  }

  int start() {
    std::lock_guard guard{lifecycle};
    if (started)
      throw std::logic_error("http_server::start called twice");
    if (cfg.transport.tls_cert_pem.empty() != cfg.transport.tls_key_pem.empty())
      throw std::runtime_error(cfg.name
                               + ": TLS needs both a certificate and a key");
    int fd = listen_socket(cfg);
    int port = bound_port(fd);
    workers = std::make_unique<worker_pool>(cfg.threads);
    daemon = start_daemon(fd);
    if (!daemon) {
      ::close(fd);
      workers.reset();
      throw std::runtime_error(
        cfg.name + " cannot serve on " + cfg.bind_address + ":"
        + std::to_string(port)
        + (cfg.transport.tls_cert_pem.empty()
             ? std::string{}
             : " (is the TLS certificate/key pair valid?)"));
    }
    reaper_stop = false;
    stopping = false;
    reaper = std::thread([this] { reap(); });
    started = true;
    return port;
  }

  void stop() {
    std::lock_guard guard{lifecycle};
    if (!daemon)
      return;
    // No new connections, no new jobs; the running jobs finish and resume
    // their connections: MHD must not stop with one still suspended.
    int fd = MHD_quiesce_daemon(daemon);
    stopping = true;
    while (in_flight > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    MHD_stop_daemon(daemon);
    daemon = nullptr;
    workers.reset();
    if (fd >= 0)
      ::close(fd);
    {
      std::lock_guard watch_guard{watch_mtx};
      reaper_stop = true;
    }
    reaper_cv.notify_all();
    reaper.join();
  }
};

http_server::http_server(http_server_config cfg, http_handler& handler)
    : impl_(std::make_unique<impl>(std::move(cfg), handler)) {}

http_server::~http_server() {
  stop();
}

int http_server::start() {
  return impl_->start();
}

void http_server::stop() {
  impl_->stop();
}

} // namespace fogbow
