// Neutron networks in the one reconcile loop: a create waits for ACTIVE
// with its subnet (ERROR → failed, the network is deleted). A network order
// needs one network and one subnet, so a quota block ends when Neutron's
// quota has room for both (e.g. it was raised right after the refusal) or
// more room than when the account was blocked.
#include "drivers/openstack/driver_support.hpp"
#include "drivers/openstack/policies.hpp"

namespace fogbow::openstack_support {

namespace {

class network_policy : public reconcile_policy {
public:
  verdict judge(const std::string& id, const instance* x) const override {
    if (!x)
      return {verdict::failed, errc::cloud_error,
              "network " + id + " vanished while it was being created"};
    if (x->state == instance_state::running)
      return {verdict::ready};
    if (x->state == instance_state::failed)
      return {verdict::failed, errc::cloud_error,
              "network " + id + " failed: " + x->fault};
    return {verdict::wait};
  }
};

using network_listing = account_listing<neutron_network, network_limits>;

void on_network_listing(network_self self, network_listing& res) {
  auto& st = self->state;
  std::map<std::string, instance> now_seen;
  for (auto& [account, ns] : res.items)
    for (auto& n : ns) {
      st.account_of[n.net.id] = account;
      now_seen.emplace(n.net.id, n.net);
    }
  bool freed = apply_listing(
    self, now_seen, res.started_at, network_policy{},
    [self](const instance& x) { discard_network(self, x.id); },
    [](const instance&) {});
  auto room_again = [](const network_limits& now,
                       const network_limits* before) {
    auto room = [](int total, int used) { return total < 0 || used < total; };
    return (room(now.networks_total, now.networks_used)
            && room(now.subnets_total, now.subnets_used))
           || (before && more_room(now, *before));
  };
  for (auto& account :
       end_quota_blocks(st, st.blocked_limits, res.limits, room_again)) {
    log()->info("the network quota of account '{}' has room again", account);
    freed = true;
  }
  if (freed)
    send_capacity_freed(self);
}

} // namespace

void discard_network(network_self self, const std::string& id) {
  discard_resource(
    self, id, "network",
    [](openstack_networks& c, const std::string& n) { c.delete_network(n); });
}

void poll_networks(network_self self) {
  poll_accounts<neutron_network, network_limits>(
    self, "networks", [](openstack_networks& c) { return c.list_networks(); },
    [self](network_listing& res) { on_network_listing(self, res); },
    [self] { expire_waiters(self->state, now_millis()); },
    [self] { arm_next_poll(self); });
}

} // namespace fogbow::openstack_support
