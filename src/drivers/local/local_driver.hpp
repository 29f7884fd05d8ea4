// The `local` cloud driver actor: local_cloud behind the cloud_driver_actor
// interface.
//
// Deaths of instance processes are noticed by a monitor thread owned by the
// state. It waits on local_cloud::exit_fd(), calls local_cloud::reap() and
// sends (instance_changed, instance) and then (capacity_freed) straight to
// the subscriber: the driver interface has no message for "a process
// exited", and reap() is thread-safe, so no detour through the driver actor
// is needed. Consequence: such an event may overtake a reply of the driver
// (e.g. the create reply of an instance that died at once), so subscribers
// match events by the instance's order id and id.
//
// create and erase block (fork; up to a few seconds of SIGTERM grace), so
// roles spawn this actor `caf::detached`.
#pragma once

#include "actors/actors.hpp"
#include "drivers/local/local_cloud.hpp"

#include <memory>

namespace fogbow {

class exit_monitor;

struct local_driver_state {
  static inline const char* name = "local-driver";

  local_driver_state();
  ~local_driver_state();

  // Declared in this order so that the monitor thread stops before the
  // cloud it watches is destroyed.
  std::unique_ptr<local_cloud> cloud;
  std::unique_ptr<exit_monitor> monitor; ///< also holds the subscriber
};

cloud_driver_actor::behavior_type
local_driver(cloud_driver_actor::stateful_pointer<local_driver_state> self,
             local_cloud_config cfg);

} // namespace fogbow
