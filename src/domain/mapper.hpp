// Mapper plugins: which cloud account serves a request. The Java Fogbow
// mapped a federation user to local cloud credentials; here the key is the
// requesting member (and the user, for plugins that want it), the result
// the name of an account the cloud driver was configured with.
//   single      every request uses one configured account
//   per-member  an account per requesting member, with an optional default
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fogbow {

class mapper_plugin {
public:
  virtual ~mapper_plugin() = default;

  /// The account for a request of `user_id` from member `requesting_member`,
  /// or nullopt when this member must not be served.
  virtual std::optional<std::string>
  account_for(std::string_view requesting_member,
              std::string_view user_id) const = 0;

  /// The account used for member-independent calls (limits, listing).
  virtual std::string default_account() const = 0;

  virtual std::string_view name() const = 0;
};

class single_mapper final : public mapper_plugin {
public:
  explicit single_mapper(std::string account) : account_(std::move(account)) {}
  std::optional<std::string> account_for(std::string_view,
                                         std::string_view) const override {
    return account_;
  }
  std::string default_account() const override { return account_; }
  std::string_view name() const override { return "single"; }

private:
  std::string account_;
};

class per_member_mapper final : public mapper_plugin {
public:
  /// `members`: member id → account name; `fallback`: account for members
  /// not listed (empty: those are refused).
  per_member_mapper(std::map<std::string, std::string, std::less<>> members,
                    std::string fallback);
  std::optional<std::string>
  account_for(std::string_view requesting_member,
              std::string_view user_id) const override;
  std::string default_account() const override;
  std::string_view name() const override { return "per-member"; }

private:
  std::map<std::string, std::string, std::less<>> members_;
  std::string fallback_;
};

} // namespace fogbow
