#include "drivers/instant/instant_driver.hpp"

#include "actors/errors.hpp"
#include "domain/placement.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cstdio>

namespace fogbow {

namespace {

using self_ptr = cloud_driver_actor::stateful_pointer<instant_driver_state>;

std::string next_id(self_ptr self, std::string_view prefix) {
  char id[48]; // zero-padded, so that ids sort in creation order
  std::snprintf(id, sizeof(id), "%.*s-%012llu", static_cast<int>(prefix.size()),
                prefix.data(),
                static_cast<unsigned long long>(self->state.next_id++));
  return id;
}

/// A volume, network or attachment for `spec`; throws cloud_failure.
instance make_resource(self_ptr self, const instance_spec& spec) {
  auto& st = self->state;
  instance x;
  x.order_id = spec.order_id;
  x.kind = spec.kind;
  x.state = instance_state::running;
  x.created_at = now_millis();
  switch (spec.kind) {
  case resource_kind::volume:
    x.id = next_id(self, "instant-volume");
    x.size_gb = spec.size_gb;
    break;
  case resource_kind::network:
    x.id = next_id(self, "instant-network");
    x.network_cidr = spec.network_cidr;
    x.network_gateway = spec.network_gateway;
    break;
  case resource_kind::attachment: {
    auto server = st.instances.find(spec.server_id);
    auto volume = st.instances.find(spec.volume_id);
    if (server == st.instances.end()
        || server->second.kind != resource_kind::compute)
      throw cloud_failure(errc::not_found, "no server " + spec.server_id);
    if (volume == st.instances.end()
        || volume->second.kind != resource_kind::volume)
      throw cloud_failure(errc::not_found, "no volume " + spec.volume_id);
    if (!volume->second.server_id.empty())
      throw cloud_failure(errc::invalid_argument, "volume " + spec.volume_id
                                                    + " is already attached to "
                                                    + volume->second.server_id);
    volume->second.server_id = spec.server_id;
    x.id = attachment_local_id(spec.server_id, spec.volume_id);
    x.server_id = spec.server_id;
    x.volume_id = spec.volume_id;
    x.device = spec.device.empty() ? "/dev/vdb" : spec.device;
    break;
  }
  case resource_kind::compute:
    throw cloud_failure(errc::unsupported, "not a resource");
  }
  return x;
}

} // namespace

cloud_driver_actor::behavior_type
instant_driver(cloud_driver_actor::stateful_pointer<instant_driver_state> self,
               cloud_resources capacity, std::vector<flavor> flavors) {
  auto& st = self->state;
  st.resources.vcpu_total = capacity.vcpu_total;
  st.resources.memory_mb_total = capacity.memory_mb_total;
  st.resources.instances_total = capacity.instances_total;
  st.flavors = std::move(flavors);
  auto capacity_freed = [self] {
    if (self->state.subscriber)
      self->send(self->state.subscriber, atom::capacity_freed_v);
  };
  return {
    [self](atom::create, const instance_spec& spec) -> caf::result<instance> {
      auto& st = self->state;
      if (auto i = st.by_order.find(spec.order_id); i != st.by_order.end())
        return st.instances.at(i->second);
      try {
        if (spec.kind != resource_kind::compute) {
          auto x = make_resource(self, spec);
          st.by_order.emplace(x.order_id, x.id);
          st.instances.emplace(x.id, x);
          return x;
        }
        auto size = pick_flavor(st.flavors, spec);
        check_room(st.resources, size);
        add_use(st.resources, size);
        instance x;
        char id[32]; // zero-padded, so that ids sort in creation order
        std::snprintf(id, sizeof(id), "instant-%012llu",
                      static_cast<unsigned long long>(st.next_id++));
        x.id = id;
        x.order_id = spec.order_id;
        x.state = instance_state::running;
        x.size = std::move(size);
        x.image = spec.image;
        x.ip = "127.0.0.1";
        x.created_at = now_millis();
        st.by_order.emplace(x.order_id, x.id);
        st.instances.emplace(x.id, x);
        return x;
      } catch (const cloud_failure& e) {
        return make_error(e.code, e.what());
      }
    },
    [self](atom::get, const std::string& id) -> caf::result<instance> {
      auto i = self->state.instances.find(id);
      if (i == self->state.instances.end())
        return make_error(errc::not_found, "no instance " + id);
      return i->second;
    },
    [self, capacity_freed](atom::erase,
                           const std::string& id) -> caf::result<atom::ok> {
      auto& st = self->state;
      auto i = st.instances.find(id);
      if (i == st.instances.end())
        return make_error(errc::not_found, "no instance " + id);
      auto x = i->second;
      if (x.kind != resource_kind::compute) {
        if (x.kind == resource_kind::volume && !x.server_id.empty())
          return make_error(errc::conflict, "volume " + id
                                              + " is attached to server "
                                              + x.server_id);
        if (x.kind == resource_kind::attachment)
          if (auto v = st.instances.find(x.volume_id); v != st.instances.end())
            v->second.server_id.clear();
        st.by_order.erase(x.order_id);
        st.instances.erase(i);
        return atom::ok_v;
      }
      // Like Nova: deleting a server detaches its volumes.
      std::vector<instance> detached;
      for (auto& [aid, a] : st.instances)
        if (a.kind == resource_kind::attachment && a.server_id == id)
          detached.push_back(a);
      for (auto& a : detached) {
        if (auto v = st.instances.find(a.volume_id); v != st.instances.end())
          v->second.server_id.clear();
        st.by_order.erase(a.order_id);
        st.instances.erase(a.id);
        a.state = instance_state::lost;
        a.fault = "its server was deleted";
        if (st.subscriber)
          self->send(st.subscriber, atom::instance_changed_v, a);
      }
      i = st.instances.find(id);
      auto& size = i->second.size;
      st.resources.instances_used -= 1;
      st.resources.vcpu_used -= std::max(size.vcpu, 0);
      st.resources.memory_mb_used -= std::max(size.memory_mb, 0);
      st.by_order.erase(i->second.order_id);
      st.instances.erase(i);
      capacity_freed();
      return atom::ok_v;
    },
    [self](atom::list) {
      std::vector<instance> out;
      out.reserve(self->state.instances.size());
      for (auto& [id, x] : self->state.instances)
        out.push_back(x);
      std::sort(out.begin(), out.end(),
                [](auto& a, auto& b) { return a.id < b.id; });
      return out;
    },
    [self](atom::resources) { return self->state.resources; },
    [self, capacity_freed](atom::set_capacity, const cloud_resources& totals) {
      auto& r = self->state.resources;
      bool raised = totals.vcpu_total > r.vcpu_total
                    || totals.memory_mb_total > r.memory_mb_total
                    || totals.instances_total > r.instances_total;
      r.vcpu_total = totals.vcpu_total;
      r.memory_mb_total = totals.memory_mb_total;
      r.instances_total = totals.instances_total;
      if (raised)
        capacity_freed();
      return atom::ok_v;
    },
    [self](atom::subscribe, cloud_events_actor sub) {
      self->state.subscriber = std::move(sub);
    },
  };
}

} // namespace fogbow
