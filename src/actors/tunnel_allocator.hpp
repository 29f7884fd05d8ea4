// The tunnel allocator (tunnel_allocator_actor in actors.hpp): the tunnel
// role's token → public port table, persisted in SQLite (tunnel_store)
// before any reply, plus the credentials of each token family and which SSH
// sessions are up.
//
// Rules: the lowest free port of the range; a token keeps its port for as
// long as it exists (also across restarts); named extra ports are tokens
// `<base>-<name>` of the base token's family, which share its credentials;
// a name is 1..32 of [A-Za-z0-9_-] and a family holds at most
// `max_named_tokens` of them (a new one beyond that is refused with
// errc::conflict, whatever the caller); a family without a connected
// session for `idle_timeout_ms` is deleted.
#pragma once

#include "actors/actors.hpp"
#include "store/tunnel_store.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace fogbow {

struct tunnel_allocator_config {
  int port_low = 20000; ///< public range, both ends included
  int port_high = 30000;
  std::int64_t idle_timeout_ms = 86400000; ///< 0: never expire
  std::int64_t sweep_interval_ms = 30000;
  /// Named tokens one family may hold besides its base token.
  int max_named_tokens = 16;
  /// Closes whatever forwards `port` (the SSH server); may be empty.
  std::function<void(int port)> close_port;
  /// Gives `port` to SSH session `sid` (the SSH server opens it or takes
  /// it over); false when it cannot. Called while a forward is granted, so
  /// that no deletion can come between the check and the claim. Empty:
  /// every claim succeeds.
  std::function<bool(std::uint64_t sid, int port)> claim_port;
  std::function<millis()> clock = now_millis;
};

struct tunnel_allocator_state {
  static inline const char* name = "tunnel-allocator";
  tunnel_allocator_config config;
  std::unique_ptr<tunnel_store> db;
  std::map<std::string, tunnel_token> tokens; ///< by id
  std::map<int, std::string> by_port;
  std::map<std::uint64_t, std::string> sessions;       ///< session → base
  std::map<std::string, std::set<std::uint64_t>> live; ///< base → sessions
};

/// The base token of the family `login` belongs to: `login` itself when it
/// is a base token (one with a secret), else the longest base `b` with
/// `login` == `b-<name>`.
std::optional<std::string>
tunnel_family_of(const std::map<std::string, tunnel_token>& tokens,
                 const std::string& login);

/// Opens the database at `db_path` (":memory:" in tests) and loads it.
/// When that fails the actor quits with errc::storage_failure.
tunnel_allocator_actor::behavior_type tunnel_allocator(
  tunnel_allocator_actor::stateful_pointer<tunnel_allocator_state> self,
  const std::string& db_path, tunnel_allocator_config config);

} // namespace fogbow
