// The manager-to-manager protocol of the Java Fogbow (order, getinstance,
// removeinstance, removeorder, instancebeingused, getremoteuserquota,
// storagelink, removestoragelink) as plain C++: payload codecs over
// xml::element. Namespaces, element and attribute names are the Java ones;
// docs/protocol.md ("Manager ↔ manager") lists every payload and where we
// differ.
//
// Decoders take untrusted input: anything malformed throws protocol_error
// ("bad-request" and a text naming what is wrong); nothing else is thrown.
// Elements are matched by local name in any namespace (the Java manager's
// children inherit the query's), attributes and elements nobody here reads
// are ignored (Java peers send many), and a field we read that appears twice
// is refused.
#pragma once

#include "domain/order.hpp"
#include "domain/order_limits.hpp"
#include "federation/rendezvous_protocol.hpp"
#include "federation/xml.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow::fed {

using protocol_error = rdv::protocol_error;

inline constexpr std::string_view ns_order =
  "http://fogbowcloud.org/manager/order";
inline constexpr std::string_view ns_getinstance =
  "http://fogbowcloud.org/manager/getinstance";
inline constexpr std::string_view ns_removeinstance =
  "http://fogbowcloud.org/manager/removeinstance";
inline constexpr std::string_view ns_removeorder =
  "http://fogbowcloud.org/manager/removeorder";
inline constexpr std::string_view ns_instancebeingused =
  "http://fogbowcloud.org/manager/instancebeingused";
inline constexpr std::string_view ns_getremoteuserquota =
  "http://fogbowcloud.org/manager/getremoteuserquota";
inline constexpr std::string_view ns_storagelink =
  "http://fogbowcloud.org/manager/storagelink";
inline constexpr std::string_view ns_removestoragelink =
  "http://fogbowcloud.org/manager/removestoragelink";

/// True for the requests that change something at the peer, which go as
/// IQ set (order, removeinstance, removeorder, storagelink,
/// removestoragelink, as the Java manager sends them); the questions
/// (getinstance, instancebeingused, getremoteuserquota) go as IQ get.
bool changes_state(const xml::element& query);

// Limits every decoder enforces (bytes).
inline constexpr std::size_t max_order_id_bytes = 128;
inline constexpr std::size_t max_id_bytes = 256; ///< local ids, user ids
/// A global instance id: a local id, '@', a member id (a bare JID).
inline constexpr std::size_t max_global_id_bytes = 1024;
// User data, public key and requirements: domain/order_limits.hpp.
/// Any other text field (image, fault, addresses, names).
inline constexpr std::size_t max_text_bytes = 4096;
/// Most ids in one getinstance request, and instances in one reply.
inline constexpr std::size_t max_batch = 500;
/// Most ids a sender puts in one getinstance: the reply must fit the XMPP
/// server's stanza limit (Prosody: 256 KiB) even when every instance
/// carries a long fault (at most ~6 KiB each when encoded).
inline constexpr std::size_t getinstance_chunk = 25;
inline constexpr int max_volume_gb = 100000;

/// The user of the requesting member an order belongs to.
struct remote_user {
  std::string id;   ///< required, 1..256 bytes
  std::string name; ///< may be empty
  friend bool operator==(const remote_user&, const remote_user&) = default;
};

/// The `order` IQ (set, requester -> provider): one order to serve.
struct order_request {
  /// The requester's order id: 1..128 characters of [A-Za-z0-9._-].
  std::string order_id;
  /// `<token><accessId/>?<user><id/><name/></user></token>`; user id
  /// required. We never send an accessId (the user's token stays home).
  remote_user user;
  /// org.fogbowcloud.order.resource-kind: compute | storage (= volume) |
  /// network; absent = compute (Java managers before storage); attachment
  /// is refused (attachments travel as storagelink).
  resource_kind kind = resource_kind::compute;
  /// org.fogbowcloud.order.type: one-time | persistent; absent = one-time.
  order_type type = order_type::one_time;
  /// org.fogbowcloud.order.requirements: the full Glue2 expression,
  /// sizes included (requirements::combine); must parse.
  std::string requirements;
  /// The term of the category with scheme
  /// http://schemas.fogbowcloud.org/template/os# (class mixin).
  std::string image;
  /// Plain text here; base64 in org.fogbowcloud.order.user-data.
  std::string user_data;
  /// org.fogbowcloud.credentials.publickey.data
  std::string public_key;
  /// org.fogbowcloud.order.storage-size: volume only, 1..100000, required.
  int size_gb = 0;
  /// occi.network.address (required for a network) / .gateway /
  /// .allocation (dynamic | static | empty).
  std::string network_cidr, network_gateway, network_allocation;
  friend bool operator==(const order_request&, const order_request&) = default;
};

xml::element encode_order(const order_request&); ///< <query xmlns=ns_order>…
order_request decode_order(const xml::element& query);
/// The result of `order`: <instance><id>local id</id></instance>.
xml::element encode_order_result(const std::string& local_instance_id);
std::string decode_order_result(const xml::element& query);

/// getinstance (get). Request: one or more <instance><id/></instance> (one
/// = Java; several = our batch extension).
xml::element encode_getinstance(const std::vector<std::string>& local_ids);
/// 1..500 distinct local ids, else bad-request.
std::vector<std::string> decode_getinstance(const xml::element& query);
/// Result: one <instance> per FOUND instance (ids not found are simply
/// absent; for a single-id request the server answers item-not-found
/// instead, as Java did). Every field of `instance` except order_id (the
/// provider's order id is private) travels and decodes exactly; a fault
/// longer than max_text_bytes is cut there.
xml::element encode_instances(const std::vector<instance>& found);
/// At most 500 instances; order_id stays empty. Java peers' instances (no
/// org.fogbowcloud.instance.* attributes) decode from their Java
/// attributes: state from <state>, kind guessed from the attributes.
std::vector<instance> decode_instances(const xml::element& query);

/// removeinstance (set): <instance><id/></instance> -> empty result.
xml::element encode_removeinstance(const std::string& local_id);
std::string decode_removeinstance(const xml::element& query);

/// removeorder (set): <order><id/></order><token><accessId/></token> ->
/// empty result. The empty token is for Java providers, whose handler
/// needs one; decode ignores any token (the sender's JID says whose order).
xml::element encode_removeorder(const std::string& order_id);
std::string decode_removeorder(const xml::element& query);

/// instancebeingused (get, provider -> requester):
/// <order><id/></order>[<instance><id>GLOBAL id</id></instance>]; empty
/// result = used, item-not-found = not used.
struct usage_probe {
  std::string order_id;           ///< the requester's order id (required)
  std::string global_instance_id; ///< empty: not sent
  friend bool operator==(const usage_probe&, const usage_probe&) = default;
};
xml::element encode_instancebeingused(const usage_probe&);
usage_probe decode_instancebeingused(const xml::element& query);

/// getremoteuserquota (get): <token><user><id/><name/></user></token> ->
/// <resourcesInfo><id/><cpuIdle/><cpuInUse/><cpuInUseByUser/>
/// <instancesIdle/><instancesInUse/><instancesInUseByUser/><memIdle/>
/// <memInUse/><memInUseByUser/></resourcesInfo>
xml::element encode_quota_request(const remote_user&);
remote_user decode_quota_request(const xml::element& query);
/// idle = total - used (0 when more is used than the total). The member id
/// travels in <id>. Memory in MB.
xml::element encode_quota(const quota_report&);
/// total = idle + used. Numbers may carry a fraction (Java sends
/// "2048.0"); it is dropped.
quota_report decode_quota(const xml::element& query);

/// storagelink (set): <storageLink><source>server local id</source>
/// <target>volume local id</target><deviceId/></storageLink>
/// <order><id/></order><token>…</token> -> <attachment><id/></attachment>
struct link_request {
  std::string order_id; ///< the requester's attachment order; empty when a
                        ///< Java peer sent none
  remote_user user;     ///< required
  std::string server_id, volume_id; ///< provider-local ids, required
  std::string device;               ///< may be empty
  friend bool operator==(const link_request&, const link_request&) = default;
};
xml::element encode_storagelink(const link_request&);
link_request decode_storagelink(const xml::element& query);
xml::element encode_link_result(const std::string& attachment_local_id);
std::string decode_link_result(const xml::element& query);

/// removestoragelink (set): <storageLink><id/><source/><target/>
/// </storageLink> -> empty. Source and target are filled from an id of
/// the form "<server>:<volume>" (domain attachment_local_id), and an empty
/// token goes along for Java providers, whose handler needs one.
xml::element encode_removestoragelink(const std::string& attachment_local_id);
std::string decode_removestoragelink(const xml::element& query);

} // namespace fogbow::fed
