// The `ldap` identity plugin: users log in with their directory name and
// password (POST /v1/tokens); the password is checked by a simple bind
// against the directory and, when the bind succeeds, the manager issues a
// random token of its own that expires (session_tokens). The X-Auth-Token
// of later requests is that token, checked in memory: the directory is
// asked once per login, never per request, and never sees a token.
//
// The user's DN comes from a template (`uid={user},ou=people,...`) or, with
// a search base, from a search (with a service account or anonymously)
// for the filter (`(uid={user})`); the name is escaped for a DN (RFC 4514)
// or a filter (RFC 4515), so it can neither change the DN nor widen the
// search. An empty password is refused before any bind: to a directory a
// simple bind without password is an anonymous bind, which succeeds.
#pragma once

#include "auth/identity.hpp"
#include "auth/password_login.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace fogbow {

struct ldap_identity_config {
  std::string url;              ///< ldap://host:port or ldaps://host:port
  bool start_tls = false;       ///< ldap:// upgraded with StartTLS
  std::string ca_file;          ///< PEM CA bundle; empty: the system's
  bool verify_tls = true;       ///< check the server's certificate
  std::string bind_dn_template; ///< with {user}; or search_base
  std::string search_base;
  std::string search_filter = "(uid={user})";
  std::string service_dn; ///< empty: anonymous search
  std::string service_password;
  std::string user_attribute = "uid"; ///< the user's id, as stored
  std::string name_attribute = "cn";  ///< the user's display name
  std::int64_t timeout_ms = 10000;
  std::int64_t token_ttl_s = 3600;
  std::size_t max_sessions = 100000;
  login_throttle::limits throttle;
};

/// RFC 4514 escaping of an attribute value inside a DN: `,+"\<>;=` and NUL
/// get a backslash (NUL as \00), so do a leading space or '#' and a
/// trailing space.
std::string ldap_escape_dn_value(std::string_view value);

/// RFC 4515 escaping of an assertion value inside a filter: `*()\` and NUL
/// become \2a \28 \29 \5c \00.
std::string ldap_escape_filter_value(std::string_view value);

/// `pattern` with every "{user}" replaced by `escaped_name`.
std::string ldap_expand(std::string_view pattern,
                        std::string_view escaped_name);

/// Whether a user name is worth a bind: 1..256 bytes, no control
/// characters.
bool ldap_plausible_name(std::string_view name);

class ldap_identity final : public identity_plugin {
public:
  /// Throws std::invalid_argument on a config the directory could never
  /// accept (no URL, neither or both of template and search base, a
  /// pattern without {user}).
  explicit ldap_identity(ldap_identity_config cfg);

  std::optional<user> authenticate(std::string_view token) const override;

  login_result login(std::string_view name, std::string_view password,
                     std::string_view peer) const override;

  std::string_view name() const override { return "ldap"; }

  /// What one bind attempt came to; public for the tests' sake.
  enum class verdict { ok, refused, unavailable };

private:
  verdict check_password(std::string_view name, std::string_view password,
                         user& who) const;
  ldap_identity_config cfg_;
  // Mutable: logins change them, yet identity_plugin is used as const.
  std::unique_ptr<session_tokens> sessions_;
  std::unique_ptr<login_throttle> throttle_;
};

} // namespace fogbow
