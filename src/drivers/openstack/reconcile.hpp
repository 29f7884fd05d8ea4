// The one reconcile loop of the openstack drivers. Each driver (compute,
// volume, network) keeps the same bookkeeping (reconcile_state) and, after
// each listing of its accounts, brings it up to date with the cloud the
// same way: pending creates are answered, erases whose resource is gone are
// answered, changes and losses become events, failed deletes are tried
// again. What differs per kind of resource is a small reconcile_policy
// (compute_policy.cpp, volume_policy.cpp, network_policy.cpp).
//
// Plain C++ apart from the response promises it keeps: the actor side
// (sending events, running deletes on workers) lives in driver_support.hpp.
#pragma once

#include "actors/actors.hpp"
#include "actors/errors.hpp"

#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fogbow::openstack_support {

/// The logger of the openstack drivers.
inline std::shared_ptr<spdlog::logger> log() {
  static auto logger = [] {
    auto existing = spdlog::get("openstack");
    return existing ? existing : spdlog::default_logger()->clone("openstack");
  }();
  return logger;
}

/// How often a driver lists and how long it waits, from its config.
struct reconcile_timing {
  std::int64_t poll_interval_ms = 1000;
  std::int64_t refresh_interval_ms = 10000;
  std::int64_t build_timeout_ms = 600000;
  std::int64_t detach_timeout_ms = 120000;
};

/// A delete of ours the cloud did not carry out (e.g. Nova answered 500):
/// run again from `next_at` on, with a back-off that doubles per failure,
/// until the resource is gone.
struct delete_retry {
  std::string what;             ///< "server", "volume", … (for the log)
  std::function<void()> remove; ///< the blocking delete; run on a worker
  millis failed_at = 0;         ///< when the last attempt failed
  millis next_at = 0;
  std::int64_t backoff_ms = 0;
  int failures = 0;
  bool in_flight = false;
};

/// What every openstack driver keeps, whatever it manages.
struct reconcile_state {
  struct waiter {
    std::string order_id;
    caf::typed_response_promise<instance> rp;
    millis deadline = 0;
  };
  struct erase_waiter {
    caf::typed_response_promise<atom::ok> rp;
    millis deadline = 0;
  };

  reconcile_timing timing;
  std::vector<openstack_worker_actor> workers;
  size_t next_worker = 0;
  cloud_events_actor subscriber;
  std::map<std::string, instance> known;         ///< local id → last seen
  std::map<std::string, std::string> account_of; ///< local id → account
  std::map<std::string, millis> since;    ///< local id → when we made it
  std::map<std::string, waiter> creating; ///< creates waiting for a state
  /// erases answered only once the resource is gone (detach).
  std::map<std::string, std::vector<erase_waiter>> erasing;
  std::set<std::string> deleting;  ///< removed by us, maybe still listed
  std::set<std::string> discarded; ///< failed creates we removed
  std::map<std::string, delete_retry> retrying; ///< deletes to run again
  std::set<std::string> quota_blocked; ///< accounts that hit their quota
  bool poll_in_flight = false;
  std::int64_t last_poll_ms = 0; ///< how long the last listing took
  millis poll_armed_at = 0;
  std::string last_poll_error;

  /// Something waits on the cloud: list often.
  bool busy() const;
};

/// A driver's state: the shared bookkeeping, its accounts' clouds (account
/// name → API of one kind: Nova, Cinder, Neutron) and the limits of the
/// quota-blocked accounts when they were first seen blocked.
template <class Cloud, class Limits>
struct cloud_driver_state : reconcile_state {
  std::map<std::string, std::shared_ptr<Cloud>> clouds;
  std::map<std::string, Limits> blocked_limits;
};

/// What we made for order `order_id` and keep (neither being deleted nor
/// still pending), of `kind` if one is given: a create of the same order
/// answers with it, so that creates are idempotent per order id.
std::optional<instance>
made_for_order(const reconcile_state& st, const std::string& order_id,
               std::optional<resource_kind> kind = std::nullopt);

/// What a pending create should do after a listing.
struct verdict {
  enum kind { wait, ready, failed };
  kind what = wait;
  errc code = errc::cloud_error;
  std::string message;
  verdict(kind k, errc c = errc::cloud_error, std::string msg = {})
      : what(k), code(c), message(std::move(msg)) {}
};

/// What differs between the kinds of resource in the reconcile loop.
class reconcile_policy {
public:
  virtual ~reconcile_policy() = default;
  /// What the pending create of `id` becomes, given what the listing shows
  /// (`seen` null: not listed).
  virtual verdict judge(const std::string& id, const instance* seen) const = 0;
  /// How the log and the events name `x` ("server", "volume", …).
  virtual std::string noun(const instance& x) const;
  /// Whether `x` going away frees capacity the scheduler may wait for.
  virtual bool frees(const instance& x) const;
};

/// What a listing changed, for the driver to act on.
struct reconcile_result {
  std::vector<instance> events; ///< for the subscriber, in order
  std::vector<instance> failed; ///< failed creates, to be removed
  std::vector<instance> gone;   ///< known resources that vanished
  bool freed = false;           ///< capacity_freed is due
};

/// Brings `st` up to date with a listing (`now_seen`, taken from
/// `started_at` on): answers pending creates as `policy.judge` says,
/// answers erases whose resource is gone (and those past their deadline
/// with an error), reports changes and losses, forgets what we deleted
/// once it is gone, adopts what it did not know. A resource we made after
/// the listing began may be missing from it: that is not a loss.
reconcile_result reconcile(reconcile_state& st,
                           const std::map<std::string, instance>& now_seen,
                           millis started_at, millis now,
                           const reconcile_policy& policy);

/// When listing fails: creates past their deadline are answered as they
/// are, erases past theirs with an error (the next listing may still
/// answer the others).
void expire_waiters(reconcile_state& st, millis now);

/// The accounts whose quota block ends: for each account listed in
/// `limits` (the quota-blocked ones), `room_again(now, before)` (before:
/// the limits when it was first seen blocked, or null) says whether an
/// order may fit again. Those are unblocked and returned; the others'
/// first limits are kept to compare later listings with.
template <class Limits, class RoomAgain>
std::vector<std::string> end_quota_blocks(
  reconcile_state& st, std::map<std::string, Limits>& blocked_limits,
  const std::map<std::string, Limits>& limits, RoomAgain room_again) {
  std::vector<std::string> unblocked;
  for (auto& [account, lim] : limits) {
    auto it = blocked_limits.find(account);
    const Limits* before = it == blocked_limits.end() ? nullptr : &it->second;
    if (!room_again(lim, before)) {
      if (!before)
        blocked_limits[account] = lim;
      continue;
    }
    st.quota_blocked.erase(account);
    blocked_limits.erase(account);
    unblocked.push_back(account);
  }
  return unblocked;
}

/// True when a failed delete may succeed later (the cloud failed or did
/// not answer), false when the cloud refused it for a reason that stays
/// (conflict, not found, …).
bool transient(const caf::error& e);

/// Records that deleting `id` failed at `now`: it runs again after a
/// back-off (starting at the poll interval, at least a second, doubling up
/// to a minute). Returns the delay.
std::int64_t schedule_delete_retry(reconcile_state& st, const std::string& id,
                                   std::string what,
                                   std::function<void()> remove, millis now);

/// The retries to run now, marked in flight. Drops those whose resource a
/// listing that began after their failure (`started_at`) no longer shows.
std::vector<std::string>
due_delete_retries(reconcile_state& st,
                   const std::map<std::string, instance>& now_seen,
                   millis started_at, millis now);

} // namespace fogbow::openstack_support
