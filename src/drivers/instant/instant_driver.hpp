// The `instant` cloud driver: FOR BENCHMARKS AND TESTS ONLY. Instances are
// entries in memory, created at once, never run anything and never fail,
// so a benchmark measures the manager rather than a cloud. It still obeys
// the driver contract: one instance per order id, flavor matching and
// capacity limits, as the local driver does. It serves every kind: volumes,
// networks and attachments are entries too (they do not count against the
// compute capacity), so the scheduler's and the REST API's handling of
// those kinds can be tested without a cloud.
#pragma once

#include "actors/actors.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace fogbow {

struct instant_driver_state {
  static inline const char* name = "instant-driver";

  cloud_resources resources; ///< totals and use, kept up to date
  std::vector<flavor> flavors;
  std::unordered_map<std::string, instance> instances;   ///< by id
  std::unordered_map<std::string, std::string> by_order; ///< order → id
  std::uint64_t next_id = 1;
  cloud_events_actor subscriber;
};

cloud_driver_actor::behavior_type
instant_driver(cloud_driver_actor::stateful_pointer<instant_driver_state> self,
               cloud_resources capacity, std::vector<flavor> flavors);

} // namespace fogbow
