// Authorization plugins: may this user do this action? Actions are
// "<resource>.<verb>" strings (see fogbow::action), so that finer plugins
// (per-verb roles, LDAP groups) fit the same interface.
#pragma once

#include "auth/identity.hpp"

#include <set>
#include <string>
#include <string_view>

namespace fogbow {

/// The actions the REST API asks about.
namespace action {
inline constexpr std::string_view order_create = "order.create";
inline constexpr std::string_view order_read = "order.read";
inline constexpr std::string_view order_delete = "order.delete";
inline constexpr std::string_view compute_read = "compute.read";
inline constexpr std::string_view compute_delete = "compute.delete";
inline constexpr std::string_view volume_read = "volume.read";
inline constexpr std::string_view volume_delete = "volume.delete";
inline constexpr std::string_view network_read = "network.read";
inline constexpr std::string_view network_delete = "network.delete";
inline constexpr std::string_view attachment_read = "attachment.read";
inline constexpr std::string_view attachment_delete = "attachment.delete";
inline constexpr std::string_view member_read = "member.read";
inline constexpr std::string_view quota_read = "quota.read";
inline constexpr std::string_view usage_read = "usage.read";
} // namespace action

class authorization_plugin {
public:
  virtual ~authorization_plugin() = default;

  /// Called concurrently from the HTTP threads, hence const and thread-safe.
  virtual bool is_authorized(const user& u, std::string_view action) const = 0;

  /// Short name for logs.
  virtual std::string_view name() const = 0;
};

/// Every authenticated user may do everything.
class allow_all final : public authorization_plugin {
public:
  bool is_authorized(const user& u, std::string_view action) const override;
  std::string_view name() const override { return "allow-all"; }
};

/// Only the listed user ids may do anything; the rest may do nothing.
class user_whitelist final : public authorization_plugin {
public:
  explicit user_whitelist(std::set<std::string, std::less<>> user_ids);
  bool is_authorized(const user& u, std::string_view action) const override;
  std::string_view name() const override { return "user-whitelist"; }

private:
  std::set<std::string, std::less<>> user_ids_;
};

} // namespace fogbow
