// Pages of a list, as OpenStack's APIs give them: at most `limit` items
// after the item named by `marker` (the last one of the previous page), in
// a stable order, so that a client walks a long list one bounded answer at
// a time.
#pragma once

#include "domain/order.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fogbow {

/// Items per page when a request names no limit, and the most it may name
/// unless the configuration says otherwise.
inline constexpr std::int32_t default_page_limit = 1000;

/// Which page of a list, and which of its items.
struct page_query {
  std::int32_t limit = default_page_limit; ///< at least 1
  /// The id of the last item of the previous page; empty: the first page.
  std::string marker;
  std::optional<order_state> state;     ///< orders: only this state
  std::optional<resource_kind> kind;    ///< orders: only this kind
  std::optional<instance_state> status; ///< instances: only this state
};

/// One page; `more` when items follow it.
template <class T>
struct page {
  std::vector<T> items;
  bool more = false;
};

/// The page `q` asks for out of `all`, which holds every item of the list
/// (filtered or not) in listing order; `keep` is the filter, `id_of` names
/// an item. The marker is looked up in `all`, so it still works when its
/// item no longer passes the filter (its state changed between pages).
/// nullopt: `q.marker` names no item of the list.
template <class T, class Keep, class IdOf>
std::optional<page<T>> take_page(const std::vector<const T*>& all,
                                 const page_query& q, Keep keep, IdOf id_of) {
  auto it = all.begin();
  if (!q.marker.empty()) {
    it = std::find_if(all.begin(), all.end(),
                      [&](const T* x) { return id_of(*x) == q.marker; });
    if (it == all.end())
      return std::nullopt;
    ++it;
  }
  page<T> out;
  auto limit = static_cast<std::size_t>(std::max<std::int32_t>(q.limit, 1));
  for (; it != all.end(); ++it) {
    if (!keep(**it))
      continue;
    if (out.items.size() == limit) {
      out.more = true;
      break;
    }
    out.items.push_back(**it);
  }
  return out;
}

} // namespace fogbow
