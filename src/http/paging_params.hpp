// The query parameters of the REST API's list endpoints (`limit`,
// `marker`, `state`, `kind`) and the link to a list's next page. Free of
// any HTTP library: the server hands in a lookup of query parameters.
#pragma once

#include "domain/paging.hpp"
#include "http/json_codec.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace fogbow {

/// The value of a query parameter, nullopt when the request has none.
using query_lookup =
  std::function<std::optional<std::string>(std::string_view name)>;

/// What a list endpoint filters by.
enum class list_filters {
  none,      ///< GET /v1/members: paging only
  orders,    ///< GET /v1/orders: `state` (order state) and `kind`
  instances, ///< GET /v1/computes...: `state` (instance state; `ready` too)
};

/// Reads `limit` (1..max_limit, default min(default_page_limit,
/// max_limit)), `marker` (non-empty, at most 256 bytes) and the filters of
/// `filters`. Anything else in the query is ignored, as OpenStack does.
/// Bad values give a 400 `invalid_argument` naming the parameter.
std::variant<page_query, api_error> parse_page_query(const query_lookup& param,
                                                     list_filters filters,
                                                     std::int32_t max_limit);

/// The href of the page after the one that ended with `last_id`:
/// `path?limit=N&marker=ID` plus the filters of `q`, values
/// percent-encoded.
std::string next_page_href(std::string_view path, const page_query& q,
                           std::string_view last_id);

/// `[{"rel":"next","href":...}]` when `more`, else `[]`.
nlohmann::json page_links(std::string_view path, const page_query& q, bool more,
                          std::string_view last_id);

} // namespace fogbow
