#include "drivers/router/cloud_router.hpp"

#include "actors/errors.hpp"

#include <caf/all.hpp>

#include <memory>
#include <vector>

namespace fogbow {

namespace {

using self_ptr = cloud_driver_actor::stateful_pointer<cloud_router_state>;

/// Each driver once, however many kinds it serves.
std::vector<cloud_driver_actor> distinct_drivers(self_ptr self) {
  std::vector<cloud_driver_actor> out;
  for (auto& [kind, d] : self->state.drivers)
    if (std::find(out.begin(), out.end(), d) == out.end())
      out.push_back(d);
  return out;
}

resource_kind kind_of_id(self_ptr self, const std::string& id) {
  auto& st = self->state;
  if (auto it = st.kind_of.find(id); it != st.kind_of.end())
    return it->second;
  return split_attachment_id(id) ? resource_kind::attachment
                                 : resource_kind::compute;
}

caf::error unsupported(resource_kind kind) {
  return make_error(errc::unsupported,
                    "the cloud driver of this member does not serve "
                      + std::string{to_string(kind)} + " orders");
}

} // namespace

cloud_driver_actor::behavior_type
cloud_router(self_ptr self,
             std::map<resource_kind, cloud_driver_actor> drivers) {
  self->state.drivers = std::move(drivers);
  for (auto& d : distinct_drivers(self))
    self->link_to(d);
  return {
    [self](atom::create, instance_spec spec) -> caf::result<instance> {
      auto kind = spec.kind;
      auto it = self->state.drivers.find(kind);
      if (it == self->state.drivers.end())
        return unsupported(kind);
      auto rp = self->make_response_promise<instance>();
      self
        ->request(it->second, wrapped_driver_timeout, atom::create_v,
                  std::move(spec))
        .then(
          [self, rp, kind](instance& x) mutable {
            x.kind = kind;
            self->state.kind_of[x.id] = kind;
            rp.deliver(std::move(x));
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](atom::get, const std::string& id) -> caf::result<instance> {
      auto kind = kind_of_id(self, id);
      auto it = self->state.drivers.find(kind);
      if (it == self->state.drivers.end())
        return make_error(errc::not_found, "no instance " + id);
      return self->delegate(it->second, atom::get_v, id);
    },
    [self](atom::erase, const std::string& id) -> caf::result<atom::ok> {
      auto kind = kind_of_id(self, id);
      auto it = self->state.drivers.find(kind);
      if (it == self->state.drivers.end())
        return make_error(errc::not_found, "no instance " + id);
      auto rp = self->make_response_promise<atom::ok>();
      self->request(it->second, wrapped_driver_timeout, atom::erase_v, id)
        .then(
          [self, rp, id](atom::ok) mutable {
            self->state.kind_of.erase(id);
            rp.deliver(atom::ok_v);
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](atom::list) -> caf::result<std::vector<instance>> {
      struct gather {
        std::vector<instance> all;
        size_t pending = 0;
        bool failed = false;
      };
      auto targets = distinct_drivers(self);
      auto g = std::make_shared<gather>();
      g->pending = targets.size();
      auto rp = self->make_response_promise<std::vector<instance>>();
      for (auto& d : targets)
        self->request(d, wrapped_driver_timeout, atom::list_v)
          .then(
            [self, rp, g](std::vector<instance>& xs) mutable {
              for (auto& x : xs) {
                self->state.kind_of[x.id] = x.kind;
                g->all.push_back(std::move(x));
              }
              if (--g->pending == 0 && !g->failed)
                rp.deliver(std::move(g->all));
            },
            [rp, g](caf::error& e) mutable {
              --g->pending;
              // The first failure answers; a partial list would make the
              // scheduler replace instances that still exist.
              if (!g->failed) {
                g->failed = true;
                rp.deliver(std::move(e));
              }
            });
      return rp;
    },
    [self](atom::resources) -> caf::result<cloud_resources> {
      return self->delegate(self->state.drivers.at(resource_kind::compute),
                            atom::resources_v);
    },
    [self](atom::set_capacity,
           const cloud_resources& totals) -> caf::result<atom::ok> {
      return self->delegate(self->state.drivers.at(resource_kind::compute),
                            atom::set_capacity_v, totals);
    },
    [self](atom::subscribe, const cloud_events_actor& sub) {
      for (auto& d : distinct_drivers(self))
        self->send(d, atom::subscribe_v, sub);
    },
  };
}

} // namespace fogbow
