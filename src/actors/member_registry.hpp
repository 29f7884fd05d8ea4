// The member registry of a manager: sends `iamalive` to the rendezvous on
// its period (the one the rendezvous names), pulls every `whoisalive` page
// and keeps the member list with liveness. A rendezvous that does not
// answer keeps the last known list; the outage is logged once.
#pragma once

#include "actors/actors.hpp"

#include <caf/stateful_actor.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fogbow {

struct member_registry_state {
  static inline const char* name = "member-registry";

  member_registry_config config;
  xmpp_bridge_actor bridge;
  std::int64_t period_ms = 0;            ///< current heartbeat period
  std::map<std::string, millis> members; ///< id → last confirmed
  bool busy = false;                     ///< a round is in flight
  bool failing = false;                  ///< last round failed (logged once)
  bool refused = false;         ///< the rendezvous refused our heartbeat
  std::int64_t rounds = 0;      ///< completed rounds
  std::uint64_t generation = 0; ///< of the heartbeat timer
  /// Told the member list whenever it changes.
  std::vector<members_listener_actor> listeners;
  /// (id, alive) of the list last told, to tell only changes.
  std::vector<std::pair<std::string, bool>> last_told;
};

member_registry_actor::behavior_type member_registry(
  member_registry_actor::stateful_pointer<member_registry_state> self,
  xmpp_bridge_actor bridge, member_registry_config config);

} // namespace fogbow
