// Cinder volumes and their Nova attachments in the one reconcile loop. A
// volume create waits for `available` (error → failed, the volume is
// deleted); an attachment create waits until Cinder shows the volume in-use
// on the server (reserved/attaching → wait; anything else → failed, and the
// attachment order written into the volume's metadata is cleared again, as
// it is when an attachment vanishes). Only volumes going away free
// capacity. A quota block ends when Cinder's /limits show more room.
#include "drivers/openstack/driver_support.hpp"
#include "drivers/openstack/policies.hpp"

namespace fogbow::openstack_support {

namespace {

class volume_policy : public reconcile_policy {
public:
  /// Cinder's status of each volume in the listing being reconciled.
  explicit volume_policy(
    const std::map<std::string, std::string>& volume_status)
      : volume_status_(volume_status) {}

  verdict judge(const std::string& id, const instance* x) const override {
    if (auto att = split_attachment_id(id))
      return judge_attachment(att->first, att->second, x);
    if (!x)
      return {verdict::failed, errc::cloud_error,
              "volume " + id + " vanished while it was being created"};
    if (x->state == instance_state::running)
      return {verdict::ready};
    if (x->state == instance_state::failed)
      return {verdict::failed, errc::cloud_error,
              "volume " + id + " failed to be created: " + x->fault};
    return {verdict::wait};
  }

  bool frees(const instance& x) const override {
    return x.kind == resource_kind::volume;
  }

private:
  verdict judge_attachment(const std::string& server, const std::string& volume,
                           const instance* x) const {
    if (x)
      return {x->state == instance_state::running ? verdict::ready
                                                  : verdict::wait};
    auto s = volume_status_.find(volume);
    if (s == volume_status_.end())
      return {verdict::failed, errc::cloud_error,
              "volume " + volume + " vanished while it was being attached"};
    if (s->second == "reserved" || s->second == "attaching")
      return {verdict::wait};
    return {verdict::failed, errc::cloud_error,
            "attaching volume " + volume + " to server " + server
              + " failed: the volume is " + s->second};
  }

  const std::map<std::string, std::string>& volume_status_;
};

void discard_volume(volume_self self, const std::string& id) {
  discard_resource(
    self, id, "volume",
    [](openstack_volumes& c, const std::string& v) { c.delete_volume(v); });
}

using volume_listing = account_listing<cinder_volume, volume_limits>;

void on_volume_listing(volume_self self, volume_listing& res) {
  auto& st = self->state;
  std::map<std::string, instance> now_seen;
  st.volume_status.clear();
  for (auto& [account, vs] : res.items) {
    remember_listing(self, account, vs);
    std::vector<instance> flat;
    flatten(vs, flat);
    for (auto& x : flat)
      now_seen.emplace(x.id, x);
  }
  auto on_failed = [self](const instance& x) {
    if (split_attachment_id(x.id))
      clear_attachment_mark(self, x.id, x.order_id);
    else
      discard_volume(self, x.id);
  };
  auto on_gone = [self](const instance& x) {
    if (x.kind == resource_kind::attachment)
      clear_attachment_mark(self, x.id, x.order_id);
  };
  bool freed =
    apply_listing(self, now_seen, res.started_at,
                  volume_policy{st.volume_status}, on_failed, on_gone);
  auto room_again = [](const volume_limits& now, const volume_limits* before) {
    return before && more_room(now, *before);
  };
  for (auto& account :
       end_quota_blocks(st, st.blocked_limits, res.limits, room_again)) {
    log()->info("the volume quota of account '{}' has room again", account);
    freed = true;
  }
  if (freed)
    send_capacity_freed(self);
}

} // namespace

void flatten(const std::vector<cinder_volume>& vs, std::vector<instance>& out) {
  for (auto& c : vs) {
    out.push_back(c.volume);
    for (auto& a : c.attachments)
      if (!a.order_id.empty())
        out.push_back(a);
  }
}

void remember_listing(volume_self self, const std::string& account,
                      const std::vector<cinder_volume>& vs) {
  auto& st = self->state;
  for (auto& c : vs) {
    st.volume_status[c.volume.id] = c.status;
    st.account_of[c.volume.id] = account;
    for (auto& a : c.attachments)
      if (!a.order_id.empty())
        st.account_of[a.id] = account;
  }
}

void clear_attachment_mark(volume_self self, const std::string& attachment_id,
                           const std::string& order_id) {
  auto& st = self->state;
  auto ids = split_attachment_id(attachment_id);
  if (!ids || order_id.empty())
    return;
  auto account = st.account_of.count(attachment_id)
                   ? st.account_of[attachment_id]
                   : st.account_of[ids->second];
  auto it = st.clouds.find(account);
  if (it == st.clouds.end())
    return;
  auto cloud = it->second;
  auto volume = ids->second;
  run_async<bool>(
    self,
    [cloud, volume, order_id] {
      auto v = cloud->get_volume(volume);
      if (v && v->attachments.empty() && v->attachment_order == order_id)
        cloud->remove_metadata(volume, "fogbow-attachment-order");
      return true;
    },
    [](outcome<bool>&) {});
}

void poll_volumes(volume_self self) {
  poll_accounts<cinder_volume, volume_limits>(
    self, "volumes", [](openstack_volumes& c) { return c.list_volumes(); },
    [self](volume_listing& res) { on_volume_listing(self, res); },
    [self] { expire_waiters(self->state, now_millis()); },
    [self] { arm_next_poll(self); });
}

} // namespace fogbow::openstack_support
