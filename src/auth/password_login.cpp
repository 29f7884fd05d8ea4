#include "auth/password_login.hpp"

#include "util/encoding.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace fogbow {

session_tokens::session_tokens(std::int64_t ttl_ms, std::size_t max_sessions)
    : ttl_ms_(ttl_ms), max_sessions_(std::max<std::size_t>(max_sessions, 1)) {}

std::string session_tokens::issue(const user& who, std::int64_t now_ms,
                                  std::int64_t& expires_ms) {
  // 256 bits from the OS's generator: guessing one is out of the question,
  // so tokens need no throttle of their own.
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("no random bytes for a session token");
  auto token = "fbt_" + to_hex(bytes.data(), bytes.size());
  expires_ms = now_ms + ttl_ms_;
  std::lock_guard lock{mtx_};
  make_room(now_ms);
  by_digest_[sha256_hex(token)] = {who, expires_ms};
  return token;
}

void session_tokens::make_room(std::int64_t now_ms) {
  if (by_digest_.size() < max_sessions_)
    return;
  std::erase_if(by_digest_,
                [&](const auto& kv) { return kv.second.expires_ms <= now_ms; });
  if (by_digest_.size() < max_sessions_)
    return;
  auto soonest = std::min_element(
    by_digest_.begin(), by_digest_.end(), [](const auto& a, const auto& b) {
      return a.second.expires_ms < b.second.expires_ms;
    });
  by_digest_.erase(soonest);
}

std::optional<user> session_tokens::check(std::string_view token,
                                          std::int64_t now_ms) const {
  if (token.empty())
    return std::nullopt;
  // Looked up by digest: how long the lookup takes says something about
  // the digest of the candidate, nothing about any issued token.
  auto digest = sha256_hex(token);
  std::lock_guard lock{mtx_};
  auto i = by_digest_.find(digest);
  if (i == by_digest_.end() || i->second.expires_ms <= now_ms)
    return std::nullopt;
  return i->second.who;
}

std::size_t session_tokens::size() const {
  std::lock_guard lock{mtx_};
  return by_digest_.size();
}

std::string throttle_name_key(std::string_view name) {
  std::string key{"n:"};
  for (unsigned char c : name)
    key += static_cast<char>(std::tolower(c));
  return key;
}

namespace {

std::string address_key(std::string_view address) {
  return "a:" + std::string{address};
}

} // namespace

std::int64_t login_throttle::wait_for(const std::string& key, int limit,
                                      std::int64_t now_ms) const {
  auto i = windows_.find(key);
  if (i == windows_.end() || i->second.ends_ms <= now_ms
      || i->second.failures < limit)
    return 0;
  return (i->second.ends_ms - now_ms + 999) / 1000;
}

std::int64_t login_throttle::wait_s(std::string_view name,
                                    std::string_view address,
                                    std::int64_t now_ms) const {
  std::lock_guard lock{mtx_};
  return std::max(wait_for(throttle_name_key(name), limits_.per_name, now_ms),
                  wait_for(address_key(address), limits_.per_address, now_ms));
}

void login_throttle::count(const std::string& key, std::int64_t now_ms) {
  auto i = windows_.find(key);
  if (i == windows_.end()) {
    if (windows_.size() >= limits_.max_keys)
      std::erase_if(
        windows_, [&](const auto& kv) { return kv.second.ends_ms <= now_ms; });
    if (windows_.size() >= limits_.max_keys) {
      // Still full of live windows: forget the one closest to its end
      // rather than refuse to count.
      windows_.erase(std::min_element(
        windows_.begin(), windows_.end(), [](const auto& a, const auto& b) {
          return a.second.ends_ms < b.second.ends_ms;
        }));
    }
    i = windows_.emplace(key, window{}).first;
  }
  auto& w = i->second;
  if (w.ends_ms <= now_ms)
    w = {0, now_ms + limits_.window_ms};
  ++w.failures;
}

void login_throttle::failed(std::string_view name, std::string_view address,
                            std::int64_t now_ms) {
  std::lock_guard lock{mtx_};
  count(throttle_name_key(name), now_ms);
  count(address_key(address), now_ms);
}

void login_throttle::succeeded(std::string_view name) {
  std::lock_guard lock{mtx_};
  windows_.erase(throttle_name_key(name));
}

} // namespace fogbow
