// The HTTP server of the REST API and of the tunnel API: our own small
// request/response types over libmicrohttpd, which stays inside
// http_server.cpp.
//
// What it guarantees to a handler, so that no stranger can make the process
// read or keep more than a few bytes:
// - the handler sees a request when its headers are complete and decides
//   (routing, authentication, Content-Type) before any byte of the body is
//   accepted (admit());
// - a body it accepts is bounded by max_body_bytes, counted on the bytes
//   that arrive whatever the framing (Content-Length or chunked); a
//   Content-Encoding other than identity is refused (415), so nothing is
//   ever inflated;
// - headers must be complete within header_timeout of the connection (or of
//   the previous answer on a kept-alive one); a connection silent for
//   idle_timeout is closed;
// - at most max_connections connections, max_connections_per_address from
//   one address; more are closed as soon as they are accepted;
// - connections are served by a few polling threads (epoll): a slow client
//   holds a socket, never a thread. Handlers run on a pool of `threads`
//   workers and may block (actor requests, identity look-ups).
// - with tls_cert_pem/tls_key_pem set, HTTPS only.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fogbow {

using http_fields = std::vector<std::pair<std::string, std::string>>;

/// One request, as far as it has arrived.
struct http_request {
  std::string method; ///< as sent, e.g. "GET"
  std::string path;   ///< percent-decoded, without the query
  http_fields query;  ///< decoded query arguments, in order
  http_fields headers;
  std::string remote_address; ///< the peer's IP address
  /// The framing announces a body (chunked, or a Content-Length above 0).
  bool has_body = false;
  std::string body; ///< complete when serve() is called; empty in admit()
  /// What admit() wants serve() to know (the route, the caller, ...).
  std::any context;

  /// The first header named `name` (any case), or "".
  std::string header(std::string_view name) const;
  /// How many headers are named `name` (any case).
  std::size_t header_count(std::string_view name) const;
  bool has_header(std::string_view name) const {
    return header_count(name) > 0;
  }
  /// The first query argument named `name` (exact case), if any.
  std::optional<std::string> query_value(std::string_view name) const;
};

struct http_response {
  int status = 200;
  http_fields headers;
  std::string body;
  /// Close the connection after this answer.
  bool close = false;

  /// Sets (replaces) a header.
  void set_header(std::string name, std::string value);
  /// Sets the body and its Content-Type.
  void set_content(std::string content, std::string type);
};

/// What a server does with requests. admit() and serve() run on the
/// server's worker threads and may block (admit() unless admit_may_block()
/// says it does not); error_response() and completed() run on its polling
/// threads and must not.
class http_handler {
public:
  virtual ~http_handler() = default;

  /// Called once the headers of a request are complete, before any byte
  /// of its body is accepted. An answer refuses the request: its body is
  /// then discarded unstored, or the connection closed. nullopt accepts
  /// it, and serve() follows with the body. An exception is a 500.
  virtual std::optional<http_response> admit(http_request& req) = 0;

  /// False when admit(req) for a request with a body neither blocks nor
  /// takes long: it then runs on the polling thread, which spares a hand
  /// over to a worker and back before the body.
  virtual bool admit_may_block(const http_request&) const { return true; }

  /// Answers a request admit() accepted, its body complete. An exception
  /// is a 500.
  virtual http_response serve(http_request& req) = 0;

  /// The answer to a request the server refuses by itself: 400 (malformed,
  /// unknown method or framing), 413 (body over the limit), 414 (target
  /// too long) or 415 (Content-Encoding).
  virtual http_response error_response(int status) = 0;

  /// After an answer was sent (or the connection broke while sending it);
  /// for access logs. `status` 0: no answer was queued.
  virtual void completed(const http_request&, int /*status*/,
                         std::size_t /*body_bytes*/) noexcept {}
};

/// What the REST API and the tunnel API configure alike ([http] and the
/// tunnel's http_* keys).
struct http_transport_config {
  /// From the connection (or the previous answer) to complete headers.
  std::chrono::seconds header_timeout{10};
  /// A connection with no traffic for this long is closed.
  std::chrono::seconds idle_timeout{60};
  int max_connections = 4096;
  int max_connections_per_address = 256; ///< 0: no limit
  std::string tls_cert_pem; ///< PEM text; with tls_key_pem, HTTPS only
  std::string tls_key_pem;
};

struct http_server_config {
  std::string bind_address = "127.0.0.1";
  int port = 0;              ///< 0: any free port (start() tells which)
  int listen_backlog = 1024; ///< connections queued before accept
  int threads = 8;           ///< workers running the handler
  int io_threads = 2;        ///< polling threads (epoll), each many sockets
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_target_bytes = 8192; ///< longer request targets get 414
  http_transport_config transport;
  std::string name = "HTTP server"; ///< for error messages ("REST API")
  /// The `server` label of fogbow_http_responses_total ("rest", "tunnel").
  std::string metrics_label = "http";
};

/// A refused request whose announced body is at most this long is read and
/// discarded, so that a client which sends its whole body before reading
/// gets the answer; longer or endless ones are cut off.
std::size_t discard_limit(std::size_t max_body_bytes);

class http_server {
public:
  /// `handler` must outlive the server.
  http_server(http_server_config cfg, http_handler& handler);
  ~http_server(); ///< calls stop()

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds (SO_REUSEADDR, no SO_REUSEPORT: a second server cannot take the
  /// same port), listens and serves; returns the bound port. Throws
  /// std::runtime_error "<name> cannot listen on ADDRESS:PORT: why" or
  /// "<name>: ..." when TLS or the daemon cannot be set up, and
  /// std::logic_error when called a second time.
  int start();

  /// Stops accepting, lets the handlers running finish, closes every
  /// connection and joins. Idempotent.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A PEM file's text; throws std::runtime_error "<what> FILE: why" when it
/// cannot be read or holds no PEM block.
std::string read_pem_file(const std::string& path, const std::string& what);

} // namespace fogbow
