// What the openstack driver actors (compute, volume, network) share on the
// actor side: running blocking cloud calls on worker actors, the poll timer,
// listing every account, deleting (with retries until the resource is gone)
// and applying a listing through the one reconcile loop (reconcile.hpp).
// Included only by those drivers' .cpp files (it pulls in all of CAF).
#pragma once

#include "actors/actors.hpp"
#include "actors/errors.hpp"
#include "domain/errors.hpp"
#include "drivers/openstack/openstack_driver.hpp" // openstack_worker
#include "drivers/openstack/reconcile.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fogbow::openstack_support {

template <class T>
struct outcome {
  std::optional<T> value;
  caf::error error;
};

/// How long a task may wait for and run on its worker (queued behind
/// others included) before the driver treats it as failed.
constexpr std::chrono::minutes worker_task_timeout{30};

/// Runs `work` (blocking) on one of the driver's workers (round robin over
/// `self->state.workers`), then `done(outcome<T>&)` in the driver.
/// cloud_failure and other exceptions become the outcome's error.
template <class T, class Self, class Work, class Done>
void run_async(Self self, Work work, Done done) {
  auto out = std::make_shared<outcome<T>>();
  auto task = std::make_shared<std::function<void()>>(
    [out, work = std::move(work)]() mutable {
      try {
        out->value = work();
      } catch (const cloud_failure& e) {
        out->error = make_error(e.code, e.what());
      } catch (const std::exception& e) {
        out->error = make_error(errc::cloud_error, e.what());
      }
    });
  auto& st = self->state;
  auto worker = st.workers[st.next_worker++ % st.workers.size()];
  // A backstop only: every HTTP call of a task has its own timeout.
  self->request(worker, worker_task_timeout, atom::run_v, std::move(task))
    .then([out, done](atom::ok) mutable { done(*out); },
          [done](const caf::error& e) mutable {
            outcome<T> o;
            o.error = e;
            done(o);
          });
}

/// Sends the driver atom::poll after `delay_ms`, unless a timer that fires
/// no later is pending (`self->state.poll_armed_at`).
template <class Self>
void arm_poll(Self self, std::int64_t delay_ms) {
  auto& st = self->state;
  auto now = now_millis();
  auto at = now + delay_ms;
  // A timer is pending only while its time lies ahead (the wall clock and
  // CAF's timer clock differ slightly, so never trust a past one).
  if (st.poll_armed_at > now && st.poll_armed_at <= at)
    return;
  st.poll_armed_at = at;
  self->delayed_send(self, std::chrono::milliseconds{delay_ms}, atom::poll_v);
}

/// The next listing: fast while `busy`, slow otherwise, and never more
/// often than every two listing durations. A listing is one of a cloud
/// API's most expensive calls (Nova asks Neutron about every server):
/// never spend more than a third of the API's time on it, however short
/// poll_interval_ms is.
template <class Self>
void arm_next_poll(Self self) {
  auto& st = self->state;
  auto fast = std::max(st.timing.poll_interval_ms, 2 * st.last_poll_ms);
  arm_poll(self,
           st.busy() ? fast : std::max(fast, st.timing.refresh_interval_ms));
}

template <class Self>
void notify(Self self, const instance& x) {
  if (self->state.subscriber)
    self->send(self->state.subscriber, atom::instance_changed_v, x);
}

template <class Self>
void send_capacity_freed(Self self) {
  if (self->state.subscriber)
    self->send(self->state.subscriber, atom::capacity_freed_v);
}

/// The clouds to try for an id, as (account, cloud): its own account's if
/// known, else every account's.
template <class Self>
auto candidate_clouds(Self self, const std::string& id) {
  auto& st = self->state;
  using cloud_ptr = typename decltype(st.clouds)::mapped_type;
  std::vector<std::pair<std::string, cloud_ptr>> out;
  if (auto it = st.account_of.find(id);
      it != st.account_of.end() && st.clouds.count(it->second))
    out.emplace_back(it->second, st.clouds[it->second]);
  else
    for (auto& [name, c] : st.clouds)
      out.emplace_back(name, c);
  return out;
}

/// The first of `clouds` (as candidate_clouds gives them) that offers its
/// service and where `get(cloud)` finds something; empty if none does.
template <class Clouds, class Get>
auto first_found(const Clouds& clouds, Get get)
  -> decltype(get(*clouds.front().second)) {
  for (auto& [account, cloud] : clouds)
    if (cloud->has_service())
      if (auto found = get(*cloud))
        return found;
  return {};
}

/// The account the mapper chooses for a request, or the error the user
/// sees: unauthorized when no account is mapped to the member, cloud_error
/// when the mapper names one the driver does not have.
template <class Self>
caf::expected<std::string> account_for(Self self, const instance_spec& spec) {
  auto& st = self->state;
  auto account = st.cfg.mapper->account_for(spec.requesting_member, "");
  if (!account)
    return make_error(errc::unauthorized,
                      "no cloud account is mapped to member '"
                        + spec.requesting_member + "'");
  if (!st.clouds.count(*account))
    return make_error(errc::cloud_error,
                      "mapper chose unknown account '" + *account + "'");
  return *account;
}

/// Answers a create the cloud refused with `err`. A full quota
/// (no_capacity) blocks `account`: the polls then watch its limits until
/// it has room again (and send capacity_freed).
template <class Self>
void fail_create(Self self, caf::typed_response_promise<instance>& rp,
                 const caf::error& err, const std::string& order_id,
                 const std::string& account) {
  auto& st = self->state;
  if (code_of(err) == errc::no_capacity) {
    st.quota_blocked.insert(account);
    st.blocked_limits.erase(account);
    arm_next_poll(self);
  }
  log()->warn("order {}: {}", order_id, message_of(err));
  rp.deliver(err);
}

/// The create every openstack driver makes once the request is checked:
/// on the cloud of the account the mapper chooses, `make(cloud)` runs on
/// a worker (it finds the order's resource or makes it) and gives `Made`;
/// then, in the driver, `on_made(made, account, rp)` records it and
/// answers `rp` or leaves it to await_ready. A refusal goes to fail_create.
template <class Made, class Self, class Make, class OnMade>
caf::result<instance> create_on_account(Self self, const instance_spec& spec,
                                        Make make, OnMade on_made) {
  auto account = account_for(self, spec);
  if (!account)
    return account.error();
  auto cloud = self->state.clouds[*account];
  auto rp = self->template make_response_promise<instance>();
  run_async<Made>(
    self, [cloud, make] { return make(*cloud); },
    [self, rp, order_id = spec.order_id, account = *account,
     on_made](outcome<Made>& o) mutable {
      if (o.error)
        fail_create(self, rp, o.error, order_id, account);
      else
        on_made(*o.value, account, rp);
    });
  return rp;
}

/// Answers a get with what a worker found: its error, not_found for `id`,
/// or the instance `to_instance(found)`.
template <class T, class ToInstance>
void deliver_found(caf::typed_response_promise<instance>& rp,
                   const std::string& id, outcome<std::optional<T>>& o,
                   ToInstance to_instance) {
  if (o.error)
    rp.deliver(o.error);
  else if (!*o.value)
    rp.deliver(make_error(errc::not_found, "no instance " + id));
  else
    rp.deliver(to_instance(**o.value));
}

/// Leaves the create of `id` (order `order_id`) to the listings: they
/// answer `rp` when it is ready or failed, or at the build deadline.
template <class Self>
void await_ready(Self self, const std::string& id, const std::string& order_id,
                 caf::typed_response_promise<instance> rp) {
  auto& st = self->state;
  st.since[id] = now_millis();
  st.creating[id] = {order_id, std::move(rp),
                     now_millis() + st.timing.build_timeout_ms};
  arm_poll(self, st.timing.poll_interval_ms);
}

/// The handlers every openstack driver has for its events: atom::subscribe
/// (the subscriber gets instance_changed and capacity_freed; polling starts)
/// and atom::poll (the timer's: `poll(self)` lists and reconciles).
template <class Self>
auto subscribe_handler(Self self) {
  return [self](atom::subscribe, const cloud_events_actor& sub) {
    self->state.subscriber = sub;
    arm_poll(self, self->state.timing.poll_interval_ms);
  };
}

template <class Self, class Poll>
auto poll_handler(Self self, Poll poll) {
  return [self, poll](atom::poll) {
    self->state.poll_armed_at = 0;
    poll(self);
  };
}

/// Records that deleting `id` (`attempt`) failed with `e`: it runs again
/// after a back-off, until the resource is gone.
template <class Self>
void retry_delete_later(Self self, const std::string& id,
                        const std::string& what, std::function<void()> attempt,
                        const caf::error& e) {
  auto delay = schedule_delete_retry(self->state, id, what, std::move(attempt),
                                     now_millis());
  log()->warn("could not delete {} {}: {}; trying again in {} ms", what, id,
              message_of(e), delay);
  arm_poll(self, delay);
}

/// Runs the delete retries that are due after a listing (`now_seen`, begun
/// at `started_at`). Once a retry went through, the listing sees the
/// resource go as for any delete of ours.
template <class Self>
void retry_deletes(Self self, const std::map<std::string, instance>& now_seen,
                   millis started_at) {
  auto& st = self->state;
  for (auto& id : due_delete_retries(st, now_seen, started_at, now_millis())) {
    auto attempt = st.retrying[id].remove;
    run_async<bool>(
      self,
      [attempt] {
        attempt();
        return true;
      },
      [self, id, attempt](outcome<bool>& o) {
        auto& st = self->state;
        auto it = st.retrying.find(id);
        if (it == st.retrying.end())
          return; // another delete finished it meanwhile
        auto what = it->second.what;
        if (o.error && code_of(o.error) != errc::not_found) {
          retry_delete_later(self, id, what, attempt, o.error);
          return;
        }
        log()->info("{} {} deleted after {} failed attempt(s)", what, id,
                    it->second.failures);
        st.retrying.erase(it);
        arm_poll(self, st.timing.poll_interval_ms);
      });
  }
}

/// Deletes `id` through the first candidate cloud that knows it
/// (`remove(cloud, id)` throws cloud_failure(not_found) where it does not)
/// with the bookkeeping every driver shares: marked `deleting` before the
/// call, so a poll that no longer sees it does not report it lost;
/// forgotten when no cloud knows it (errc::not_found); a create still
/// waiting for it answered with an error. When the cloud fails (it did not
/// answer, or 5xx) the caller gets the error and the driver keeps trying
/// until it is gone; a refusal that stays (e.g. conflict) ends the delete.
/// `what` names it ("server").
template <class Self, class Remove>
caf::result<atom::ok> delete_resource(Self self, const std::string& id,
                                      std::string what, Remove remove) {
  auto& st = self->state;
  auto clouds = candidate_clouds(self, id);
  auto rp = self->template make_response_promise<atom::ok>();
  bool was_deleting = !st.deleting.insert(id).second;
  std::function<void()> attempt = [clouds, id, what, remove] {
    for (auto& [account, cloud] : clouds) {
      try {
        remove(*cloud, id);
        return;
      } catch (const cloud_failure& e) {
        if (e.code != errc::not_found)
          throw;
      }
    }
    throw cloud_failure(errc::not_found, "no " + what + " " + id);
  };
  run_async<bool>(
    self,
    [attempt] {
      attempt();
      return true;
    },
    [self, rp, id, what, was_deleting, attempt](outcome<bool>& o) mutable {
      auto& st = self->state;
      if (o.error) {
        if (code_of(o.error) == errc::not_found) {
          st.known.erase(id);
          st.account_of.erase(id);
          st.since.erase(id);
          st.deleting.erase(id);
          st.retrying.erase(id);
        } else if (transient(o.error)) {
          retry_delete_later(self, id, what, attempt, o.error);
        } else if (!was_deleting) {
          st.deleting.erase(id);
        }
        rp.deliver(o.error);
        return;
      }
      log()->info("{} {} deleted", what, id);
      st.retrying.erase(id);
      if (auto it = st.creating.find(id); it != st.creating.end()) {
        it->second.rp.deliver(
          make_error(errc::cloud_error,
                     what + " " + id + " was deleted before it was ready"));
        st.creating.erase(it);
      }
      rp.deliver(atom::ok_v);
      arm_poll(self, st.timing.poll_interval_ms);
    });
  return rp;
}

/// Deletes `id`, which failed to become ready, through its account's cloud
/// (`remove(cloud, id)`), trying again after a back-off for as long as the
/// cloud fails, until it is gone; the listings see it go. It never served
/// anyone, so its going away frees nothing the scheduler waits for (a
/// capacity_freed would retry a failing create at once): `discarded`.
template <class Self, class Remove>
void discard_resource(Self self, const std::string& id, const std::string& what,
                      Remove remove) {
  auto& st = self->state;
  auto it = st.clouds.find(st.account_of[id]);
  if (it == st.clouds.end())
    return;
  auto cloud = it->second;
  st.deleting.insert(id);
  st.discarded.insert(id);
  std::function<void()> attempt = [cloud, id, remove] { remove(*cloud, id); };
  run_async<bool>(
    self,
    [attempt] {
      attempt();
      return true;
    },
    [self, id, what, attempt](outcome<bool>& o) {
      auto& st = self->state;
      if (!o.error)
        return;
      if (code_of(o.error) == errc::not_found) {
        st.deleting.erase(id);
        st.discarded.erase(id);
        return;
      }
      retry_delete_later(self, id, "failed " + what, attempt, o.error);
    });
}

/// Brings the driver up to date with a listing through the one reconcile
/// loop: `on_failed(x)` removes each create that failed, the subscriber
/// gets the changes, `on_gone(x)` runs for each known resource that
/// vanished, and due delete retries run. True when capacity was freed.
template <class Self, class OnFailed, class OnGone>
bool apply_listing(Self self, const std::map<std::string, instance>& now_seen,
                   millis started_at, const reconcile_policy& policy,
                   OnFailed on_failed, OnGone on_gone) {
  auto r = reconcile(self->state, now_seen, started_at, now_millis(), policy);
  for (auto& x : r.failed)
    on_failed(x);
  for (auto& x : r.events)
    notify(self, x);
  for (auto& x : r.gone)
    on_gone(x);
  retry_deletes(self, now_seen, started_at);
  return r.freed;
}

/// Copies a driver config's timing into the shared state and spawns its
/// workers.
template <class Self, class Config>
void init_driver(Self self, const Config& cfg) {
  auto& st = self->state;
  st.timing.poll_interval_ms = cfg.poll_interval_ms;
  st.timing.refresh_interval_ms = cfg.refresh_interval_ms;
  st.timing.build_timeout_ms = cfg.build_timeout_ms;
  for (int i = 0; i < std::max(1, cfg.workers); ++i)
    st.workers.push_back(
      self->template spawn<caf::detached + caf::linked>(openstack_worker));
}

/// One listing of every account's resources, with the quota of the
/// accounts that hit theirs.
template <class Item, class Limits>
struct account_listing {
  millis started_at = 0; ///< what was created after this may be missing
  std::map<std::string, std::vector<Item>> items; ///< account → resources
  std::map<std::string, Limits> limits; ///< quota-blocked accounts only
};

/// Lists every account on a worker (`list(cloud)`, plus `cloud.limits()`
/// of the quota-blocked accounts), one listing at a time. Then
/// `on_listing(account_listing&)`, or on failure a warning (once per
/// message) and `on_failure()`; then `rearm()` arms the next poll. `what`
/// names the resources in the log ("servers").
template <class Item, class Limits, class Self, class List, class OnListing,
          class OnFailure, class Rearm>
void poll_accounts(Self self, std::string what, List list, OnListing on_listing,
                   OnFailure on_failure, Rearm rearm) {
  auto& st = self->state;
  if (st.poll_in_flight)
    return;
  st.poll_in_flight = true;
  auto clouds = st.clouds;
  std::set<std::string> blocked = st.quota_blocked;
  auto started = now_millis();
  using listing = account_listing<Item, Limits>;
  run_async<listing>(
    self,
    [clouds, blocked, started, list] {
      listing r;
      r.started_at = started;
      for (auto& [account, cloud] : clouds)
        r.items[account] = list(*cloud);
      for (auto& account : blocked)
        if (auto it = clouds.find(account); it != clouds.end())
          r.limits[account] = it->second->limits();
      return r;
    },
    [self, started, what, on_listing, on_failure, rearm](outcome<listing>& o) {
      auto& st = self->state;
      st.poll_in_flight = false;
      st.last_poll_ms = now_millis() - started;
      if (o.error) {
        auto msg = message_of(o.error);
        if (msg != st.last_poll_error)
          log()->warn("cannot list the {}: {}", what, msg);
        st.last_poll_error = msg;
        on_failure();
      } else {
        if (!st.last_poll_error.empty())
          log()->info("listing {} works again", what);
        st.last_poll_error.clear();
        on_listing(*o.value);
      }
      rearm();
    });
}

/// Answers atom::list: every account's resources, listed on a worker
/// (`list(cloud)`); then, in the driver, `collect(account, items, out)`
/// appends their instances to `out` (and records what the driver keeps).
template <class Item, class Self, class List, class Collect>
caf::result<std::vector<instance>> list_accounts(Self self, List list,
                                                 Collect collect) {
  auto rp = self->template make_response_promise<std::vector<instance>>();
  auto clouds = self->state.clouds;
  using by_account = std::map<std::string, std::vector<Item>>;
  run_async<by_account>(
    self,
    [clouds, list] {
      by_account l;
      for (auto& [account, cloud] : clouds)
        l[account] = list(*cloud);
      return l;
    },
    [rp, collect](outcome<by_account>& o) mutable {
      if (o.error) {
        rp.deliver(o.error);
        return;
      }
      std::vector<instance> all;
      for (auto& [account, items] : *o.value)
        collect(account, items, all);
      rp.deliver(all);
    });
  return rp;
}

} // namespace fogbow::openstack_support
