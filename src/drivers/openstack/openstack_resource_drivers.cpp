#include "drivers/openstack/openstack_resource_drivers.hpp"

#include "drivers/openstack/driver_support.hpp"
#include "drivers/openstack/policies.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <functional>
#include <optional>

namespace fogbow {

namespace {

using namespace openstack_support;

caf::error disabled(const char* what) {
  return make_error(
    errc::unsupported,
    std::string{what} + " orders are switched off for this OpenStack ("
      + (std::string{what} == "network" ? "networks" : "volumes")
      + " = false in [manager.driver.openstack])");
}

caf::error not_served(const char* driver, resource_kind kind) {
  return make_error(errc::unsupported, std::string{"the OpenStack "} + driver
                                         + " driver does not serve "
                                         + std::string{to_string(kind)}
                                         + " orders");
}

/// Sets up a volume or network driver from its config (in the state): one
/// `Cloud` API per account (none when switched off: list() is empty and
/// nothing polls), the workers and the timing.
template <class Cloud, class Self>
void init_resource_driver(Self self) {
  auto& st = self->state;
  if (st.cfg.enabled)
    for (auto& [name, session] : st.cfg.sessions)
      st.clouds.emplace(name,
                        std::make_shared<Cloud>(session, st.cfg.member_id));
  init_driver(self, st.cfg);
  st.timing.detach_timeout_ms = st.cfg.detach_timeout_ms;
}

// -- volumes and attachments -------------------------------------------------

/// What a create of a volume or an attachment found or made.
struct volume_made {
  instance x;
  bool ready = false; ///< already in the wanted state
};

caf::result<instance> create_volume(volume_self self,
                                    const instance_spec& spec) {
  auto& st = self->state;
  if (auto made = made_for_order(st, spec.order_id, resource_kind::volume))
    return *made;
  if (spec.size_gb < 1)
    return make_error(errc::invalid_argument,
                      "a volume order needs size_gb >= 1");
  return create_on_account<instance>(
    self, spec,
    [spec](openstack_volumes& cloud) {
      cloud.require_service();
      if (auto found = cloud.find_volume(spec.order_id))
        return found->volume;
      return cloud.create_volume(spec).volume;
    },
    [self, spec](instance x, const std::string& account,
                 caf::typed_response_promise<instance>& rp) {
      auto& st = self->state;
      x.order_id = spec.order_id;
      st.account_of[x.id] = account;
      st.known[x.id] = x;
      if (x.state == instance_state::running) {
        rp.deliver(x);
        return;
      }
      log()->info("order {}: volume {} ({} GB) created, account {}",
                  spec.order_id, x.id, x.size_gb, account);
      await_ready(self, x.id, spec.order_id, rp);
    });
}

caf::result<instance> create_attachment(volume_self self,
                                        const instance_spec& spec) {
  auto& st = self->state;
  if (spec.server_id.empty() || spec.volume_id.empty())
    return make_error(
      errc::invalid_argument,
      "an attachment needs the local ids of a server and a volume");
  auto id = attachment_local_id(spec.server_id, spec.volume_id);
  if (auto k = st.known.find(id);
      k != st.known.end() && !st.deleting.count(id) && !st.creating.count(id)
      && !st.erasing.count(id) && k->second.state == instance_state::running) {
    auto x = k->second;
    x.order_id = spec.order_id;
    return x;
  }
  auto account = st.account_of.count(spec.volume_id)
                   ? caf::expected<std::string>{st.account_of[spec.volume_id]}
                   : account_for(self, spec);
  if (!account)
    return account.error();
  auto cloud = st.clouds[*account];
  auto rp = self->make_response_promise<instance>();
  run_async<volume_made>(
    self,
    [cloud, spec, id] {
      cloud->require_service();
      auto v = cloud->get_volume(spec.volume_id);
      if (!v)
        throw cloud_failure(errc::not_found, "no volume " + spec.volume_id);
      volume_made m;
      for (auto& a : v->attachments)
        if (a.server_id == spec.server_id) {
          if (v->attachment_order != spec.order_id)
            cloud->set_metadata(spec.volume_id, "fogbow-attachment-order",
                                spec.order_id);
          m.x = a;
          m.x.order_id = spec.order_id;
          m.ready = true;
          return m;
        }
      if (!v->attachments.empty())
        throw cloud_failure(
          errc::conflict, "volume " + spec.volume_id + " is attached to server "
                            + v->attachments.front().server_id);
      if (v->volume.state != instance_state::running)
        throw cloud_failure(errc::conflict, "volume " + spec.volume_id + " is "
                                              + v->status + ", not available");
      cloud->set_metadata(spec.volume_id, "fogbow-attachment-order",
                          spec.order_id);
      try {
        m.x.device = cloud->attach(spec.server_id, spec.volume_id, spec.device);
      } catch (const cloud_failure&) {
        cloud->remove_metadata(spec.volume_id, "fogbow-attachment-order");
        throw;
      }
      m.x.kind = resource_kind::attachment;
      m.x.id = id;
      m.x.order_id = spec.order_id;
      m.x.server_id = spec.server_id;
      m.x.volume_id = spec.volume_id;
      m.x.state = instance_state::spawning;
      m.x.created_at = now_millis();
      return m;
    },
    [self, rp, spec, id, account = *account](outcome<volume_made>& o) mutable {
      auto& st = self->state;
      if (o.error) {
        log()->warn("order {}: {}", spec.order_id, message_of(o.error));
        rp.deliver(o.error);
        return;
      }
      auto& x = o.value->x;
      st.account_of[id] = account;
      st.known[id] = x;
      if (o.value->ready) {
        rp.deliver(x);
        return;
      }
      log()->info("order {}: attaching volume {} to server {} (device {})",
                  spec.order_id, spec.volume_id, spec.server_id,
                  x.device.empty() ? "?" : x.device);
      await_ready(self, id, spec.order_id, rp);
    });
  return rp;
}

caf::result<atom::ok> erase_attachment(volume_self self, const std::string& id,
                                       const std::string& server,
                                       const std::string& volume) {
  auto& st = self->state;
  auto cs = candidate_clouds(self, id);
  if (!st.account_of.count(id) && st.account_of.count(volume)) {
    cs.clear();
    cs.emplace_back(st.account_of[volume], st.clouds[st.account_of[volume]]);
  }
  auto rp = self->make_response_promise<atom::ok>();
  st.deleting.insert(id);
  run_async<bool>(
    self,
    [cs, server, volume] {
      for (auto& [name, c] : cs) {
        try {
          c->detach(server, volume);
          return true;
        } catch (const cloud_failure& e) {
          if (e.code != errc::not_found)
            throw;
        }
      }
      throw cloud_failure(errc::not_found, "volume " + volume
                                             + " is not attached to server "
                                             + server);
    },
    [self, rp, id](outcome<bool>& o) mutable {
      auto& st = self->state;
      if (o.error) {
        if (code_of(o.error) == errc::not_found) {
          clear_attachment_mark(self, id, st.known[id].order_id);
          st.known.erase(id);
          st.since.erase(id);
        }
        st.deleting.erase(id);
        rp.deliver(o.error);
        return;
      }
      log()->info("attachment {} detaching", id);
      if (auto it = st.creating.find(id); it != st.creating.end()) {
        it->second.rp.deliver(
          make_error(errc::cloud_error,
                     "attachment " + id + " was removed while attaching"));
        st.creating.erase(it);
      }
      st.erasing[id].push_back(
        {rp, now_millis() + st.timing.detach_timeout_ms});
      arm_poll(self, st.timing.poll_interval_ms);
    });
  return rp;
}

caf::result<atom::ok> erase_volume(volume_self self, const std::string& id) {
  // Attached or busy: Cinder refuses, errc::conflict with its message.
  return delete_resource(
    self, id, "volume",
    [](openstack_volumes& c, const std::string& v) { c.delete_volume(v); });
}

// -- networks
// ------------------------------------------------------------------

/// Blocking: the order's network with its subnet, found (a crash may have
/// left it without subnet) or made. A subnet Neutron refuses takes the new
/// network with it, as far as Neutron lets us.
neutron_network make_network(openstack_networks& cloud,
                             const instance_spec& spec) {
  cloud.require_service();
  auto n = cloud.find_network(spec.order_id);
  if (!n)
    n = cloud.create_network(spec);
  if (n->subnet_id.empty()) {
    try {
      cloud.create_subnet(n->net.id, spec);
    } catch (const cloud_failure&) {
      try {
        cloud.delete_network(n->net.id);
      } catch (const cloud_failure&) {
        // the poll lists it; the scheduler removes leftovers
      }
      throw;
    }
  }
  auto now = cloud.get_network(n->net.id);
  if (!now)
    throw cloud_failure(errc::cloud_error,
                        "network " + n->net.id
                          + " vanished while it was being created");
  return *now;
}

} // namespace

openstack_driver_actor::behavior_type
openstack_volume_driver(volume_self self,
                        openstack_resource_driver_config cfg) {
  self->state.cfg = std::move(cfg);
  init_resource_driver<openstack_volumes>(self);
  return {
    [self](atom::create, const instance_spec& spec) -> caf::result<instance> {
      if (!self->state.cfg.enabled)
        return disabled(spec.kind == resource_kind::attachment ? "attachment"
                                                               : "volume");
      if (spec.kind == resource_kind::attachment)
        return create_attachment(self, spec);
      if (spec.kind == resource_kind::volume)
        return create_volume(self, spec);
      return not_served("volume", spec.kind);
    },
    [self](atom::get, const std::string& id) -> caf::result<instance> {
      auto att = split_attachment_id(id);
      auto volume = att ? att->second : id;
      auto cs = candidate_clouds(
        self, att && !self->state.account_of.count(id) ? volume : id);
      auto rp = self->make_response_promise<instance>();
      run_async<std::optional<cinder_volume>>(
        self,
        [cs, volume] {
          return first_found(
            cs, [&](openstack_volumes& c) { return c.get_volume(volume); });
        },
        [rp, id, att](outcome<std::optional<cinder_volume>>& o) mutable {
          if (o.error) {
            rp.deliver(o.error);
            return;
          }
          if (*o.value) {
            auto& v = **o.value;
            if (!att) {
              rp.deliver(v.volume);
              return;
            }
            for (auto& a : v.attachments)
              if (a.id == id) {
                rp.deliver(a);
                return;
              }
          }
          rp.deliver(make_error(errc::not_found, "no instance " + id));
        });
      return rp;
    },
    [self](atom::erase, const std::string& id) -> caf::result<atom::ok> {
      if (auto att = split_attachment_id(id))
        return erase_attachment(self, id, att->first, att->second);
      return erase_volume(self, id);
    },
    [self](atom::list) -> caf::result<std::vector<instance>> {
      return list_accounts<cinder_volume>(
        self, [](openstack_volumes& c) { return c.list_volumes(); },
        [self](const std::string& account, std::vector<cinder_volume>& vs,
               std::vector<instance>& all) {
          auto& st = self->state;
          remember_listing(self, account, vs);
          std::vector<instance> mine;
          flatten(vs, mine);
          for (auto& x : mine) {
            if (!st.creating.count(x.id) && !st.deleting.count(x.id))
              st.known[x.id] = x;
            all.push_back(x);
          }
        });
    },
    [](atom::resources) -> caf::result<cloud_resources> {
      return make_error(errc::unsupported,
                        "the volume driver reports no compute capacity");
    },
    [](atom::set_capacity, const cloud_resources&) -> caf::result<atom::ok> {
      return make_error(errc::unsupported,
                        "an OpenStack's volume quota is set in "
                        "OpenStack (openstack quota set --volumes)");
    },
    subscribe_handler(self),
    poll_handler(self, poll_volumes),
  };
}

openstack_driver_actor::behavior_type
openstack_network_driver(network_self self,
                         openstack_resource_driver_config cfg) {
  self->state.cfg = std::move(cfg);
  init_resource_driver<openstack_networks>(self);
  return {
    [self](atom::create, const instance_spec& spec) -> caf::result<instance> {
      auto& st = self->state;
      if (!st.cfg.enabled)
        return disabled("network");
      if (spec.kind != resource_kind::network)
        return not_served("network", spec.kind);
      if (auto made = made_for_order(st, spec.order_id))
        return *made;
      if (spec.network_cidr.empty())
        return make_error(errc::invalid_argument,
                          "a network order needs network_cidr");
      return create_on_account<neutron_network>(
        self, spec,
        [spec](openstack_networks& cloud) { return make_network(cloud, spec); },
        [self, spec](const neutron_network& n, const std::string& account,
                     caf::typed_response_promise<instance>& rp) {
          auto& st = self->state;
          auto x = n.net;
          x.order_id = spec.order_id;
          st.account_of[x.id] = account;
          st.known[x.id] = x;
          log()->info("order {}: network {} ({}) is {}", spec.order_id, x.id,
                      x.network_cidr, n.status);
          if (x.state == instance_state::running) {
            rp.deliver(x);
            return;
          }
          if (x.state == instance_state::failed) {
            rp.deliver(make_error(errc::cloud_error,
                                  "network " + x.id + " failed: " + x.fault));
            discard_network(self, x.id);
            st.known.erase(x.id);
            return;
          }
          await_ready(self, x.id, spec.order_id, rp);
        });
    },
    [self](atom::get, const std::string& id) -> caf::result<instance> {
      auto cs = candidate_clouds(self, id);
      auto rp = self->make_response_promise<instance>();
      run_async<std::optional<neutron_network>>(
        self,
        [cs, id] {
          return first_found(
            cs, [&](openstack_networks& c) { return c.get_network(id); });
        },
        [rp, id](outcome<std::optional<neutron_network>>& o) mutable {
          deliver_found(rp, id, o,
                        [](const neutron_network& n) { return n.net; });
        });
      return rp;
    },
    [self](atom::erase, const std::string& id) -> caf::result<atom::ok> {
      // Its subnets go with it; ports still on it → errc::conflict.
      return delete_resource(self, id, "network",
                             [](openstack_networks& c, const std::string& n) {
                               c.delete_network(n);
                             });
    },
    [self](atom::list) -> caf::result<std::vector<instance>> {
      return list_accounts<neutron_network>(
        self, [](openstack_networks& c) { return c.list_networks(); },
        [self](const std::string& account, std::vector<neutron_network>& ns,
               std::vector<instance>& all) {
          auto& st = self->state;
          for (auto& n : ns) {
            st.account_of[n.net.id] = account;
            if (!st.creating.count(n.net.id) && !st.deleting.count(n.net.id))
              st.known[n.net.id] = n.net;
            all.push_back(n.net);
          }
        });
    },
    [](atom::resources) -> caf::result<cloud_resources> {
      return make_error(errc::unsupported,
                        "the network driver reports no compute capacity");
    },
    [](atom::set_capacity, const cloud_resources&) -> caf::result<atom::ok> {
      return make_error(errc::unsupported,
                        "an OpenStack's network quota is set in "
                        "OpenStack");
    },
    subscribe_handler(self),
    poll_handler(self, poll_networks),
  };
}

} // namespace fogbow
