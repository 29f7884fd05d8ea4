// JSON of the REST API: domain values to JSON, and the validation of
// `POST /v1/orders` bodies. Kept apart from the server so every rule about
// request bodies is unit-tested without sockets or actors.
#pragma once

#include "domain/order.hpp"
#include "domain/usage.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fogbow {

/// What a request may ask for.
struct order_limits {
  int max_count = 100; ///< orders per POST
  /// Judges "valid_until is already in the past"; tests replace it.
  std::function<millis()> clock = now_millis;
};

/// A validated `POST /v1/orders`: the template of `count` orders. Only the
/// fields a user may set are filled in; the owner is the caller's business.
struct order_request {
  order prototype;
  std::int32_t count = 1;
};

/// An error answer: HTTP status, a stable machine-readable code and a
/// message for people that names the offending field.
struct api_error {
  int http_status = 400;
  std::string code;
  std::string message;
};

/// Validates a `POST /v1/orders` body. Fields: `kind` (compute|volume|
/// network, required), `count` (1..max_count), `type` (one-time|persistent),
/// `requirements` (Glue2 expression), `valid_from`/`valid_until` (ISO-8601
/// with zone); compute: `vcpu` (1..1024), `memory_mb`, `disk_gb`, `image`,
/// `public_key` (<= 16 KiB), `user_data` (script text, <= 64 KiB); volume:
/// `size_gb` (1..65536, required); network: `network_cidr` (IPv4, required),
/// `network_gateway`, `network_allocation` (dynamic|static). Unknown
/// fields, fields of another kind, duplicate fields and wrong JSON types
/// (null included) are refused with 400, never ignored or coerced.
std::variant<order_request, api_error>
parse_order_request(std::string_view body, const order_limits& limits);

/// A `POST /v1/tokens` body: `{"user": "...", "password": "..."}`, both
/// strings, nothing else. Error messages never repeat the password.
struct login_request {
  std::string user;
  std::string password;
};
std::variant<login_request, api_error>
parse_login_request(std::string_view body);

nlohmann::json order_to_json(const order& o);

/// An instance as `GET /v1/computes` shows it; `x.id` is the global id.
nlohmann::json instance_to_json(const instance& x);

nlohmann::json member_to_json(const member_info& m);

nlohmann::json quota_to_json(const quota_report& q);

/// `{"vcpu_minutes":…,"memory_mb_minutes":…,"volume_gb_minutes":…}`.
nlohmann::json usage_amount_to_json(const usage_amount& a);

/// `GET /v1/usage` of member `self`: `rows` (already restricted to what the
/// caller may see) summed as `local` (requested and provided here) and,
/// per other member, `consumed` (our users on its cloud) and `donated` (its
/// users on ours), plus the rows themselves. `user`: whose usage ("*":
/// everyone's). `members` lists `only` (even without any use) when given,
/// else every member in `rows`.
nlohmann::json usage_to_json(const std::vector<usage_record>& rows,
                             std::string_view self, std::string_view user,
                             const std::string* only = nullptr);

/// `GET /v1/status`; uptime is measured from `s.started_at` to `now`.
nlohmann::json status_to_json(const status_report& s, std::string_view version,
                              const std::vector<std::string>& roles,
                              millis now);

/// `{"error":{"code":...,"message":...}}`.
nlohmann::json error_to_json(const api_error& e);

/// Serializes for a response body. Strings that are not valid UTF-8 (a
/// cloud's fault text, say) are repaired with U+FFFD instead of throwing.
std::string dump_json(const nlohmann::json& j);

} // namespace fogbow
