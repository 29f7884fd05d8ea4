#include "drivers/tunnel/tunnel_driver.hpp"

#include "actors/errors.hpp"
#include "util/log_safe.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace fogbow {

namespace {

using self_ptr = cloud_driver_actor::stateful_pointer<tunnel_driver_state>;

constexpr auto tunnel_timeout = std::chrono::seconds(15);

void release(self_ptr self, const std::string& order_id) {
  self
    ->request(self->state.client, tunnel_timeout, atom::tunnel_release_v,
              order_id)
    .then([](atom::ok) {},
          [order_id](const caf::error& e) {
            spdlog::warn("tunnel: cannot release the token of order {}: {} "
                         "(it expires when idle)",
                         order_id, log_safe(message_of(e)));
          });
}

} // namespace

cloud_driver_actor::behavior_type tunnel_driver(self_ptr self,
                                                cloud_driver_actor inner,
                                                tunnel_client_actor client,
                                                tunnel_agent_settings agent) {
  self->state.inner = std::move(inner);
  self->state.client = std::move(client);
  self->state.agent = std::move(agent);
  self->link_to(self->state.inner);
  return {
    [self](atom::create, instance_spec spec) -> caf::result<instance> {
      auto rp = self->make_response_promise<instance>();
      auto order_id = spec.order_id;
      self
        ->request(self->state.client, tunnel_timeout, atom::tunnel_register_v,
                  order_id)
        .then(
          [self, rp, spec](const tunnel_access& access) mutable {
            spec.user_data =
              tunnel_user_data(self->state.agent, access, spec.user_data);
            self
              ->request(self->state.inner, wrapped_driver_timeout,
                        atom::create_v, std::move(spec))
              .then(
                [self, rp](instance& x) mutable {
                  self->state.order_of[x.id] = x.order_id;
                  rp.deliver(std::move(x));
                },
                [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](atom::get, const std::string& id) -> caf::result<instance> {
      auto rp = self->make_response_promise<instance>();
      self->request(self->state.inner, wrapped_driver_timeout, atom::get_v, id)
        .then(
          [self, rp](instance& x) mutable {
            self->state.order_of[x.id] = x.order_id;
            rp.deliver(std::move(x));
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](atom::erase, const std::string& id) -> caf::result<atom::ok> {
      auto rp = self->make_response_promise<atom::ok>();
      auto erase = [self, rp, id](const std::string& order_id) mutable {
        self
          ->request(self->state.inner, wrapped_driver_timeout, atom::erase_v,
                    id)
          .then(
            [self, rp, id, order_id](atom::ok) mutable {
              self->state.order_of.erase(id);
              if (!order_id.empty())
                release(self, order_id);
              rp.deliver(atom::ok_v);
            },
            [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      };
      auto it = self->state.order_of.find(id);
      if (it != self->state.order_of.end()) {
        erase(it->second);
      } else {
        self
          ->request(self->state.inner, wrapped_driver_timeout, atom::get_v, id)
          .then([erase](instance& x) mutable { erase(x.order_id); },
                [erase](caf::error&) mutable { erase({}); });
      }
      return rp;
    },
    [self](atom::list) -> caf::result<std::vector<instance>> {
      auto rp = self->make_response_promise<std::vector<instance>>();
      self->request(self->state.inner, wrapped_driver_timeout, atom::list_v)
        .then(
          [self, rp](std::vector<instance>& xs) mutable {
            for (auto& x : xs)
              self->state.order_of[x.id] = x.order_id;
            rp.deliver(std::move(xs));
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self](atom::resources) {
      return self->delegate(self->state.inner, atom::resources_v);
    },
    [self](atom::set_capacity, const cloud_resources& r) {
      return self->delegate(self->state.inner, atom::set_capacity_v, r);
    },
    [self](atom::subscribe, cloud_events_actor who) {
      self->send(self->state.inner, atom::subscribe_v, std::move(who));
    },
  };
}

} // namespace fogbow
