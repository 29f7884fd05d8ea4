// The OpenStack REST API as the `openstack` driver uses it: Keystone v3
// password tokens scoped to a project (cached, renewed before they expire
// and once on a 401), endpoints from the token's service catalog (with
// per-service overrides), Nova servers/limits and Glance images.
//
// Plain C++ (no CAF): every call BLOCKS on HTTP, so only the driver's worker
// actors (detached threads) call into this. All public member functions of
// keystone_session and openstack_cloud are thread-safe.
//
// Every HTTP failure becomes a cloud_failure (domain/errors.hpp)
// with an errc and the cloud's own message:
//   401 → unauthorized, 403 or 409 "Quota exceeded" (Nova, Neutron) and
//   413 (Cinder) → no_capacity, 404 → not_found, 400 → invalid_argument,
//   other 409 → conflict,
//   anything else (5xx, unreachable, unparsable) → cloud_error.
#pragma once

#include "domain/errors.hpp"
#include "domain/order.hpp"
#include "net/http_client.hpp"

#include <nlohmann/json_fwd.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow {

/// One OpenStack account: a user and the project its tokens are scoped to.
struct openstack_account {
  std::string username;
  std::string password;
  std::string user_domain = "Default";    ///< domain name of the user
  std::string project_name;               ///< project by name …
  std::string project_id;                 ///< … or by id (wins when set)
  std::string project_domain = "Default"; ///< domain name of the project
  friend bool operator==(const openstack_account&,
                         const openstack_account&) = default;
};

/// Where and how to talk to one OpenStack.
struct openstack_endpoint_config {
  std::string auth_url = "http://127.0.0.1:5000/v3"; ///< Keystone v3
  std::string region;                                ///< empty: any region
  std::string interface = "public";                  ///< catalog interface
  /// service type ("compute", "image", …) → base URL used instead of the
  /// catalog's (e.g. when the catalog names hosts unreachable from here).
  std::map<std::string, std::string> overrides;
  std::int64_t request_timeout_ms = 30000;
  /// Renew a token this long before Keystone says it expires (capped at
  /// 98 % of the token's lifetime).
  std::int64_t renew_before_ms = 60000;
  bool verify_tls = true;
};

// JSON helpers shared by the OpenStack API files (compute, volumes,
// networks): the clouds' bodies are read leniently, a missing or mistyped
// field gives the fallback.
std::string to_lower(std::string_view s);
int json_int_or(const nlohmann::json& j, const char* key, int fallback);
std::string json_string_or(const nlohmann::json& j, const char* key,
                           std::string fallback = {});
/// The body as a JSON object; cloud_failure(cloud_error) naming `what`
/// when it is not one.
nlohmann::json parse_json_object(std::string_view body, std::string_view what);
/// One quota in the `limits.absolute` object of a Nova or Cinder
/// `GET /limits` answer: the keys of its limit and of its use, and where
/// they go (a missing limit reads -1, unlimited; a missing use 0).
struct absolute_limit {
  const char* total_key;
  const char* used_key;
  int& total;
  int& used;
};
/// Reads `limits` from a `GET /limits` answer; cloud_failure(cloud_error)
/// naming `what` when the answer has no `limits.absolute` object.
void parse_absolute_limits(std::string_view body, std::string_view what,
                           std::initializer_list<absolute_limit> limits);
/// Nova, Cinder, Neutron and Keystone timestamps, with or without a zone
/// (no zone = UTC) and with any number of fraction digits; 0 if unparsable.
millis parse_cloud_time(const std::string& text);

/// The message the cloud put into an error body: the `message` of
/// `{"<kind>": {"message": …}}` (Nova, Glance) or `{"error": {"message": …}}`
/// (Keystone), else the body's text, shortened.
std::string cloud_message(std::string_view body);

/// Turns a non-2xx answer into a typed failure; `what` names the call,
/// e.g. "create server". Never returns.
[[noreturn]] void throw_http_failure(const http_result& r,
                                     std::string_view what);

/// The error code for an HTTP status and the cloud's message.
errc classify_http_error(int status, std::string_view message);

/// True for the scheduler faults that mean "no hypervisor has room".
bool is_no_valid_host(std::string_view fault);

/// A parsed Keystone token (from POST /v3/auth/tokens).
struct keystone_token {
  std::string value; ///< the X-Subject-Token header
  millis expires_at = 0;
  millis issued_at = 0;
  std::string user_id;
  std::string user_name;
  std::string project_id;
  /// service type → URL of the chosen interface/region.
  std::map<std::string, std::string> endpoints;
};

/// Parses the body of a token response (creation or validation). Throws
/// cloud_failure(cloud_error) when it is not a token.
keystone_token parse_token(std::string_view body, const std::string& interface,
                           const std::string& region);

/// The JSON body of a password authentication scoped to the project.
std::string password_auth_body(const openstack_account& account);

/// Nova server status → instance state. Unknown statuses count as
/// spawning (they are transitional: REBUILD, MIGRATING, …); DELETED and
/// SOFT_DELETED are lost.
instance_state map_server_status(std::string_view status);

/// A Nova server (microversion >= 2.47, flavor inline) as an instance;
/// `order_id` comes from the server's fogbow metadata.
instance server_to_instance(const nlohmann::json& server);

/// `GET /limits` → capacity and use. -1 (unlimited) stays -1.
cloud_resources parse_limits(std::string_view body);

/// A Nova flavor: its id (for flavorRef) and its size.
struct nova_flavor {
  std::string id;
  flavor size;
};

/// `GET /flavors/detail` → flavors (disabled ones skipped).
std::vector<nova_flavor> parse_flavors(std::string_view body);

/// Keystone password authentication for one account, with the token and
/// catalog cached. token() authenticates only when there is no token or
/// it is about to expire, under a lock: concurrent callers share one
/// token request.
class keystone_session {
public:
  keystone_session(openstack_endpoint_config cfg, openstack_account account);

  /// A token that is valid for a while yet.
  keystone_token token();

  /// Drops the cached token if it is still `value` (after a 401).
  void invalidate(const std::string& value);

  /// Base URL of a service type: the override, else the catalog's.
  std::string endpoint(const std::string& service_type);

  /// True when there is an override or a catalog entry for the type.
  bool has_endpoint(const std::string& service_type);

  /// An authenticated call to a service; on a 401 it re-authenticates and
  /// retries once. `path` is appended to the service's base URL.
  http_result
  call(const std::string& service_type, const std::string& method,
       const std::string& path, const std::string& body = {},
       const std::vector<std::pair<std::string, std::string>>& headers = {});

  /// How many token requests Keystone has answered so far (any status).
  std::uint64_t token_requests() const { return token_requests_.load(); }

  const openstack_account& account() const { return account_; }

  const openstack_endpoint_config& config() const { return cfg_; }

  /// Human-readable name: "user@project".
  std::string describe() const;

private:
  keystone_token authenticate(); // with mtx_ held

  openstack_endpoint_config cfg_;
  openstack_account account_;
  std::mutex mtx_;
  std::optional<keystone_token> token_;
  std::atomic<std::uint64_t> token_requests_{0};
};

/// Compute (Nova) and image (Glance) operations of one account. Servers
/// created here are named "fogbow-<order id>" and carry the metadata
/// fogbow-order-id and fogbow-member; list() returns only servers with
/// this member's metadata, so servers created by anyone else are never
/// touched. An order's public_key is imported as the keypair
/// "fogbow-<order id>" and given to the server as its key_name.
class openstack_cloud {
public:
  openstack_cloud(std::shared_ptr<keystone_session> session,
                  std::string member_id, std::string network_id,
                  std::string default_image);

  /// Flavors, cached for a minute.
  std::vector<nova_flavor> flavors();

  /// The id of an image given by id or by name (Glance v2).
  std::string image_id(const std::string& name_or_id);

  /// POST /servers; returns the new server's id.
  std::string create_server(const instance_spec& spec, const nova_flavor& f);

  /// GET /servers/{id}; nullopt when Nova says 404.
  std::optional<instance> get_server(const std::string& id);

  /// Every fogbow server of this member in the account's project.
  std::vector<instance> list_servers();

  /// DELETE /servers/{id}. Throws not_found when it does not exist.
  void delete_server(const std::string& id);

  /// Removes the keypair "fogbow-<order id>" made for an order's public
  /// key (best effort, never throws).
  void delete_keypair(const std::string& order_id) noexcept;

  /// GET /limits.
  cloud_resources limits();

  keystone_session& session() { return *session_; }

private:
  std::shared_ptr<keystone_session> session_;
  std::string member_id_;
  std::string network_id_;
  std::string default_image_;
  std::mutex mtx_;
  std::vector<nova_flavor> flavors_;
  millis flavors_at_ = 0;
  std::map<std::string, std::string> images_;
};

} // namespace fogbow
