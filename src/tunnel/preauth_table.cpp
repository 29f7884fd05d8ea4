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

std::map<std::string, std::size_t>::iterator preauth_table::busiest() {
  return std::max_element(
    counts_.begin(), counts_.end(),
    [](const auto& a, const auto& b) { return a.second < b.second; });
}

preauth_table::decision preauth_table::admit(const std::string& address) {
  auto mine = count(address);
  if (mine >= per_address_)
    return {};
  decision d;
  if (total_ >= global_) {
    auto top = busiest();
    // Evicting from an address no busier than the newcomer's would only
    // trade one stranger for another.
    if (top == counts_.end() || top->second <= mine + 1)
      return {};
    d.evict = top->first;
    if (--top->second == 0)
      counts_.erase(top);
    --total_;
  }
  ++counts_[address];
  ++total_;
  d.admitted = true;
  return d;
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
