// Domain types of a Fogbow manager: orders, instances, flavors, quotas.
// Plain C++ on purpose: no CAF, no Qt, no JSON library, so every rule about
// orders can be unit-tested without an actor system.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow {

/// Milliseconds since the Unix epoch (UTC). One integer type for every
/// timestamp keeps SQLite columns, JSON and timers exact and comparable.
using millis = std::int64_t;

/// Wall-clock now, in milliseconds since the epoch.
millis now_millis();

/// Parses ISO-8601 date-times: `2026-11-25T10:00:00Z`, with optional
/// fractional seconds and `Z`/`+hh:mm`/`-hh:mm` offset. A date alone is
/// rejected (the Java Fogbow accepted it and then never served the order).
std::optional<millis> parse_iso8601(std::string_view text);

/// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string format_iso8601(millis t);

enum class order_state : std::uint8_t {
  open,      ///< waiting for a place
  spawning,  ///< instance being created
  pending,   ///< forwarded, waiting for a remote member
  fulfilled, ///< instance exists
  failed,    ///< could not be served and will not be retried
  closed,    ///< done: validity over or one-time instance gone
  deleted,   ///< the user deleted it; its instance is being removed
};

enum class order_type : std::uint8_t { one_time, persistent };

enum class resource_kind : std::uint8_t { compute, volume, network };

std::string_view to_string(order_state x);
std::string_view to_string(order_type x);
std::string_view to_string(resource_kind x);
std::optional<order_state> parse_order_state(std::string_view text);
std::optional<order_type> parse_order_type(std::string_view text);
std::optional<resource_kind> parse_resource_kind(std::string_view text);

/// True for states an order never leaves by itself.
bool is_terminal(order_state x);

/// One order of one user. Every attribute has its own field (and its own
/// column in the store): nothing is kept in a lossy string map.
struct order {
  std::string id;       ///< UUID
  std::string batch_id; ///< shared by the `count` orders of one request
  std::string user_id;  ///< owner, as the identity plugin names it
  std::string user_name;
  resource_kind kind = resource_kind::compute;
  order_type type = order_type::one_time;
  order_state state = order_state::open;

  // Compute: minimum size asked for; the driver picks the smallest flavor
  // that satisfies these and `requirements`.
  int vcpu = 1;
  int memory_mb = 0;
  int disk_gb = 0;
  std::string image;
  std::string requirements; ///< Glue2 expression, empty = anything
  std::string public_key;
  std::string user_data; ///< shell script / cloud-init text, run on boot

  // Volume
  int size_gb = 0;

  // Network
  std::string network_cidr;
  std::string network_gateway;
  std::string network_allocation; ///< "dynamic" or "static"

  std::optional<millis> valid_from;
  std::optional<millis> valid_until;

  std::string instance_id; ///< global id `<local id>@<member id>`, or empty
  std::string requesting_member;
  std::string providing_member;

  millis created_at = 0;
  millis updated_at = 0;
  millis fulfilled_at = 0;
  std::string last_error; ///< why it is not (or no longer) served
  int attempts = 0;       ///< placement attempts since it last became open

  friend bool operator==(const order&, const order&) = default;
};

/// True when `now` lies inside the order's validity window.
bool is_valid_at(const order& o, millis now);

/// True when the validity window is over.
bool is_expired_at(const order& o, millis now);

/// A size a cloud offers. `-1` in a dimension means "not specified".
struct flavor {
  std::string name;
  int vcpu = 0;
  int memory_mb = 0;
  int disk_gb = 0;
  friend bool operator==(const flavor&, const flavor&) = default;
};

enum class instance_state : std::uint8_t {
  spawning, ///< being created
  running,  ///< up
  failed,   ///< crashed or could not boot
  lost,     ///< the cloud does not know it (anymore)
};

std::string_view to_string(instance_state x);
std::optional<instance_state> parse_instance_state(std::string_view text);

/// What a manager asks a cloud driver to create for one order.
struct instance_spec {
  std::string order_id; ///< idempotency key: a driver creates at most one
                        ///< instance per order id
  std::string requirements; ///< full expression (user's, AND sizes)
  std::string member_id;    ///< bound to Glue2CloudComputeManagerID
  std::string image;
  std::string user_data;
  std::string public_key;
  /// The member whose user asked (this member for local users); drivers
  /// map it to cloud credentials (openstack: the mapper plugin).
  std::string requesting_member;
};

/// An instance as a cloud driver reports it.
struct instance {
  std::string id; ///< the cloud's local id
  std::string order_id;
  instance_state state = instance_state::spawning;
  flavor size;
  std::string image;
  std::string ip;
  millis created_at = 0;
  std::string fault; ///< why it failed
  friend bool operator==(const instance&, const instance&) = default;
};

/// Capacity of a cloud and what of it is used.
struct cloud_resources {
  int vcpu_total = 0;
  int vcpu_used = 0;
  int memory_mb_total = 0;
  int memory_mb_used = 0;
  int instances_total = 0;
  int instances_used = 0;
  friend bool operator==(const cloud_resources&,
                         const cloud_resources&) = default;
};

/// `GET /v1/members/{id}/quota`: the cloud's totals and use, plus the share
/// of the asking user.
struct quota_report {
  std::string member_id;
  cloud_resources cloud;
  int user_vcpu = 0;
  int user_memory_mb = 0;
  int user_instances = 0;
};

/// A member of the federation as this manager knows it.
struct member_info {
  std::string id;
  bool alive = true;
  millis last_seen = 0;
  bool is_self = false;
};

/// `GET /v1/status`.
struct status_report {
  std::string member_id;
  std::vector<std::pair<std::string, int>> orders_by_state;
  int instances = 0;
  millis started_at = 0;
};

/// Global instance id helpers: `<local id>@<member id>`.
std::string global_instance_id(std::string_view local_id,
                               std::string_view member_id);
/// Splits at the last '@'; nullopt when there is none.
std::optional<std::pair<std::string, std::string>>
split_instance_id(std::string_view global_id);

/// A random RFC 4122 version-4 UUID.
std::string make_uuid();

} // namespace fogbow
