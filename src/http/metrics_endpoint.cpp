#include "http/metrics_endpoint.hpp"

#include "metrics/metrics.hpp"

#include <string>
#include <utility>

namespace fogbow {

http_response metrics_response(std::string_view method) {
  http_response res;
  if (method != "GET" && method != "HEAD") {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content(std::string{method}
                      + " is not allowed here; allowed: "
                        "GET, HEAD\n",
                    "text/plain; charset=utf-8");
    return res;
  }
  res.set_content(metrics::scrape(), std::string{metrics::content_type});
  return res;
}

class metrics_server::handler : public http_handler {
public:
  std::optional<http_response> admit(http_request& req) override {
    if (req.path == metrics_path)
      return std::nullopt;
    return error_response(404);
  }

  bool admit_may_block(const http_request&) const override { return false; }

  http_response serve(http_request& req) override {
    return metrics_response(req.method);
  }

  http_response error_response(int status) override {
    http_response res;
    res.status = status;
    res.set_content(status == 404 ? "only " + std::string{metrics_path}
                                      + " is served here\n"
                                  : "request refused\n",
                    "text/plain; charset=utf-8");
    res.close = status != 404;
    return res;
  }
};

namespace {

http_server_config metrics_server_config(std::string bind_address, int port,
                                         http_transport_config transport) {
  http_server_config out;
  out.bind_address = std::move(bind_address);
  out.port = port;
  out.threads = 2;
  out.io_threads = 1;
  out.max_body_bytes = 0;
  out.transport = std::move(transport);
  out.name = "metrics server";
  out.metrics_label = "metrics";
  return out;
}

} // namespace

metrics_server::metrics_server(std::string bind_address, int port,
                               http_transport_config transport)
    : handler_(std::make_unique<handler>()),
      server_(metrics_server_config(std::move(bind_address), port,
                                    std::move(transport)),
              *handler_) {}

metrics_server::~metrics_server() {
  stop();
}

int metrics_server::start() {
  return server_.start();
}

void metrics_server::stop() {
  server_.stop();
}

} // namespace fogbow
