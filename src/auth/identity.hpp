// Identity plugins: who is calling the REST API. A plugin turns the
// `X-Auth-Token` of a request into a user. Plugins whose users hold a
// password rather than a token (LDAP) also exchange name and password for
// a token of their own making (`login`, POST /v1/tokens).
#pragma once

#include <cstdint>
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

/// What `identity_plugin::login` made of a name and a password.
struct login_result {
  enum class outcome {
    ok,          ///< `token` is valid until `expires_ms`
    refused,     ///< wrong name or password (which one is not said)
    throttled,   ///< too many failures: retry after `retry_after_s`
    unavailable, ///< the directory cannot be asked now
    unsupported, ///< this plugin takes no passwords
  };
  outcome result = outcome::unsupported;
  user who;                       ///< ok only
  std::string token;              ///< ok only; never log it
  std::int64_t expires_ms = 0;    ///< ok only: Unix time in ms
  std::int64_t retry_after_s = 0; ///< throttled only
};

class identity_plugin {
public:
  virtual ~identity_plugin() = default;

  /// The user this token belongs to, or nullopt. Called concurrently from
  /// the HTTP threads, hence const and thread-safe.
  virtual std::optional<user> authenticate(std::string_view token) const = 0;

  /// Checks a user's name and password and, when they hold, issues a
  /// token that `authenticate` accepts until it expires. `peer` is the
  /// caller's address, for throttling. Called concurrently from the HTTP
  /// threads; may block on the network. Implementations never store or
  /// log the password or the token. The default takes no passwords.
  virtual login_result login(std::string_view /*name*/,
                             std::string_view /*password*/,
                             std::string_view /*peer*/) const {
    return {};
  }

  /// Short name for logs and `GET /v1/status`.
  virtual std::string_view name() const = 0;

  /// False when authenticate() only computes (no I/O, no waiting), so
  /// that the HTTP server may call it on a polling thread.
  virtual bool may_block() const { return true; }
};

/// One configured credential of static_tokens_identity: the token, or
/// (`token` empty) its SHA-256 as 64 hex digits.
struct static_token {
  std::string user_id;
  std::string user_name;
  std::string token;
  std::string token_sha256;
};

/// Fixed tokens from the configuration file.
///
/// Only the SHA-256 of each token is kept (a plain token is hashed at
/// construction). A candidate is hashed once and its digest compared with
/// every configured digest, always all of them and always to the end, so
/// the time taken tells neither how many bytes matched nor which user
/// matched; every digest has the same length, so not even the tokens'
/// lengths show.
class static_tokens_identity final : public identity_plugin {
public:
  /// Throws std::invalid_argument on an empty user id, on an entry with
  /// both or neither of token and token_sha256, on a digest that is not 64
  /// hex digits, or on a token given twice (it could not tell the two
  /// users apart).
  explicit static_tokens_identity(const std::vector<static_token>& tokens);

  std::optional<user> authenticate(std::string_view token) const override;

  std::string_view name() const override { return "static-tokens"; }
  bool may_block() const override { return false; }

private:
  struct entry {
    std::string user_id;
    std::string user_name;
    std::string digest; ///< SHA-256, lower-case hex
  };
  std::vector<entry> entries_;
};

} // namespace fogbow
