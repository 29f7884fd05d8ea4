// Identity plugins: who is calling the REST API. A plugin turns the
// `X-Auth-Token` of a request into a user; later plugins (Keystone, LDAP)
// implement the same interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow {

/// An authenticated caller. `id` owns orders; `name` is for display.
struct user {
  std::string id;
  std::string name;
  friend bool operator==(const user&, const user&) = default;
};

class identity_plugin {
public:
  virtual ~identity_plugin() = default;

  /// The user this token belongs to, or nullopt. Called concurrently from
  /// the HTTP threads, hence const and thread-safe.
  virtual std::optional<user> authenticate(std::string_view token) const = 0;

  /// Short name for logs and `GET /v1/status`.
  virtual std::string_view name() const = 0;
};

/// One configured credential of static_tokens_identity.
struct static_token {
  std::string user_id;
  std::string user_name;
  std::string token;
};

/// Fixed tokens from the configuration file.
///
/// A candidate is compared with every configured token, always all of
/// them and always byte by byte to the end, so the time taken does not tell
/// how many leading bytes matched or which user matched. What it does
/// reveal is the lengths of the configured tokens (the loop runs over
/// them); that is accepted: tokens are long random strings, and knowing
/// their length does not help guess their content.
class static_tokens_identity final : public identity_plugin {
public:
  /// Throws std::invalid_argument on an empty token or user id, or on a
  /// token given twice (it could not tell the two users apart).
  explicit static_tokens_identity(std::vector<static_token> tokens);

  std::optional<user> authenticate(std::string_view token) const override;

  std::string_view name() const override { return "static-tokens"; }

private:
  std::vector<static_token> tokens_;
};

} // namespace fogbow
