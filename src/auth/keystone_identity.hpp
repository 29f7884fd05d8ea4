// The `keystone-v3` identity plugin: a caller's X-Auth-Token is a Keystone
// token. It is validated with GET /v3/auth/tokens (X-Auth-Token and
// X-Subject-Token both the caller's token: Keystone's default policy lets
// a token's subject validate it, so no service account is needed); user
// id and name come from Keystone. Valid tokens are cached for `cache_s`
// seconds (never past their own expiry), so a burst of API calls costs one
// Keystone round trip. Blocking, but only ever called on HTTP threads.
#pragma once

#include "auth/identity.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace fogbow {

struct keystone_identity_config {
  std::string auth_url;      ///< Keystone v3, e.g. http://host:5000/v3
  std::int64_t cache_s = 60; ///< 0: validate every request
  std::int64_t timeout_ms = 10000;
  bool verify_tls = true;
  std::size_t max_cached = 10000;
};

class keystone_identity final : public identity_plugin {
public:
  explicit keystone_identity(keystone_identity_config cfg);

  std::optional<user> authenticate(std::string_view token) const override;

  std::string_view name() const override { return "keystone-v3"; }

private:
  struct entry {
    user who;
    std::int64_t until_ms; // cache expiry (<= token expiry)
  };
  keystone_identity_config cfg_;
  mutable std::mutex mtx_;
  mutable std::map<std::string, entry, std::less<>> cache_;
};

} // namespace fogbow
