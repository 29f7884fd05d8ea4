// Cinder v3 volumes, Nova volume attachments and Neutron v2.0 networks as
// the `openstack` volume and network drivers use them.
//
// Plain C++ (no CAF): every call BLOCKS on HTTP, so only the drivers'
// worker actors call into this. The classes hold nothing but the shared
// keystone_session (thread-safe), so they are thread-safe too. HTTP
// failures become cloud_failure via throw_http_failure (Cinder's 413
// overLimit → errc::no_capacity).
//
// What marks a resource as this member's:
//   volume:  name "fogbow-<order id>", metadata fogbow-order-id and
//            fogbow-member (like servers); while attached by an attachment
//            order also fogbow-attachment-order = <that order id>.
//   network: name "fogbow-<order id>", description
//            "fogbow-member=<member id>" (Neutron networks have no free
//            metadata; the order id is the name's suffix).
#pragma once

#include "openstack/openstack_api.hpp"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow {

/// A Cinder volume as the driver needs it.
struct cinder_volume {
  instance volume;              ///< kind volume, id, state, size_gb, server_id
  std::string status;           ///< Cinder's status, e.g. "in-use"
  std::string member;           ///< metadata fogbow-member
  std::string attachment_order; ///< metadata fogbow-attachment-order
  /// Its attachments (kind attachment, id "<server>:<volume>", order id =
  /// attachment_order), one per attached server.
  std::vector<instance> attachments;
};

/// Cinder volume status → instance state: creating/downloading →
/// spawning, error* → failed, everything else (available, in-use,
/// attaching, detaching, reserved, …) → running.
instance_state map_volume_status(std::string_view status);

/// One volume object (`{"id": …, "status": …, "attachments": [...]}`).
cinder_volume volume_from_json(const nlohmann::json& v);

/// `GET /volumes/{id}` or `POST /volumes` body → the volume.
cinder_volume parse_volume(std::string_view body);

/// `GET /volumes/detail` body → the volumes whose metadata fogbow-member
/// is `member_id`.
std::vector<cinder_volume> parse_volume_list(std::string_view body,
                                             std::string_view member_id);

/// Cinder's absolute limits (`GET /limits`); -1 = unlimited.
struct volume_limits {
  int volumes_total = -1;
  int volumes_used = 0;
  int gigabytes_total = -1;
  int gigabytes_used = 0;
  friend bool operator==(const volume_limits&, const volume_limits&) = default;
};
volume_limits parse_volume_limits(std::string_view body);

/// True when `now` has room for more (volumes or gigabytes) than `before`.
bool more_room(const volume_limits& now, const volume_limits& before);

/// Nova's answer to an attach (`{"volumeAttachment": {"device": …}}`):
/// the device, may be empty.
std::string parse_attach_device(std::string_view body);

/// Neutron's quota use of networks and subnets
/// (`GET /v2.0/quotas/{project}/details.json`); -1 = unlimited.
struct network_limits {
  int networks_total = -1;
  int networks_used = 0;
  int subnets_total = -1;
  int subnets_used = 0;
  friend bool operator==(const network_limits&,
                         const network_limits&) = default;
};
network_limits parse_network_limits(std::string_view body);

/// True when `now` has room for more networks or subnets than `before`.
bool more_room(const network_limits& now, const network_limits& before);

/// Neutron network status → instance state: ACTIVE with a subnet →
/// running, ACTIVE without one or BUILD → spawning, ERROR → failed, DOWN
/// → failed.
instance_state map_network_status(std::string_view status, bool has_subnet);

/// The description that marks a network as `member_id`'s.
std::string network_description(std::string_view member_id);

/// A Neutron network joined with its first IPv4 subnet.
struct neutron_network {
  instance net;          ///< kind network, id, order id (from the name), state
  std::string status;    ///< Neutron's status
  std::string member;    ///< from the description, empty if not ours
  std::string subnet_id; ///< empty: no subnet yet
};

/// One network object plus the subnet objects (any order) of the answer.
neutron_network network_from_json(const nlohmann::json& network,
                                  const nlohmann::json* subnets);

/// `GET /v2.0/networks` and `GET /v2.0/subnets` bodies → the networks
/// whose description names `member_id`.
std::vector<neutron_network> parse_network_list(std::string_view networks_body,
                                                std::string_view subnets_body,
                                                std::string_view member_id);

/// The body of `POST /v2.0/subnets` for an order's network.
std::string subnet_request(const std::string& network_id,
                           const instance_spec& spec);

/// Cinder volumes and Nova attachments of one account.
class openstack_volumes {
public:
  openstack_volumes(std::shared_ptr<keystone_session> session,
                    std::string member_id);

  /// Throws cloud_failure(unsupported) when the catalog has no volumev3.
  void require_service();

  /// True when the catalog (or an override) has a volumev3 endpoint.
  bool has_service();

  /// POST /volumes (name, size, metadata); returns the new volume.
  cinder_volume create_volume(const instance_spec& spec);

  /// This member's volume of an order (by name), if there is one.
  std::optional<cinder_volume> find_volume(const std::string& order_id);

  /// GET /volumes/{id}; nullopt on 404.
  std::optional<cinder_volume> get_volume(const std::string& id);

  /// Every volume of this member (empty when there is no volumev3).
  std::vector<cinder_volume> list_volumes();

  /// DELETE /volumes/{id}; throws not_found on 404, conflict when Cinder
  /// refuses because the volume is attached or busy.
  void delete_volume(const std::string& id);

  /// Sets (merges) one metadata item.
  void set_metadata(const std::string& id, const std::string& key,
                    const std::string& value);

  /// Removes one metadata item (best effort, never throws).
  void remove_metadata(const std::string& id, const std::string& key) noexcept;

  /// POST /servers/{server}/os-volume_attachments; returns the device.
  std::string attach(const std::string& server_id, const std::string& volume_id,
                     const std::string& device);

  /// DELETE /servers/{server}/os-volume_attachments/{volume}; throws
  /// not_found on 404.
  void detach(const std::string& server_id, const std::string& volume_id);

  /// GET /limits of Cinder.
  volume_limits limits();

private:
  std::shared_ptr<keystone_session> session_;
  std::string member_id_;
};

/// Neutron networks (with one IPv4 subnet each) of one account.
class openstack_networks {
public:
  openstack_networks(std::shared_ptr<keystone_session> session,
                     std::string member_id);

  /// Throws cloud_failure(unsupported) when the catalog has no network.
  void require_service();
  bool has_service();

  /// This member's network of an order, if there is one.
  std::optional<neutron_network> find_network(const std::string& order_id);

  /// POST /v2.0/networks; returns the network (without subnet).
  neutron_network create_network(const instance_spec& spec);

  /// POST /v2.0/subnets for the network; returns the subnet id.
  std::string create_subnet(const std::string& network_id,
                            const instance_spec& spec);

  /// GET /v2.0/networks/{id} with its subnets; nullopt on 404.
  std::optional<neutron_network> get_network(const std::string& id);

  /// Every network of this member (empty when there is no network service).
  std::vector<neutron_network> list_networks();

  /// The project's network/subnet quota and use.
  network_limits limits();

  /// DELETE /v2.0/networks/{id} (its subnets go with it); throws
  /// not_found on 404, conflict when ports still use it.
  void delete_network(const std::string& id);

private:
  std::shared_ptr<keystone_session> session_;
  std::string member_id_;
};

} // namespace fogbow
