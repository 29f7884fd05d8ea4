// The user's command-line client: `fogbow <noun> <verb> ...` speaks the
// manager's REST API. Formatting and request building are pure functions so
// they can be tested without a server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fogbow::cli {

/// True when `first_arg` names a client command (order, compute, member,
/// quota, login), so main() hands argv to run_client instead of starting
/// roles.
bool is_client_command(std::string_view first_arg);

/// Runs one client command; argv[0] is the program, argv[1] the noun.
/// Exit codes: 0 ok, 1 the server refused, 2 usage error, 3 no connection.
int run_client(int argc, char** argv);

/// What `order create` was given; whatever is unset stays out of the body,
/// so the server's defaults apply.
struct order_create_options {
  std::string kind;
  std::optional<int> count;
  std::optional<std::string> type;
  std::optional<int> vcpu;
  std::optional<int> memory_mb;
  std::optional<int> disk_gb;
  std::optional<std::string> image;
  std::optional<std::string> requirements;
  std::optional<std::string> public_key; ///< the file's content
  std::optional<std::string> user_data;  ///< the file's content
  std::optional<std::string> valid_from;
  std::optional<std::string> valid_until;
  std::optional<int> size_gb;
  std::optional<std::string> network_cidr;
  std::optional<std::string> network_gateway;
  std::optional<std::string> network_allocation;
  std::optional<std::string> compute; ///< attachment
  std::optional<std::string> volume;  ///< attachment
  std::optional<std::string> device;  ///< attachment
};

/// The body of `POST /v1/orders`: `kind` plus exactly the options given.
nlohmann::json build_order_body(const order_create_options& opts);

/// A JSON value as a table cell: null (and a zero timestamp) as "-",
/// strings unquoted, timestamps given in milliseconds as ISO-8601.
std::string format_cell(const nlohmann::json& value, std::string_view key);

/// Left-aligned columns separated by two spaces, header first.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

/// Columns ID STATE TYPE KIND INSTANCE CREATED for an array of orders.
std::string format_orders_table(const nlohmann::json& orders);

/// Columns ID STATE VCPU MEMORY IP ORDER for an array of computes.
std::string format_computes_table(const nlohmann::json& computes);

/// `fogbow volume|network|attachment list`: one row per instance.
std::string format_instances_table(std::string_view kind,
                                   const nlohmann::json& instances);

/// Columns ID ALIVE LAST-SEEN SELF for an array of members, then
/// CONSUMED DONATED (vCPU·minutes) DEBT when the manager keeps accounts.
std::string format_members_table(const nlohmann::json& members);

/// `fogbow member usage`: a line naming the member and whose usage, then
/// MEMBER DIRECTION VCPU-MIN MEMORY-MB-MIN VOLUME-GB-MIN with the local use
/// first, then what was consumed from and donated to each other member.
std::string format_usage_table(const nlohmann::json& usage);

/// RESOURCE TOTAL IN-USE YOURS for one quota report, under a line naming
/// the member.
std::string format_quota_table(const nlohmann::json& quota);

/// One aligned `key: value` line per field of `object`: the keys listed in
/// `order` first, in that order, then the others alphabetically.
std::string format_key_values(const nlohmann::json& object,
                              const std::vector<std::string>& order = {});

/// The field order of `order show` and `compute show`.
const std::vector<std::string>& order_fields();
const std::vector<std::string>& compute_fields();

/// The path of the page after `answer`, a page of a list got from
/// `current`: its `links` entry with rel "next"; empty when there is none,
/// when it leaves the API (not under /v1/) or when it repeats `current`.
std::string next_page_path(const nlohmann::json& answer,
                           const std::string& current);

/// The line printed to stderr for an HTTP error answer (status >= 400).
std::string format_http_error(int status, std::string_view body);

} // namespace fogbow::cli
