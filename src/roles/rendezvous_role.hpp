// Wires the rendezvous role: the whitelist (fails closed), the rendezvous
// actor, and its registration with the XMPP bridge for the three Java
// namespaces.
#pragma once

#include "actors/actors.hpp"
#include "roles/config.hpp"

#include <caf/fwd.hpp>

#include <set>
#include <string>

namespace fogbow {

/// Reads a whitelist file: one member id (bare JID) per line, surrounding
/// whitespace trimmed, blank lines and lines starting with '#' skipped.
/// Throws std::runtime_error when the file cannot be read.
std::set<std::string> load_whitelist(const std::string& path);

class rendezvous_role {
public:
  rendezvous_role(caf::actor_system& sys, fogbow_config config);
  ~rendezvous_role();

  /// Checks the whitelist (a missing or unreadable file throws
  /// std::runtime_error: the rendezvous never runs open by accident),
  /// spawns the rendezvous and has `bridge` route its namespaces to it.
  void start(const xmpp_bridge_actor& bridge);

  /// Stops the supervisor and the rendezvous with it. Idempotent.
  void stop();

  /// The rendezvous start() spawned (a restart replaces it).
  rendezvous_actor handle() const { return rendezvous_; }

private:
  caf::actor_system& sys_;
  fogbow_config config_;
  rendezvous_actor rendezvous_;
  supervisor_actor supervisor_;
};

} // namespace fogbow
