#include "http/paging_params.hpp"

#include "util/encoding.hpp"

#include <algorithm>
#include <charconv>

namespace fogbow {

namespace {

constexpr std::size_t max_marker_bytes = 256;

api_error bad(std::string message) {
  return {400, "invalid_argument", std::move(message)};
}

// Decimal digits only: "+5", " 5", "5x" and "0x10" are refused, not read.
std::optional<std::int64_t> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 10
      || !std::all_of(text.begin(), text.end(),
                      [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

std::optional<instance_state> parse_shown_instance_state(std::string_view s) {
  // Volumes, networks and attachments show a running instance as "ready".
  if (s == "ready")
    return instance_state::running;
  return parse_instance_state(s);
}

} // namespace

std::variant<page_query, api_error> parse_page_query(const query_lookup& param,
                                                     list_filters filters,
                                                     std::int32_t max_limit) {
  page_query q;
  q.limit = std::min(default_page_limit, max_limit);
  if (auto text = param("limit")) {
    auto n = parse_count(*text);
    if (!n || *n < 1 || *n > max_limit)
      return bad("limit must be a whole number from 1 to "
                 + std::to_string(max_limit));
    q.limit = static_cast<std::int32_t>(*n);
  }
  if (auto marker = param("marker")) {
    if (marker->empty() || marker->size() > max_marker_bytes)
      return bad("marker must be the id of the last item of the previous "
                 "page");
    q.marker = std::move(*marker);
  }
  auto state = param("state");
  if (filters == list_filters::orders) {
    if (state && !(q.state = parse_order_state(*state)))
      return bad("state must be an order state (open, spawning, pending, "
                 "fulfilled, failed, closed, deleted)");
    if (auto kind = param("kind");
        kind && !(q.kind = parse_resource_kind(*kind)))
      return bad("kind must be one of compute, volume, network, attachment");
  } else if (filters == list_filters::instances) {
    if (state && !(q.status = parse_shown_instance_state(*state)))
      return bad("state must be an instance state (spawning, running, ready, "
                 "failed, lost, unknown)");
  }
  return q;
}

std::string next_page_href(std::string_view path, const page_query& q,
                           std::string_view last_id) {
  std::string href{path};
  href += "?limit=" + std::to_string(q.limit);
  href += "&marker=" + percent_encode(last_id, "@:");
  if (q.state)
    href += "&state=" + std::string{to_string(*q.state)};
  if (q.kind)
    href += "&kind=" + std::string{to_string(*q.kind)};
  if (q.status)
    href += "&state=" + std::string{to_string(*q.status)};
  return href;
}

nlohmann::json page_links(std::string_view path, const page_query& q, bool more,
                          std::string_view last_id) {
  auto links = nlohmann::json::array();
  if (more)
    links.push_back(
      {{"rel", "next"}, {"href", next_page_href(path, q, last_id)}});
  return links;
}

} // namespace fogbow
