// The ACCOUNTING actor (accounting_actor in actors.hpp): what every instance
// uses, per (user, requesting member, providing member), in vCPU·minutes,
// memory MB·minutes and volume GB·minutes.
//
// It learns of instances from the order store (the store tells it every
// committed change): an order counts while it is `fulfilled` with an
// instance. Its size is what it asked for (vcpu, memory_mb; a served order
// carries them in its requirements; a volume its size_gb), so requester and
// provider count the same amount. Use is added to the totals at every change
// of an order and every `period`, each time together with the instance's
// "counted up to" time in one transaction of its own SQLite file: a kill -9
// loses at most what was not committed yet, and a restart (which reconciles
// with the stored orders) counts every instance on from where it stopped.
// The time a manager is down counts for instances still fulfilled when it
// comes back: they were held all along.
#pragma once

#include "actors/actors.hpp"
#include "store/usage_store.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace fogbow {

/// Settings of the accounting actor, filled in by src/roles/.
struct accounting_config {
  std::string self_id; ///< this manager's member id
  /// How often running instances' use is added to the totals.
  std::chrono::milliseconds period{60000};
  std::function<millis()> clock = now_millis;
  /// When set, gets the exchange table after every commit (for the
  /// policies that run in other actors, e.g. the nof member picker).
  std::shared_ptr<fed::exchange_board> board;
  /// How the debts sent to a balances listener are computed.
  fed::nof_settings nof;
};

struct accounting_state {
  static inline const char* name = "accounting";
  using key = std::tuple<std::string, std::string, std::string>;
  accounting_config config;
  /// Empty only when opening failed (the actor is then quitting).
  std::optional<usage_store> db;
  std::map<key, usage_amount> totals;                ///< committed
  std::map<std::string, accounted_instance> counted; ///< by order id
  balances_listener_actor listener; ///< null until one subscribes
};

/// Opens the usage store at `path`, then reconciles it with `stored` (every
/// order of the order store at start): orders fulfilled now are counted on
/// (from their fulfilled_at when they are new to it), instances it counted
/// whose order has since ended are closed at that order's updated_at.
/// Quits with errc::storage_failure when SQLite fails.
accounting_actor::behavior_type
accounting(accounting_actor::stateful_pointer<accounting_state> self,
           const std::string& path, accounting_config config,
           const std::vector<order>& stored);

} // namespace fogbow
