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

/// What an order asks for. An attachment joins a volume to a compute
/// instance of the same user (both served by this member).
enum class resource_kind : std::uint8_t {
  compute,
  volume,
  network,
  attachment
};

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

  // Attachment: the compute and the volume, each named by its order id or
  // its global instance id (resolved when the attachment is placed).
  std::string attach_compute;
  std::string attach_volume;
  std::string attach_device; ///< e.g. "/dev/vdb"; empty: the cloud chooses

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
  /// Members this order was offered to (remote placement), so that each of
  /// them hears when the order is served elsewhere or deleted.
  std::vector<std::string> offered_to;

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
  unknown,  ///< its state cannot be told now (e.g. its member is unreachable)
};

std::string_view to_string(instance_state x);
std::optional<instance_state> parse_instance_state(std::string_view text);

/// What a manager asks a cloud driver to create for one order.
struct instance_spec {
  std::string order_id; ///< idempotency key: a driver creates at most one
                        ///< instance per order id
  resource_kind kind = resource_kind::compute;
  std::string requirements; ///< full expression (user's, AND sizes)
  std::string member_id;    ///< bound to Glue2CloudComputeManagerID
  std::string image;
  std::string user_data;
  std::string public_key;
  /// The member whose user asked (this member for local users); drivers
  /// map it to cloud credentials (openstack: the mapper plugin).
  std::string requesting_member;

  int size_gb = 0;                ///< volume
  std::string network_cidr;       ///< network
  std::string network_gateway;    ///< network; empty: the cloud chooses
  std::string network_allocation; ///< network: "dynamic" (DHCP) or "static"
  std::string server_id; ///< attachment: local id of the compute instance
  std::string volume_id; ///< attachment: local id of the volume
  std::string device;    ///< attachment: wished device, may be empty
};

/// An instance as a cloud driver reports it: a server, a volume, a network
/// or an attachment. `running` means usable: a server is up, a volume is
/// available (or in use), a network is active, a volume is attached.
struct instance {
  std::string id; ///< the cloud's local id
  std::string order_id;
  resource_kind kind = resource_kind::compute;
  instance_state state = instance_state::spawning;
  flavor size;                 ///< compute
  std::string image;           ///< compute
  std::string ip;              ///< compute
  int size_gb = 0;             ///< volume
  std::string network_cidr;    ///< network
  std::string network_gateway; ///< network
  std::string server_id;       ///< attachment (local id); volume: attached to
  std::string volume_id;       ///< attachment (local id)
  std::string device;          ///< attachment: the device the cloud reports
  millis created_at = 0;
  std::string fault;              ///< why it failed
  std::string ssh_public_address; ///< compute: "host:port" through a tunnel
  /// compute: other published services, (name, "host:port"), names unique
  std::vector<std::pair<std::string, std::string>> extra_ports;
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
/// How many orders of one kind are in one state.
struct order_count {
  resource_kind kind = resource_kind::compute;
  order_state state = order_state::open;
  int count = 0;
};

struct status_report {
  std::string member_id;
  /// Every (kind, state) pair, zeros included.
  std::vector<order_count> orders;
  int instances = 0;
  millis started_at = 0;
};

/// Global instance id helpers: `<local id>@<member id>`.
std::string global_instance_id(std::string_view local_id,
                               std::string_view member_id);
/// Splits at the first '@' (a member id is a bare JID and holds one
/// itself); nullopt when there is none.
std::optional<std::pair<std::string, std::string>>
split_instance_id(std::string_view global_id);
/// The local id of `global_id` when it names an instance of `member_id`
/// (`<local id>@<member_id>`, local id not empty); nullopt otherwise.
std::optional<std::string> local_instance_id(std::string_view global_id,
                                             std::string_view member_id);

/// Local id of an attachment: `<server id>:<volume id>` (a volume is
/// attached to one server at a time, so the pair names the attachment in
/// every cloud, including Nova before microversion 2.89).
std::string attachment_local_id(std::string_view server_id,
                                std::string_view volume_id);
/// Splits an attachment's local id; nullopt when it is not one.
std::optional<std::pair<std::string, std::string>>
split_attachment_id(std::string_view local_id);

/// A random RFC 4122 version-4 UUID.
std::string make_uuid();

} // namespace fogbow
