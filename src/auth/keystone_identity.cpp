#include "auth/keystone_identity.hpp"

#include "domain/errors.hpp"
#include "openstack/openstack_api.hpp"

#include <spdlog/spdlog.h>

namespace fogbow {

keystone_identity::keystone_identity(keystone_identity_config cfg)
    : cfg_(std::move(cfg)) {
  while (!cfg_.auth_url.empty() && cfg_.auth_url.back() == '/')
    cfg_.auth_url.pop_back();
}

std::optional<user>
keystone_identity::authenticate(std::string_view token) const {
  // Keystone tokens are long printable strings; refuse anything that could
  // not be one (and never put control characters into a header).
  if (token.empty() || token.size() > 8192)
    return std::nullopt;
  for (unsigned char c : token)
    if (c <= 32 || c >= 127)
      return std::nullopt;
  auto now = now_millis();
  {
    std::lock_guard guard{mtx_};
    if (auto it = cache_.find(token); it != cache_.end()) {
      if (it->second.until_ms > now)
        return it->second.who;
      cache_.erase(it);
    }
  }
  std::string t{token};
  auto r = http_call(
    cfg_.auth_url + "/auth/tokens", "GET",
    {{"X-Auth-Token", t}, {"X-Subject-Token", t}}, {},
    {std::chrono::milliseconds{cfg_.timeout_ms}, cfg_.verify_tls, {}, {}});
  if (r.status == 401 || r.status == 403 || r.status == 404)
    return std::nullopt;
  if (r.status != 200) {
    spdlog::warn("keystone-v3 identity: cannot validate a token at {}: {}",
                 cfg_.auth_url,
                 r.status == 0 ? r.transport_error
                               : "HTTP " + std::to_string(r.status) + " "
                                   + cloud_message(r.body));
    return std::nullopt;
  }
  keystone_token k;
  try {
    k = parse_token(r.body, "public", "");
  } catch (const cloud_failure& e) {
    spdlog::warn("keystone-v3 identity: {}", e.what());
    return std::nullopt;
  }
  if (k.user_id.empty() || (k.expires_at != 0 && k.expires_at <= now))
    return std::nullopt;
  user who{k.user_id, k.user_name.empty() ? k.user_id : k.user_name};
  if (cfg_.cache_s > 0) {
    auto until = now + cfg_.cache_s * 1000;
    if (k.expires_at != 0)
      until = std::min(until, k.expires_at);
    std::lock_guard guard{mtx_};
    if (cache_.size() >= cfg_.max_cached) {
      for (auto it = cache_.begin(); it != cache_.end();)
        it = it->second.until_ms <= now ? cache_.erase(it) : std::next(it);
      if (cache_.size() >= cfg_.max_cached)
        cache_.clear();
    }
    cache_[t] = {who, until};
  }
  return who;
}

} // namespace fogbow
