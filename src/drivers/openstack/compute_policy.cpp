// Nova servers in the one reconcile loop: a create waits for its server to
// leave BUILD (ACTIVE → ready; ERROR → failed, "No valid host" meaning no
// capacity), a failed server is deleted with its keypair, and a quota
// block ends when /limits shows more free instances, vCPUs or RAM than
// when the account was blocked.
#include "drivers/openstack/driver_support.hpp"
#include "drivers/openstack/policies.hpp"

namespace fogbow::openstack_support {

namespace {

class compute_policy : public reconcile_policy {
public:
  verdict judge(const std::string& id, const instance* x) const override {
    if (!x)
      return {verdict::failed, errc::cloud_error,
              "server " + id + " vanished while it was being built"};
    if (x->state == instance_state::running)
      return {verdict::ready};
    if (x->state == instance_state::failed
        || x->state == instance_state::lost) {
      auto code =
        is_no_valid_host(x->fault) ? errc::no_capacity : errc::cloud_error;
      return {verdict::failed, code, "server failed to build: " + x->fault};
    }
    return {verdict::wait};
  }

  std::string noun(const instance&) const override { return "server"; }
};

/// More free instances, vCPUs or RAM than `before` (negative: unlimited).
bool more_room(const cloud_resources& now, const cloud_resources& before) {
  auto more = [](int total_now, int used_now, int total_b, int used_b) {
    auto free_now = total_now < 0 ? 1 << 30 : total_now - used_now;
    auto free_b = total_b < 0 ? 1 << 30 : total_b - used_b;
    return free_now > free_b;
  };
  return more(now.instances_total, now.instances_used, before.instances_total,
              before.instances_used)
         || more(now.vcpu_total, now.vcpu_used, before.vcpu_total,
                 before.vcpu_used)
         || more(now.memory_mb_total, now.memory_mb_used,
                 before.memory_mb_total, before.memory_mb_used);
}

/// Deletes a server we gave up on (ERROR while building) and its keypair.
void discard_server(compute_self self, const instance& x) {
  discard_resource(
    self, x.id, "server",
    [order_id = x.order_id](openstack_cloud& c, const std::string& server) {
      c.delete_server(server);
      if (!order_id.empty())
        c.delete_keypair(order_id);
    });
}

using server_listing = account_listing<instance, cloud_resources>;

void on_server_listing(compute_self self, server_listing& res) {
  auto& st = self->state;
  std::map<std::string, instance> now_seen;
  for (auto& [account, list] : res.items)
    for (auto& x : list) {
      st.account_of[x.id] = account;
      now_seen.emplace(x.id, x);
    }
  bool freed = apply_listing(
    self, now_seen, res.started_at, compute_policy{},
    [self](const instance& x) { discard_server(self, x); },
    [](const instance&) {});
  auto room_again = [](const cloud_resources& now,
                       const cloud_resources* before) {
    return before && more_room(now, *before);
  };
  for (auto& account :
       end_quota_blocks(st, st.blocked_limits, res.limits, room_again)) {
    log()->info("the quota of account '{}' has room again", account);
    freed = true;
  }
  if (freed)
    send_capacity_freed(self);
}

} // namespace

void poll_servers(compute_self self) {
  poll_accounts<instance, cloud_resources>(
    self, "servers", [](openstack_cloud& c) { return c.list_servers(); },
    [self](server_listing& res) { on_server_listing(self, res); },
    [self] { expire_waiters(self->state, now_millis()); },
    [self] { arm_next_poll(self); });
}

} // namespace fogbow::openstack_support
