// The three kinds of resource the openstack drivers reconcile, each a small
// policy of the one reconcile loop (reconcile.hpp): what a listing shows,
// when a pending create is ready or failed, how a failed one is removed and
// when a quota block ends. One file each: compute_policy.cpp,
// volume_policy.cpp, network_policy.cpp. Included only by the drivers'
// .cpp files.
#pragma once

#include "drivers/openstack/openstack_driver.hpp"
#include "drivers/openstack/openstack_resource_drivers.hpp"

#include <string>
#include <vector>

namespace fogbow::openstack_support {

using compute_self =
  openstack_driver_actor::stateful_pointer<openstack_driver_state>;
using volume_self =
  openstack_driver_actor::stateful_pointer<openstack_volume_driver_state>;
using network_self =
  openstack_driver_actor::stateful_pointer<openstack_network_driver_state>;

// -- compute_policy.cpp: Nova servers ---------------------------------------

/// Lists every account's servers and reconciles (one listing at a time).
void poll_servers(compute_self self);

// -- volume_policy.cpp: Cinder volumes and their attachments ----------------

/// Lists every account's volumes and reconciles (one listing at a time).
void poll_volumes(volume_self self);

/// Volumes and the attachments that carry an order id, as instances.
void flatten(const std::vector<cinder_volume>& vs, std::vector<instance>& out);

/// Records the account and Cinder status of each listed volume and the
/// account of its attachments.
void remember_listing(volume_self self, const std::string& account,
                      const std::vector<cinder_volume>& vs);

/// Forgets the attachment order written into a volume's metadata, if it
/// is still `order_id` and the volume is no longer attached.
void clear_attachment_mark(volume_self self, const std::string& attachment_id,
                           const std::string& order_id);

// -- network_policy.cpp: Neutron networks -----------------------------------

/// Lists every account's networks and reconciles (one listing at a time).
void poll_networks(network_self self);

/// Deletes network `id`, which failed to become ready (until it is gone).
void discard_network(network_self self, const std::string& id);

} // namespace fogbow::openstack_support
