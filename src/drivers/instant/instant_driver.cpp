#include "drivers/instant/instant_driver.hpp"

#include "drivers/local/local_cloud.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cstdio>

namespace fogbow {

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
