// The member proxy: the requester side of the manager-to-manager protocol
// (docs/protocol.md). Each call becomes one IQ to the other member's
// manager through the XMPP bridge; each answer is decoded here, so that the
// scheduler only ever sees domain values and errc codes.
#pragma once

#include "actors/actors.hpp"

#include <caf/stateful_actor.hpp>

#include <chrono>
#include <string>

namespace fogbow {

struct member_proxy_config {
  std::string self_id; ///< this manager's member id (bare JID)
  /// The XMPP resource of every manager of the federation: a member id is a
  /// bare JID, and an IQ has to reach a full one.
  std::string resource = "fogbow";
  /// How long a member may take to answer an order.
  std::chrono::milliseconds forward_timeout{20000};
};

struct member_proxy_state {
  static inline const char* name = "member-proxy";
  member_proxy_config config;
  xmpp_bridge_actor bridge;
};

member_proxy_actor::behavior_type
member_proxy(member_proxy_actor::stateful_pointer<member_proxy_state> self,
             xmpp_bridge_actor bridge, member_proxy_config config);

} // namespace fogbow
