#include "domain/mapper.hpp"

namespace fogbow {

per_member_mapper::per_member_mapper(
  std::map<std::string, std::string, std::less<>> members, std::string fallback)
    : members_(std::move(members)), fallback_(std::move(fallback)) {}

std::optional<std::string>
per_member_mapper::account_for(std::string_view requesting_member,
                               std::string_view) const {
  if (auto it = members_.find(requesting_member); it != members_.end())
    return it->second;
  if (!fallback_.empty())
    return fallback_;
  return std::nullopt;
}

std::string per_member_mapper::default_account() const {
  if (!fallback_.empty())
    return fallback_;
  return members_.empty() ? std::string{} : members_.begin()->second;
}

} // namespace fogbow
