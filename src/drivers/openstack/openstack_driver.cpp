#include "drivers/openstack/openstack_driver.hpp"

#include "domain/placement.hpp"
#include "drivers/openstack/driver_support.hpp"
#include "drivers/openstack/policies.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <optional>

namespace fogbow {

namespace {

using self_ptr =
  openstack_driver_actor::stateful_pointer<openstack_driver_state>;

using namespace openstack_support;

std::shared_ptr<openstack_cloud> cloud_of(self_ptr self,
                                          const std::string& account) {
  auto it = self->state.clouds.find(account);
  return it == self->state.clouds.end() ? nullptr : it->second;
}

std::string default_account(self_ptr self) {
  return self->state.cfg.mapper->default_account();
}

struct created {
  std::string id;
  nova_flavor f;
  std::string image;
};

/// Blocking: creates the order's server with the smallest flavor that
/// satisfies it.
created make_server(openstack_cloud& cloud, const instance_spec& spec) {
  auto fls = cloud.flavors();
  std::vector<flavor> sizes;
  sizes.reserve(fls.size());
  for (auto& f : fls)
    sizes.push_back(f.size);
  auto pick = pick_flavor(sizes, spec);
  nova_flavor chosen;
  for (auto& f : fls)
    if (f.size == pick) {
      chosen = f;
      break;
    }
  created c;
  c.image = cloud.image_id(spec.image);
  c.id = cloud.create_server(spec, chosen);
  c.f = chosen;
  return c;
}

} // namespace

openstack_worker_actor::behavior_type openstack_worker() {
  return {
    [](atom::run, const openstack_task& task) {
      (*task)();
      return atom::ok_v;
    },
  };
}

openstack_driver_actor::behavior_type
openstack_driver(self_ptr self, openstack_driver_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  for (auto& [name, account] : st.cfg.accounts) {
    auto shared = st.cfg.sessions.find(name);
    auto session =
      shared != st.cfg.sessions.end()
        ? shared->second
        : std::make_shared<keystone_session>(st.cfg.endpoint, account);
    st.clouds.emplace(name, std::make_shared<openstack_cloud>(
                              std::move(session), st.cfg.member_id,
                              st.cfg.network_id, st.cfg.default_image));
  }
  init_driver(self, st.cfg);
  return {
    [self](atom::create, const instance_spec& spec) -> caf::result<instance> {
      if (auto made = made_for_order(self->state, spec.order_id))
        return *made;
      return create_on_account<created>(
        self, spec,
        [spec](openstack_cloud& cloud) { return make_server(cloud, spec); },
        [self, spec](const created& c, const std::string& account,
                     caf::typed_response_promise<instance>& rp) {
          auto& st = self->state;
          log()->info("order {}: server {} created (flavor {}, account {})",
                      spec.order_id, c.id, c.f.size.name, account);
          instance x;
          x.id = c.id;
          x.order_id = spec.order_id;
          x.state = instance_state::spawning;
          x.size = c.f.size;
          x.image = c.image;
          x.created_at = now_millis();
          st.known[c.id] = x;
          st.account_of[c.id] = account;
          await_ready(self, c.id, spec.order_id, rp);
        });
    },
    [self](atom::get, const std::string& id) -> caf::result<instance> {
      auto& st = self->state;
      auto acc =
        st.account_of.count(id) ? st.account_of[id] : default_account(self);
      auto cloud = cloud_of(self, acc);
      if (!cloud)
        return make_error(errc::not_found, "no instance " + id);
      auto rp = self->make_response_promise<instance>();
      run_async<std::optional<instance>>(
        self, [cloud, id] { return cloud->get_server(id); },
        [rp, id](outcome<std::optional<instance>>& o) mutable {
          deliver_found(rp, id, o, [](const instance& x) { return x; });
        });
      return rp;
    },
    [self](atom::erase, const std::string& id) -> caf::result<atom::ok> {
      std::string order_id;
      if (auto k = self->state.known.find(id); k != self->state.known.end())
        order_id = k->second.order_id;
      return delete_resource(
        self, id, "server",
        [order_id](openstack_cloud& c, const std::string& s) {
          c.delete_server(s);
          if (!order_id.empty())
            c.delete_keypair(order_id);
        });
    },
    [self](atom::list) -> caf::result<std::vector<instance>> {
      return list_accounts<instance>(
        self, [](openstack_cloud& c) { return c.list_servers(); },
        [self](const std::string& account, std::vector<instance>& servers,
               std::vector<instance>& all) {
          auto& st = self->state;
          for (auto& x : servers) {
            st.account_of[x.id] = account;
            if (!st.creating.count(x.id))
              st.known[x.id] = x;
            all.push_back(x);
          }
        });
    },
    [self](atom::resources) -> caf::result<cloud_resources> {
      auto rp = self->make_response_promise<cloud_resources>();
      auto clouds = self->state.clouds;
      run_async<cloud_resources>(
        self,
        [clouds] {
          cloud_resources sum;
          bool first = true;
          for (auto& [account, cloud] : clouds) {
            auto r = cloud->limits();
            if (first) {
              sum = r;
              first = false;
              continue;
            }
            auto add = [](int& a, int b) { a = (a < 0 || b < 0) ? -1 : a + b; };
            add(sum.vcpu_total, r.vcpu_total);
            add(sum.memory_mb_total, r.memory_mb_total);
            add(sum.instances_total, r.instances_total);
            sum.vcpu_used += r.vcpu_used;
            sum.memory_mb_used += r.memory_mb_used;
            sum.instances_used += r.instances_used;
          }
          return sum;
        },
        [rp](outcome<cloud_resources>& o) mutable {
          if (o.error)
            rp.deliver(o.error);
          else
            rp.deliver(*o.value);
        });
      return rp;
    },
    [](atom::set_capacity, const cloud_resources&) -> caf::result<atom::ok> {
      return make_error(errc::unsupported,
                        "an OpenStack's capacity is its project quota: change "
                        "it in OpenStack (openstack quota set)");
    },
    subscribe_handler(self),
    poll_handler(self, poll_servers),
  };
}

} // namespace fogbow
