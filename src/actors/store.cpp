#include "actors/store.hpp"

#include "actors/errors.hpp"

#include <caf/result.hpp>

namespace fogbow {

store_actor::behavior_type
store(store_actor::stateful_pointer<store_state> self,
      const std::string& path) {
  try {
    self->state.db.emplace(order_store::open(path));
  } catch (const store_error& e) {
    self->quit(make_error(errc::storage_failure, e.what()));
    // No handlers: nothing may touch the missing database before the
    // actor is gone.
    return store_actor::behavior_type::make_empty_behavior();
  }
  return {
    [=](atom::put, const std::vector<order>& orders) -> caf::result<atom::ok> {
      try {
        self->state.db->put(orders);
        if (self->state.listener)
          self->send(self->state.listener, atom::update_v, orders);
        return atom::ok_v;
      } catch (const store_error& e) {
        return make_error(errc::storage_failure, e.what());
      }
    },
    [=](atom::erase, const std::string& id) -> caf::result<atom::ok> {
      try {
        self->state.db->erase(id);
        if (self->state.listener)
          self->send(self->state.listener, atom::erase_v, id);
        return atom::ok_v;
      } catch (const store_error& e) {
        return make_error(errc::storage_failure, e.what());
      }
    },
    [=](atom::load) -> caf::result<std::vector<order>> {
      try {
        return self->state.db->load_all();
      } catch (const store_error& e) {
        return make_error(errc::storage_failure, e.what());
      }
    },
    [=](atom::subscribe, order_listener_actor listener) {
      self->state.listener = std::move(listener);
    },
  };
}

} // namespace fogbow
