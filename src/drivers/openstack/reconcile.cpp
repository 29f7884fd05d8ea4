#include "drivers/openstack/reconcile.hpp"
#include "util/log_safe.hpp"

#include <algorithm>
#include <iterator>

namespace fogbow::openstack_support {

namespace {

constexpr std::int64_t max_delete_backoff_ms = 60000;

/// Answers the creates a listing decides (ready, failed, past deadline).
void answer_creates(reconcile_state& st,
                    const std::map<std::string, instance>& now_seen, millis now,
                    const reconcile_policy& policy,
                    const std::function<bool(const std::string&)>& too_new,
                    reconcile_result& out) {
  for (auto it = st.creating.begin(); it != st.creating.end();) {
    auto& [id, w] = *it;
    auto seen = now_seen.find(id);
    const instance* x = seen == now_seen.end() ? nullptr : &seen->second;
    if (!x && too_new(id)) {
      ++it;
      continue;
    }
    if (x)
      st.known[id] = *x;
    auto v = policy.judge(id, x);
    if (v.what == verdict::ready) {
      auto& last = st.known[id];
      log()->info("{} {} of order {} is ready", policy.noun(last), id,
                  w.order_id);
      w.rp.deliver(last);
      it = st.creating.erase(it);
    } else if (v.what == verdict::failed) {
      auto last = st.known[id];
      last.id = id;
      log()->warn("{} {} of order {} failed: {}", policy.noun(last), id,
                  w.order_id, log_safe(v.message));
      w.rp.deliver(make_error(v.code, v.message));
      out.failed.push_back(last);
      st.known.erase(id);
      it = st.creating.erase(it);
    } else if (now >= w.deadline) {
      auto& last = st.known[id];
      log()->warn("{} {} of order {} is not ready after {} ms",
                  policy.noun(last), id, w.order_id,
                  st.timing.build_timeout_ms);
      w.rp.deliver(last);
      it = st.creating.erase(it);
    } else {
      ++it;
    }
  }
}

/// Reports what changed or vanished among the resources no create waits on.
void report_changes(reconcile_state& st,
                    const std::map<std::string, instance>& now_seen,
                    const reconcile_policy& policy,
                    const std::function<bool(const std::string&)>& too_new,
                    reconcile_result& out) {
  for (auto it = st.known.begin(); it != st.known.end();) {
    auto& [id, before] = *it;
    if (st.creating.count(id)) {
      ++it;
      continue;
    }
    auto seen = now_seen.find(id);
    if (seen == now_seen.end() && too_new(id)) {
      ++it;
      continue;
    }
    if (seen == now_seen.end()) {
      st.since.erase(id);
      if (!st.deleting.erase(id)) {
        auto lost = before;
        lost.state = instance_state::lost;
        lost.fault =
          "the " + policy.noun(before) + " no longer exists in the cloud";
        log()->info("{} {} of order {} is gone", policy.noun(before), id,
                    before.order_id);
        out.events.push_back(lost);
      }
      out.gone.push_back(before);
      out.freed = out.freed || policy.frees(before);
      st.account_of.erase(id);
      it = st.known.erase(it);
      continue;
    }
    if (!st.deleting.count(id) && !(seen->second == before)) {
      if (seen->second.state != before.state)
        log()->info("{} {} of order {}: {} → {}", policy.noun(before), id,
                    before.order_id, to_string(before.state),
                    to_string(seen->second.state));
      before = seen->second;
      out.events.push_back(before);
    }
    ++it;
  }
}

/// Answers erases past their deadline with `why(id)`; drops empty entries.
template <class Why>
void expire_erases(reconcile_state& st, millis now, Why why) {
  for (auto it = st.erasing.begin(); it != st.erasing.end();) {
    auto& ws = it->second;
    for (auto w = ws.begin(); w != ws.end();) {
      if (now >= w->deadline) {
        w->rp.deliver(make_error(errc::cloud_error, why(it->first)));
        w = ws.erase(w);
      } else {
        ++w;
      }
    }
    it = ws.empty() ? st.erasing.erase(it) : std::next(it);
  }
}

} // namespace

bool reconcile_state::busy() const {
  return !creating.empty() || !deleting.empty() || !erasing.empty()
         || !retrying.empty() || !quota_blocked.empty();
}

std::string reconcile_policy::noun(const instance& x) const {
  return std::string{to_string(x.kind)};
}

bool reconcile_policy::frees(const instance&) const {
  return true;
}

reconcile_result reconcile(reconcile_state& st,
                           const std::map<std::string, instance>& now_seen,
                           millis started_at, millis now,
                           const reconcile_policy& policy) {
  reconcile_result out;
  std::function<bool(const std::string&)> too_new = [&](const std::string& id) {
    auto it = st.since.find(id);
    return it != st.since.end() && it->second >= started_at;
  };
  answer_creates(st, now_seen, now, policy, too_new, out);
  report_changes(st, now_seen, policy, too_new, out);
  // Deleted by us but never known (e.g. discarded): drop once gone.
  for (auto it = st.deleting.begin(); it != st.deleting.end();) {
    if (!now_seen.count(*it) && !st.known.count(*it)) {
      if (!st.discarded.erase(*it))
        out.freed = true;
      it = st.deleting.erase(it);
    } else {
      ++it;
    }
  }
  // Erases that answer when their resource is gone.
  for (auto it = st.erasing.begin(); it != st.erasing.end();) {
    if (now_seen.count(it->first)) {
      ++it;
      continue;
    }
    for (auto& w : it->second)
      w.rp.deliver(atom::ok_v);
    it = st.erasing.erase(it);
  }
  expire_erases(st, now, [&](const std::string& id) {
    return id + " is still there after "
           + std::to_string(st.timing.detach_timeout_ms / 1000) + " s";
  });
  // Resources we did not know (adopted after a restart, or made before
  // the first listing): remember them.
  for (auto& [id, x] : now_seen)
    if (!st.known.count(id) && !st.deleting.count(id))
      st.known.emplace(id, x);
  return out;
}

void expire_waiters(reconcile_state& st, millis now) {
  for (auto it = st.creating.begin(); it != st.creating.end();) {
    if (now >= it->second.deadline) {
      it->second.rp.deliver(st.known[it->first]);
      it = st.creating.erase(it);
    } else {
      ++it;
    }
  }
  expire_erases(st, now, [&](const std::string& id) {
    return "cannot tell whether " + id + " is gone: " + st.last_poll_error;
  });
}

std::optional<instance> made_for_order(const reconcile_state& st,
                                       const std::string& order_id,
                                       std::optional<resource_kind> kind) {
  for (auto& [id, x] : st.known)
    if (x.order_id == order_id && (!kind || x.kind == *kind)
        && !st.deleting.count(id) && !st.creating.count(id))
      return x;
  return std::nullopt;
}

bool transient(const caf::error& e) {
  switch (code_of(e)) {
  case errc::none: // not ours: e.g. the worker did not answer
  case errc::cloud_error:
  case errc::unavailable:
  case errc::timeout:
    return true;
  default:
    return false;
  }
}

std::int64_t schedule_delete_retry(reconcile_state& st, const std::string& id,
                                   std::string what,
                                   std::function<void()> remove, millis now) {
  auto& r = st.retrying[id];
  auto first = std::max<std::int64_t>(st.timing.poll_interval_ms, 1000);
  r.backoff_ms =
    r.failures == 0 ? first : std::min(2 * r.backoff_ms, max_delete_backoff_ms);
  ++r.failures;
  r.what = std::move(what);
  r.remove = std::move(remove);
  r.failed_at = now;
  r.next_at = now + r.backoff_ms;
  r.in_flight = false;
  st.deleting.insert(id);
  return r.backoff_ms;
}

std::vector<std::string>
due_delete_retries(reconcile_state& st,
                   const std::map<std::string, instance>& now_seen,
                   millis started_at, millis now) {
  std::vector<std::string> due;
  for (auto it = st.retrying.begin(); it != st.retrying.end();) {
    auto& [id, r] = *it;
    if (r.in_flight) {
      ++it;
      continue;
    }
    if (!now_seen.count(id) && r.failed_at < started_at) {
      log()->info("{} {} is gone after {} failed delete(s)", r.what, id,
                  r.failures);
      it = st.retrying.erase(it);
      continue;
    }
    if (now >= r.next_at) {
      r.in_flight = true;
      due.push_back(id);
    }
    ++it;
  }
  return due;
}

} // namespace fogbow::openstack_support
