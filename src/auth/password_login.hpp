// What an identity plugin that takes passwords needs besides checking
// them: the tokens it hands out in exchange (session_tokens) and a brake
// on password guessing (login_throttle). Both are plain, thread-safe
// classes with the clock passed in, so tests need no sleeping.
#pragma once

#include "auth/identity.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace fogbow {

/// Tokens issued after a successful login: random, expiring, held only
/// in memory (a restart logs everybody out) and only as their SHA-256, so
/// that neither a memory dump nor a log of this table yields a usable
/// token.
class session_tokens {
public:
  /// `max_sessions` bounds memory: when full, expired sessions go first,
  /// then the one that would expire soonest.
  session_tokens(std::int64_t ttl_ms, std::size_t max_sessions);

  /// A new token for `who`, valid until now_ms + ttl; `expires_ms` tells
  /// when. Throws std::runtime_error when no random bytes can be had.
  std::string issue(const user& who, std::int64_t now_ms,
                    std::int64_t& expires_ms);

  /// The user of a token not yet expired, or nullopt.
  std::optional<user> check(std::string_view token, std::int64_t now_ms) const;

  std::size_t size() const;

private:
  struct session {
    user who;
    std::int64_t expires_ms;
  };
  void make_room(std::int64_t now_ms); // with mtx_ held
  std::int64_t ttl_ms_;
  std::size_t max_sessions_;
  mutable std::mutex mtx_;
  std::map<std::string, session, std::less<>> by_digest_;
};

/// Counts failed logins per user name and per caller address in fixed
/// windows: once a key has `limit` failures, every attempt for it is
/// refused, without asking the directory, until its window ends. A
/// success clears the name's count (not the address's, else one good
/// account would reset a guesser's address). Concurrent attempts may
/// overshoot a limit by the number of HTTP threads.
class login_throttle {
public:
  struct limits {
    int per_name = 5;
    int per_address = 20;
    std::int64_t window_ms = 300'000;
    std::size_t max_keys = 100'000; ///< memory bound
  };
  explicit login_throttle(limits l) : limits_(l) {}

  /// 0 when an attempt may go ahead, else the seconds until it may.
  std::int64_t wait_s(std::string_view name, std::string_view address,
                      std::int64_t now_ms) const;
  void failed(std::string_view name, std::string_view address,
              std::int64_t now_ms);
  void succeeded(std::string_view name);

private:
  struct window {
    int failures = 0;
    std::int64_t ends_ms = 0;
  };
  std::int64_t wait_for(const std::string& key, int limit,
                        std::int64_t now_ms) const; // with mtx_ held
  void count(const std::string& key, std::int64_t now_ms);
  limits limits_;
  mutable std::mutex mtx_;
  std::map<std::string, window, std::less<>> windows_;
};

/// The throttle's key of a user name: names are compared case-blind, as
/// directories do, so "Alice" and "alice" share one count.
std::string throttle_name_key(std::string_view name);

} // namespace fogbow
