#include "tunnel/preauth_table.hpp"

#include <algorithm>

namespace fogbow::tunnel {

preauth_table::preauth_table(std::size_t global_limit,
                             std::size_t per_address_limit)
    : global_(std::max<std::size_t>(1, global_limit)),
      per_address_(std::max<std::size_t>(1, per_address_limit)) {}

std::size_t preauth_table::count(const std::string& address) const {
  auto it = counts_.find(address);
  return it == counts_.end() ? 0 : it->second;
}

std::size_t preauth_table::busiest_count() const {
  std::size_t top = 0;
  for (const auto& [address, n] : counts_)
    top = std::max(top, n);
  return top;
}

preauth_table::admission preauth_table::admit(const std::string& address) {
  auto mine = count(address);
  if (mine >= per_address_)
    return admission::refused;
  if (total_ >= global_)
    // Making room at an address no busier than the newcomer's would only
    // trade one stranger for another of the same standing.
    return busiest_count() > mine ? admission::needs_room : admission::refused;
  ++counts_[address];
  ++total_;
  return admission::admitted;
}

void preauth_table::release(const std::string& address) {
  auto it = counts_.find(address);
  if (it == counts_.end())
    return;
  --total_;
  if (--it->second == 0)
    counts_.erase(it);
}

} // namespace fogbow::tunnel
