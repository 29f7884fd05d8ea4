// The STORE actor (store_actor in actors.hpp): the single owner of the
// manager's order database.
#pragma once

#include "actors/actors.hpp"
#include "store/order_store.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <optional>
#include <string>

namespace fogbow {

struct store_state {
  static inline const char* name = "store";
  /// Empty only while spawning, or when opening failed (the actor is then
  /// already quitting).
  std::optional<order_store> db;
  /// Told every committed change; unset until someone subscribes.
  order_listener_actor listener;
};

/// Opens (and migrates) the database at `path`. When that fails the actor
/// quits at once with errc::storage_failure and the reason as its message,
/// so whoever monitors or links to it (the role's supervisor) sees why.
/// Each handler answers errc::storage_failure when SQLite fails; nothing is
/// then acknowledged, and a failed put stores none of its orders.
store_actor::behavior_type
store(store_actor::stateful_pointer<store_state> self, const std::string& path);

} // namespace fogbow
