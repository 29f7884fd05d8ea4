// libFuzzer target: a `POST /v1/orders` body as any client may send it.
// parse_order_request must answer every input with an order or an
// api_error (never throw), an accepted order must serialize back, and an
// accepted compute order's requirements combined with its sizes (what the
// driver evaluates) must parse.
#include "http/json_codec.hpp"

#include "domain/requirements.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  fogbow::order_limits limits;
  limits.max_count = 3;
  // A fixed clock keeps runs reproducible (valid_until is compared to it).
  limits.clock = [] { return fogbow::millis{1'780'000'000'000}; };
  std::string_view body{reinterpret_cast<const char*>(data), size};
  auto parsed = fogbow::parse_order_request(body, limits);
  if (auto* req = std::get_if<fogbow::order_request>(&parsed)) {
    if (req->count < 1 || req->count > limits.max_count)
      std::abort();
    const auto& o = req->prototype;
    if (fogbow::dump_json(fogbow::order_to_json(o)).empty())
      std::abort();
    namespace rq = fogbow::requirements;
    auto combined = rq::combine(o.requirements, o.vcpu, o.memory_mb, o.disk_gb);
    if (o.kind == fogbow::resource_kind::compute
        && !std::holds_alternative<rq::expression>(rq::parse(combined)))
      std::abort();
  } else {
    auto& err = std::get<fogbow::api_error>(parsed);
    (void)fogbow::dump_json(fogbow::error_to_json(err));
  }
  return 0;
}
