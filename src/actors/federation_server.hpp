// The federation server: the provider side of the manager-to-manager
// protocol. It answers the IQs other members send (order, getinstance,
// removeinstance, removeorder, instancebeingused, getremoteuserquota) after
// checking that the sender is a current member and that the member
// validator lets this site serve it; the order scheduler does the work.
#pragma once

#include "actors/actors.hpp"

#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace fogbow {

struct federation_server_config {
  std::string self_id; ///< this manager's member id (bare JID)
  std::shared_ptr<const fed::member_validator> validator;
  std::shared_ptr<const fed::capacity_controller> capacity;
  /// How long serving one order may take (the cloud creates the instance).
  std::chrono::milliseconds serve_timeout{120000};
  /// Tests only: answers to `order` IQs leave this much later.
  std::chrono::milliseconds answer_delay{0};
};

struct federation_server_state {
  static inline const char* name = "federation-server";
  federation_server_config config;
  order_scheduler_actor scheduler;
  tunnel_client_actor tunnel;    ///< unset: instances have no tunnel
  std::set<std::string> members; ///< alive members, by the last list
  /// Delayed answers (answer_delay), by ticket.
  std::map<std::uint64_t, std::pair<caf::typed_response_promise<xml::element>,
                                    caf::expected<xml::element>>>
    delayed;
  std::uint64_t next_ticket = 0;
};

federation_server_actor::behavior_type federation_server(
  federation_server_actor::stateful_pointer<federation_server_state> self,
  order_scheduler_actor scheduler, tunnel_client_actor tunnel,
  federation_server_config config);

} // namespace fogbow
