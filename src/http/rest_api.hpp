// The REST API of a manager (`/v1/...`, JSON, `X-Auth-Token`). Each request
// becomes one typed request to the order scheduler with a timeout; the
// server holds no state of its own. CAF's blocking API stays in
// rest_api.cpp; the transport is http_server.
#pragma once

#include "actors/actors.hpp"
#include "auth/authorization.hpp"
#include "auth/identity.hpp"
#include "http/http_server.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fogbow {

struct rest_api_config {
  std::string bind_address = "127.0.0.1";
  int port = 0;        ///< 0: any free port (start() tells which)
  int max_count = 100; ///< orders per POST
  /// The largest `limit` a list request may ask for (and its default when
  /// smaller than default_page_limit).
  std::int32_t max_page_size = default_page_limit;
  /// How long a request waits for the scheduler before answering 504.
  std::chrono::milliseconds actor_timeout{5000};
  size_t max_body_bytes = 1 << 20;
  int threads = 8;           ///< concurrent requests
  int listen_backlog = 1024; ///< connections queued before accept
  /// Deadlines, connection limits and TLS.
  http_transport_config transport;
  std::vector<std::string> roles; ///< shown by GET /v1/status
  std::string member_id;          ///< this manager's (GET /v1/usage)
  /// When set, GET /v1/computes adds `ssh_public_address` and
  /// `extra_ports` read from the tunnel (null/{} when it has none).
  tunnel_client_actor tunnel;
  /// When set (federation configured), GET /v1/members asks this actor
  /// instead of the order scheduler.
  member_registry_actor members;
  /// When set, GET /v1/usage answers and GET /v1/members adds what passed
  /// between this member and each other one, with the NoF debt (`nof`).
  accounting_actor accounting;
  std::vector<std::string> usage_admins; ///< may see every user's usage
  fed::nof_settings nof;
  /// The web dashboard's files, served at / and /dashboard/... without a
  /// token; empty: those paths answer 404.
  std::string dashboard_dir;
  bool metrics = true; ///< GET /metrics; false: 404
};

class rest_api {
public:
  rest_api(caf::actor_system& sys, order_scheduler_actor scheduler,
           std::shared_ptr<const identity_plugin> identity,
           std::shared_ptr<const authorization_plugin> authorization,
           rest_api_config cfg);
  ~rest_api(); ///< calls stop()

  rest_api(const rest_api&) = delete;
  rest_api& operator=(const rest_api&) = delete;

  /// Binds and serves on a thread of its own; returns the bound port.
  /// Throws std::runtime_error when the address cannot be bound and
  /// std::logic_error when called a second time.
  int start();

  /// Stops accepting, lets running requests finish and joins. Idempotent.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace fogbow
