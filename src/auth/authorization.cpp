#include "auth/authorization.hpp"

namespace fogbow {

bool allow_all::is_authorized(const user&, std::string_view) const {
  return true;
}

user_whitelist::user_whitelist(std::set<std::string, std::less<>> user_ids)
    : user_ids_(std::move(user_ids)) {}

bool user_whitelist::is_authorized(const user& u, std::string_view) const {
  return user_ids_.contains(u.id);
}

} // namespace fogbow
