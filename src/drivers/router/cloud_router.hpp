// A cloud driver made of one driver per resource kind: servers go to the
// compute driver (itself maybe wrapped by the tunnel driver), volumes and
// attachments to a block-storage driver, networks to a network driver. The
// scheduler sees one cloud_driver_actor; a kind without a driver is refused
// with errc::unsupported, and the scheduler parks such orders with that
// message instead of retrying them.
//
// get/erase carry only a local id: the router remembers the kind of every
// id it has seen in a create or list reply (the scheduler lists at start,
// so after a restart too). An id it never saw is an attachment when it
// has the attachment form `<server>:<volume>`, else a server.
#pragma once

#include "actors/actors.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <string>

namespace fogbow {

struct cloud_router_state {
  static inline const char* name = "cloud-router";
  std::map<resource_kind, cloud_driver_actor> drivers;
  std::map<std::string, resource_kind> kind_of; ///< local id → kind
};

/// `drivers` must contain resource_kind::compute. One actor may serve
/// several kinds; it is then listed and subscribed once.
cloud_driver_actor::behavior_type
cloud_router(cloud_driver_actor::stateful_pointer<cloud_router_state> self,
             std::map<resource_kind, cloud_driver_actor> drivers);

} // namespace fogbow
