#include "actors/accounting.hpp"

#include "actors/errors.hpp"

#include <caf/result.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace fogbow {

namespace {

using self_ptr = accounting_actor::stateful_pointer<accounting_state>;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = [] {
    auto existing = spdlog::get("accounting");
    return existing ? existing : spdlog::default_logger()->clone("accounting");
  }();
  return logger;
}

/// The number after the last `term` in a requirements expression: the
/// sizes a requester appends to what it forwards (requirements::combine).
int size_in(const std::string& requirements, const std::string& term) {
  auto at = requirements.rfind(term);
  if (at == std::string::npos)
    return 0;
  return std::atoi(requirements.c_str() + at + term.size());
}

/// Orders whose instance uses something worth counting.
bool counts(const order& o) {
  return o.state == order_state::fulfilled && !o.instance_id.empty()
         && (o.kind == resource_kind::compute
             || o.kind == resource_kind::volume);
}

accounted_instance start_of(self_ptr self, const order& o, millis now) {
  auto& id = self->state.config.self_id;
  accounted_instance x;
  x.order_id = o.id;
  x.instance_id = o.instance_id;
  x.user = o.user_id;
  x.requesting = o.requesting_member.empty() ? id : o.requesting_member;
  x.providing = o.providing_member.empty() ? id : o.providing_member;
  if (o.kind == resource_kind::volume) {
    x.volume_gb = o.size_gb;
  } else if (o.vcpu > 0) {
    x.vcpu = o.vcpu;
    x.memory_mb = o.memory_mb;
  } else {
    x.vcpu = size_in(o.requirements, "Glue2vCPU >= ");
    x.memory_mb = size_in(o.requirements, "Glue2RAM >= ");
  }
  x.accounted_until = o.fulfilled_at > 0 ? std::min(o.fulfilled_at, now) : now;
  return x;
}

/// Use of `x` from its accounted_until to `until`.
usage_amount use_of(const accounted_instance& x, millis until) {
  auto minutes =
    static_cast<double>(std::max<millis>(0, until - x.accounted_until))
    / 60000.0;
  return {x.vcpu * minutes, x.memory_mb * minutes, x.volume_gb * minutes};
}

/// The changes of one commit, built against the state before it; the
/// overlay holds what this commit changed (nullopt: no longer counted).
struct plan {
  usage_commit commit;
  std::map<std::string, std::optional<accounted_instance>> overlay;

  /// Adds the use of `x` up to `until`, and moves x on to it.
  void count(accounted_instance x, millis until) {
    if (until > x.accounted_until) {
      auto use = use_of(x, until);
      if (use != usage_amount{})
        commit.added.push_back({x.user, x.requesting, x.providing, use});
      x.accounted_until = until;
    }
    overlay[x.order_id] = std::move(x);
  }
  /// Adds the use of `x` up to `until`, then stops counting it.
  void end(const accounted_instance& x, millis until) {
    count(x, until);
    overlay[x.order_id] = std::nullopt;
  }
};

std::optional<accounted_instance> lookup(self_ptr self, const plan& p,
                                         const std::string& order_id) {
  if (auto it = p.overlay.find(order_id); it != p.overlay.end())
    return it->second;
  auto& counted = self->state.counted;
  if (auto it = counted.find(order_id); it != counted.end())
    return it->second;
  return std::nullopt;
}

/// An order changed: count its instance up to now, or up to the change
/// that ended it, and start counting a new instance.
void on_order(self_ptr self, plan& p, const order& o, millis now) {
  auto current = lookup(self, p, o.id);
  bool holds = counts(o);
  if (current) {
    if (holds && current->instance_id == o.instance_id) {
      p.count(*current, now);
      return;
    }
    auto ended = o.updated_at > 0
                   ? std::clamp(o.updated_at, current->accounted_until, now)
                   : now;
    p.end(*current, ended);
  }
  if (holds)
    p.count(start_of(self, o, now), now);
}

/// Commits `p`, then makes it the state. A failed commit ends the actor:
/// the state stays what SQLite holds, and a restart resumes from there.
void apply(self_ptr self, plan& p) {
  auto& st = self->state;
  for (auto& [id, x] : p.overlay)
    if (x)
      p.commit.counted.push_back(*x);
    else
      p.commit.ended.push_back(id);
  if (p.commit.added.empty() && p.commit.counted.empty()
      && p.commit.ended.empty())
    return;
  try {
    st.db->commit(p.commit);
  } catch (const store_error& e) {
    log()->critical("cannot store usage: {}", e.what());
    self->quit(make_error(errc::storage_failure, e.what()));
    return;
  }
  for (auto& r : p.commit.added)
    st.totals[{r.user, r.requesting, r.providing}] += r.amount;
  for (auto& [id, x] : p.overlay)
    if (x)
      st.counted[id] = std::move(*x);
    else
      st.counted.erase(id);
  if (st.config.board) {
    std::vector<usage_record> rows;
    for (auto& [k, amount] : st.totals)
      rows.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), amount});
    st.config.board->publish(fed::exchanges_of(rows, st.config.self_id));
  }
}

/// Totals up to now, with the uncommitted use of running instances.
std::vector<usage_record> usage_now(self_ptr self, const std::string& user) {
  auto& st = self->state;
  auto now = st.config.clock();
  auto sums = st.totals;
  for (auto& [id, x] : st.counted)
    sums[{x.user, x.requesting, x.providing}] += use_of(x, now);
  std::vector<usage_record> out;
  for (auto& [k, amount] : sums)
    if (user.empty() || std::get<0>(k) == user)
      out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), amount});
  return out;
}

/// What passed between this member and each other one up to now, and the
/// debts the Network of Favors draws from it, to the listener if any.
void send_balances(self_ptr self) {
  auto& st = self->state;
  if (!st.listener)
    return;
  auto table = fed::exchanges_of(usage_now(self, {}), st.config.self_id);
  fed::debt_table debts;
  for (auto& [member, x] : table)
    debts.emplace(member, fed::nof_debt(x, st.config.nof));
  self->send(st.listener, atom::balances_v, std::move(table), std::move(debts));
}

/// At start: every stored order as a change, and instances whose order has
/// left the store closed where they were last counted.
void reconcile(self_ptr self, const std::vector<order>& stored) {
  auto now = self->state.config.clock();
  plan p;
  std::set<std::string> known;
  for (auto& o : stored) {
    known.insert(o.id);
    on_order(self, p, o, now);
  }
  for (auto& [id, x] : self->state.counted)
    if (!known.contains(id))
      p.end(x, x.accounted_until);
  apply(self, p);
}

} // namespace

accounting_actor::behavior_type
accounting(accounting_actor::stateful_pointer<accounting_state> self,
           const std::string& path, accounting_config config,
           const std::vector<order>& stored) {
  auto& st = self->state;
  st.config = std::move(config);
  try {
    st.db.emplace(usage_store::open(path));
    for (auto& r : st.db->totals())
      st.totals[{r.user, r.requesting, r.providing}] = r.amount;
    for (auto& x : st.db->counted())
      st.counted[x.order_id] = x;
  } catch (const store_error& e) {
    self->quit(make_error(errc::storage_failure, e.what()));
    return accounting_actor::behavior_type::make_empty_behavior();
  }
  reconcile(self, stored);
  self->delayed_send(self, st.config.period, atom::account_v);
  return {
    [=](atom::update, const std::vector<order>& orders) {
      auto now = self->state.config.clock();
      plan p;
      for (auto& o : orders)
        on_order(self, p, o, now);
      apply(self, p);
    },
    [=](atom::erase, const std::string& order_id) {
      plan p;
      if (auto x = lookup(self, p, order_id))
        p.end(*x, self->state.config.clock());
      apply(self, p);
    },
    [=](atom::usage, const std::string& user) { return usage_now(self, user); },
    [=](atom::exchanges) {
      return fed::exchanges_of(usage_now(self, {}), self->state.config.self_id);
    },
    [=](atom::subscribe, balances_listener_actor listener) {
      self->state.listener = std::move(listener);
      send_balances(self);
    },
    [=](atom::account) {
      auto now = self->state.config.clock();
      plan p;
      for (auto& [id, x] : self->state.counted)
        p.count(x, now);
      apply(self, p);
      send_balances(self);
      self->delayed_send(self, self->state.config.period, atom::account_v);
    },
  };
}

} // namespace fogbow
