// The rendezvous: the federation's member directory (Java protocol, see
// docs/protocol.md). Serves iamalive, whoisalive and synch/whoisalive IQs
// through an XMPP bridge, expires silent members, pulls every page of its
// neighbours' directories.
#pragma once

#include "actors/actors.hpp"
#include "federation/rendezvous_protocol.hpp"

#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <string>

namespace fogbow {

struct rendezvous_state {
  static inline const char* name = "rendezvous";

  rendezvous_config config;
  xmpp_bridge_actor bridge;
  rdv::member_directory directory;
  /// Neighbours whose last sync failed (logged once per outage).
  std::set<std::string> failing_neighbors;
  std::set<std::string> syncing; ///< neighbours with a sync in progress
  std::int64_t refused = 0;      ///< heartbeats refused by the whitelist
};

/// `bridge` is used only to pull from neighbours (may be null when there are
/// none). The role registers the actor with the bridge for the three
/// namespaces.
rendezvous_actor::behavior_type
rendezvous(rendezvous_actor::stateful_pointer<rendezvous_state> self,
           xmpp_bridge_actor bridge, rendezvous_config config);

} // namespace fogbow
