// The actor interfaces of Fogbow, all in one place (after VAST's
// actors.hpp). Every component of a role is one of these typed actors; they
// talk only through the messages listed here. Errors travel as caf::error
// built with fogbow::make_error (actors/errors.hpp).
//
// Domain values travel by value inside one process only; the federation
// protocol between sites goes over XMPP with its own encoding, never
// through CAF serialization. That is why the domain structs are allowed as
// "unsafe" (not serializable) message types instead of getting inspectors.
#pragma once

#include "actors/atoms.hpp"
#include "domain/order.hpp"
#include "domain/paging.hpp"
#include "federation/member_policies.hpp"
#include "federation/nof.hpp"
#include "federation/prioritization.hpp"
#include "federation/xml.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::order)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<fogbow::order>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::instance)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<fogbow::instance>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::page_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::page<fogbow::order>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::page<fogbow::instance>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::instance_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::resource_kind)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::cloud_resources)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::quota_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<fogbow::member_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::status_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<std::function<void()>>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::fed::debt_table)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<fogbow::usage_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::fed::exchange_table)

namespace fogbow {

/// The ORDER LISTENER interface: told every change of the stored orders,
/// after it committed and in commit order.
using order_listener_actor = caf::typed_actor<
  /// These orders were inserted or replaced.
  caf::reacts_to<atom::update, std::vector<order>>,
  /// The order with this id was removed.
  caf::reacts_to<atom::erase, std::string>>;

/// The BALANCES LISTENER interface: told, every accounting period, what
/// passed between this member and each other one and what we owe each
/// (the Network of Favors debts of federation/nof.hpp).
using balances_listener_actor = caf::typed_actor<
  caf::reacts_to<atom::balances, fed::exchange_table, fed::debt_table>>;

/// The ACCOUNTING interface (actors/accounting.hpp): counts what each
/// instance uses, per (user, requesting member, providing member), from the
/// stored orders it is told about: an order counts while it is `fulfilled`
/// with an instance, from its `fulfilled_at` until the change that ends it
/// (its `updated_at`). Local orders, remote ones (consumed) and served ones
/// (donated) alike. Totals are persisted with each instance's "counted up
/// to" time in one transaction, at every change and every period.
/// Errors: errc::storage_failure ends the actor (the supervisor then stops
/// the process; a restart resumes from the last commit).
using accounting_actor = order_listener_actor::extend<
  /// Usage up to now of one user ("": every user), one row per (user,
  /// requesting, providing), ordered by them. Includes the use since the
  /// last commit of instances still running.
  caf::replies_to<atom::usage, std::string>::with<std::vector<usage_record>>,
  /// What this member exchanged with each other member (every user), up to
  /// now: the input of fed::member_credit.
  caf::replies_to<atom::exchanges>::with<fed::exchange_table>,
  /// Sends `listener` the balances now and after every period (one
  /// listener; a later one replaces it).
  caf::reacts_to<atom::subscribe, balances_listener_actor>,
  /// Internal: the periodic update.
  caf::reacts_to<atom::account>>;

/// The STORE actor interface: owns the manager's single SQLite connection.
/// Every reply is sent only after the transaction committed, so whoever
/// acknowledges a user on the strength of it never loses an accepted order.
using store_actor = caf::typed_actor<
  /// Inserts or replaces these orders in one transaction.
  caf::replies_to<atom::put, std::vector<order>>::with<atom::ok>,
  /// Removes the order with this id (no error if it is already gone).
  caf::replies_to<atom::erase, std::string>::with<atom::ok>,
  /// Every stored order, oldest first.
  caf::replies_to<atom::load>::with<std::vector<order>>,
  /// From now on, tells `listener` every committed change (one listener;
  /// a later one replaces it).
  caf::reacts_to<atom::subscribe, order_listener_actor>>;

/// The CLOUD EVENTS interface: what a cloud driver pushes to its
/// subscriber without being asked.
using cloud_events_actor = caf::typed_actor<
  /// An instance changed state by itself: it crashed (failed) or vanished
  /// (lost). The instance carries the order id it was created for.
  caf::reacts_to<atom::instance_changed, instance>,
  /// Capacity became free: an instance was removed or the quota raised.
  caf::reacts_to<atom::capacity_freed>>;

/// The CLOUD DRIVER interface, one actor per configured cloud. Instance
/// ids are the cloud's local ids. Errors: errc::no_capacity,
/// errc::no_matching_flavor, errc::not_found, errc::cloud_error.
using cloud_driver_actor = caf::typed_actor<
  /// Creates an instance for `spec.order_id`. Idempotent per order id: when
  /// an instance for that order exists already, it is returned instead of
  /// creating a second one (this is what makes crash recovery safe).
  caf::replies_to<atom::create, instance_spec>::with<instance>,
  /// One instance.
  caf::replies_to<atom::get, std::string>::with<instance>,
  /// Removes an instance and everything it runs.
  caf::replies_to<atom::erase, std::string>::with<atom::ok>,
  /// Every instance this driver manages, including failed ones.
  caf::replies_to<atom::list>::with<std::vector<instance>>,
  /// Capacity and use.
  caf::replies_to<atom::resources>::with<cloud_resources>,
  /// Changes the totals (vcpu, memory, instances) of the capacity; the
  /// `*_used` fields of the argument are ignored.
  caf::replies_to<atom::set_capacity, cloud_resources>::with<atom::ok>,
  /// Sends this actor every cloud event from now on (one subscriber).
  caf::reacts_to<atom::subscribe, cloud_events_actor>>;

/// The MEMBERS LISTENER interface: told the federation's member list
/// whenever it changes (who is listed, who is alive).
using members_listener_actor = caf::typed_actor<
  caf::reacts_to<atom::members_changed, std::vector<member_info>>>;

/// The MEMBER PROXY interface (requester side of the manager-to-manager
/// protocol, docs/protocol.md): one actor speaking for this manager to every
/// other member over the XMPP bridge. The first argument of every call is
/// the other member's id (its bare JID). Errors: errc::no_capacity (the
/// member refused: no room, not allowed, or it does not know the thing),
/// errc::not_found (getinstance/instancebeingused: not there),
/// errc::unauthorized (it does not take us as a member), errc::timeout,
/// errc::unavailable (no XMPP session, member offline), errc::cloud_error.
using member_proxy_actor = caf::typed_actor<
  /// Offers an order (`order` IQ); replies with the provider's local
  /// instance id once the instance exists. Providers are idempotent per
  /// (requesting member, order id): offering again returns the same one.
  caf::replies_to<atom::create, std::string, order>::with<std::string>,
  /// The instances with these local ids that the member holds for us
  /// (getinstance, batched); ids it does not know are left out.
  caf::replies_to<atom::get, std::string,
                  std::vector<std::string>>::with<std::vector<instance>>,
  /// Removes one instance it holds for us (removeinstance).
  caf::replies_to<atom::erase_instance, std::string,
                  std::string>::with<atom::ok>,
  /// Tells the member an order is no longer wanted from it (removeorder):
  /// it removes whatever it created for that order.
  caf::replies_to<atom::erase, std::string, std::string>::with<atom::ok>,
  /// The member's capacity and a user's use of it (getremoteuserquota):
  /// (member, user id, user name).
  caf::replies_to<atom::quota, std::string, std::string,
                  std::string>::with<quota_report>,
  /// Asks a requesting member whether it still uses an instance we serve
  /// (instancebeingused): (member, its order id, global instance id).
  caf::replies_to<atom::probe, std::string, std::string,
                  std::string>::with<bool>>;

/// The ORDER SCHEDULER interface: the order state machine of one manager.
/// Calls carry the id of the authenticated user; an order or instance of
/// another user is reported as errc::not_found. Orders this manager serves
/// for other members ("served orders", `requesting_member` not this one)
/// are never visible to local users.
using order_scheduler_actor =
  cloud_events_actor::extend_with<members_listener_actor>::extend<
    /// Creates `count` orders from a validated template (id, owner, batch
    /// and timestamps are filled in here), persists them, replies with them,
    /// and then tries to place each at once.
    caf::replies_to<atom::create, order,
                    std::int32_t>::with<std::vector<order>>,
    /// One page of the user's orders, oldest first (created_at, then id):
    /// (user id, query; its state and kind filter). errc::invalid_argument
    /// when the marker names no order of the user.
    caf::replies_to<atom::list, std::string, page_query>::with<page<order>>,
    /// One order of the user: (user id, order id).
    caf::replies_to<atom::get, std::string, std::string>::with<order>,
    /// Deletes an order of the user and removes its instance: (user id,
    /// order id). Replies with the order as it is now (state `deleted`).
    /// errc::conflict while a live attachment order uses its instance.
    caf::replies_to<atom::erase, std::string, std::string>::with<order>,
    /// One page of the user's instances of one kind, oldest first
    /// (created_at, then id): (user id, kind, query; its `status` filter).
    /// Every id in them (`id`, an attachment's server and volume, a
    /// volume's server) is a global instance id; the marker is one of them.
    /// errc::invalid_argument when the marker names no such instance.
    caf::replies_to<atom::instances, std::string, resource_kind,
                    page_query>::with<page<instance>>,
    /// One instance of the user, of any kind: (user id, global instance id).
    caf::replies_to<atom::instance, std::string, std::string>::with<instance>,
    /// Removes an instance of the user; its order reacts as to a lost
    /// instance (persistent: replaced, one-time: closed).
    caf::replies_to<atom::erase_instance, std::string,
                    std::string>::with<atom::ok>,
    /// Quota of a member as seen by a user: (user id, member id).
    caf::replies_to<atom::quota, std::string, std::string>::with<quota_report>,
    /// The members this manager knows (itself, until federation exists).
    caf::replies_to<atom::members>::with<std::vector<member_info>>,
    /// Health and counters.
    caf::replies_to<atom::status>::with<status_report>,
    /// Internal: the retry back-off timer fired.
    caf::reacts_to<atom::retry>,
    /// Internal: a validity boundary (valid_from/valid_until) was reached.
    caf::reacts_to<atom::validity>,
    /// Provider side: serves an order of another member. The order carries
    /// `requesting_member` and the id `<its order id>@<member>`; the second
    /// argument caps the instances that member may hold here (-1: no cap).
    /// Idempotent per order id. Replies with the local instance as soon as it
    /// exists; errc::no_capacity when there is no room (nothing is kept).
    caf::replies_to<atom::serve, order, std::int32_t>::with<instance>,
    /// Provider side: the instances with these local ids among the served
    /// orders of the member: (member, local ids); unknown ids are left out.
    caf::replies_to<atom::served_instances, std::string,
                    std::vector<std::string>>::with<std::vector<instance>>,
    /// Provider side: the member no longer wants its order (member, its order
    /// id): its instance is removed. No error when there is no such order.
    caf::replies_to<atom::unserve, std::string, std::string>::with<atom::ok>,
    /// Provider side: removes one instance served to the member (member,
    /// local id); errc::not_found when the member holds no such instance.
    caf::replies_to<atom::unserve_instance, std::string,
                    std::string>::with<atom::ok>,
    /// Provider side: the cloud's capacity and what a user of the member uses
    /// of it here: (member, user id).
    caf::replies_to<atom::served_quota, std::string,
                    std::string>::with<quota_report>,
    /// Requester side: does this member still hold an instance we want?
    /// (asking member, our order id, global instance id).
    caf::replies_to<atom::probe, std::string, std::string,
                    std::string>::with<bool>,
    /// Internal: time to refresh remote instances' state.
    caf::reacts_to<atom::monitor>,
    /// Internal: time to ask requesting members about served instances.
    caf::reacts_to<atom::probe_tick>,
    /// Accounting, each period: what passed between this member and each
    /// other one, and what we owe each (Network of Favors debts). Feeds
    /// the prioritizer (who preempts whom) and the capacity controller.
    caf::reacts_to<atom::balances, fed::exchange_table, fed::debt_table>>;

/// How the scheduler takes part in the federation (src/federation/
/// member_policies.hpp holds the plugin interfaces).
struct federation_scheduling {
  member_proxy_actor proxy; ///< unset: standalone
  std::shared_ptr<fed::member_picker> picker;
  std::shared_ptr<const fed::member_validator> validator;
  /// Which running instance a new order takes the place of when the cloud
  /// is full; unset: none ever is (fcfs for local and served orders).
  std::shared_ptr<const fed::prioritizer> prioritizer;
  /// Learns from the accounting's periods (the fairness controller); the
  /// federation server reads the same object. Unset: nothing to learn.
  std::shared_ptr<fed::capacity_controller> capacity;
  /// A member that has not answered an order in this time is skipped.
  std::chrono::milliseconds forward_timeout{20000};
  /// Offers in flight at once (each waits for a remote cloud).
  std::int32_t max_forwards = 256;
  /// Period of the state refresh of remote instances.
  std::chrono::milliseconds monitor_interval{5000};
  /// Period of the provider's instancebeingused questions.
  std::chrono::milliseconds probe_interval{30000};
  /// How long a requesting member may stay unreachable before the
  /// instances served to it are reclaimed.
  std::chrono::milliseconds requester_grace{300000};
};

/// How long a driver that wraps another one (router, tunnel driver) waits
/// for it. Only a backstop so that no promise waits forever: the caller's
/// own, shorter timeout (the scheduler's driver_timeout) decides first.
constexpr std::chrono::minutes wrapped_driver_timeout{15};

/// Settings of the order scheduler, filled in by src/roles/.
struct order_scheduler_config {
  std::string member_id;           ///< this manager's member id
  std::int32_t max_in_flight = 64; ///< placements sent to the driver at once
  std::int64_t retry_initial_ms = 1000; ///< first back-off after "no room"
  std::int64_t retry_max_ms = 60000;    ///< back-off ceiling
  /// How long a write to the store may take; past it the user's request
  /// fails (and the order is not acknowledged) or the write is logged.
  std::chrono::milliseconds store_timeout{30000};
  /// How long one driver call (create, erase, resources) may take; a create
  /// that times out is retried like any failed create (the driver's create
  /// is idempotent per order id, so a late instance is adopted, not doubled).
  std::chrono::milliseconds driver_timeout{120000};
  /// The wall clock; tests replace it to move through validity windows.
  std::function<millis()> clock = now_millis;
  /// Federation; `proxy` unset: this manager runs standalone.
  federation_scheduling federation;
};

// -- openstack driver ----------------------------------------------

/// A blocking job for an OpenStack worker; it stores its own result.
using openstack_task = std::shared_ptr<std::function<void()>>;

/// The OPENSTACK WORKER interface: a detached actor (its own thread) that
/// runs blocking HTTP calls for the openstack driver, so that neither the
/// driver nor the scheduler ever waits on the network.
using openstack_worker_actor = caf::typed_actor<
  /// Runs the task on this worker's thread; replies when it is done.
  caf::replies_to<atom::run, openstack_task>::with<atom::ok>>;

/// The OPENSTACK DRIVER interface: a cloud driver plus its own poll timer
/// (server state changes, deletions completing, quota headroom).
using openstack_driver_actor = cloud_driver_actor::extend<
  /// Internal: time to list the servers again.
  caf::reacts_to<atom::poll>>;

// Behaviours and states live in one header per actor (src/actors/<name>.hpp,
// src/drivers/<driver>/), so that this file stays cheap to include.

} // namespace fogbow

// --- tunnel ------------------------------------------------------

namespace fogbow {

/// A token of the tunnel as its allocator reports it.
struct tunnel_token_info {
  std::string id;
  int port = 0;
  std::string base;    ///< family (the token itself for a base token)
  bool active = false; ///< a session of the family is connected
  bool has_key = false;
  millis last_active = 0;
};

/// The ports of one token family: (name, port); "ssh" is the base token.
struct tunnel_family_ports {
  std::vector<std::pair<std::string, int>> ports;
};

/// What the manager learns when it registers an order with the tunnel.
struct tunnel_access {
  std::string token;
  std::string secret;
  int port = 0;     ///< the public port of the base token
  int ssh_port = 0; ///< the tunnel's SSH port
};

/// Ports of instances as GET /v1/computes shows them, by order id:
/// `ssh_public_address` ("host:port") and named extra ports.
struct tunnel_addresses {
  struct entry {
    std::string order_id;
    std::string ssh_public_address;
    std::vector<std::pair<std::string, std::string>> extra_ports;
  };
  std::vector<entry> entries;
};

} // namespace fogbow

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::tunnel_token_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<fogbow::tunnel_token_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::tunnel_family_ports)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::tunnel_access)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::tunnel_addresses)

namespace fogbow {

/// The TUNNEL ALLOCATOR interface (tunnel role): token → public port,
/// persisted in SQLite before any reply; credentials; which SSH sessions
/// are up; idle expiry. Errors: errc::not_found (no such token),
/// errc::unauthorized (wrong credential), errc::no_capacity (range full),
/// errc::invalid_argument, errc::storage_failure.
using tunnel_allocator_actor = caf::typed_actor<
  /// Manager: creates the token (lowest free port) or returns its port;
  /// a non-empty secret becomes (or replaces) the family's secret.
  caf::replies_to<atom::tunnel_register, std::string, std::string>::with<int>,
  /// Instance (already authenticated for the family): allocates the named
  /// token `<base>-<name>` or returns its port.
  caf::replies_to<atom::tunnel_allocate, std::string>::with<int>,
  /// Sets the family's SSH public key (OpenSSH line); replies the base
  /// token's port.
  caf::replies_to<atom::tunnel_set_key, std::string, std::string>::with<int>,
  /// The port of one token.
  caf::replies_to<atom::get, std::string>::with<int>,
  /// The ports of the token's family ("ssh" = the token itself).
  caf::replies_to<atom::tunnel_family, std::string>::with<tunnel_family_ports>,
  /// Deletes the token when it owns the port (a base token takes its
  /// family along) and closes the sessions forwarding those ports.
  caf::replies_to<atom::erase, std::string, int>::with<atom::ok>,
  /// Deletes a token family whatever its ports (manager's release).
  caf::replies_to<atom::tunnel_release, std::string>::with<atom::ok>,
  /// Every token.
  caf::replies_to<atom::list>::with<std::vector<tunnel_token_info>>,
  /// (login or token, secret) → the family's base token.
  caf::replies_to<atom::tunnel_auth, std::string,
                  std::string>::with<std::string>,
  /// (login, OpenSSH key line) → the family's base token.
  caf::replies_to<atom::tunnel_auth_key, std::string,
                  std::string>::with<std::string>,
  /// SSH session `sid` of family `base` asks to forward `port`.
  caf::replies_to<atom::tunnel_forward, std::uint64_t, std::string,
                  int>::with<bool>,
  /// SSH session `sid` of family `base` ended.
  caf::reacts_to<atom::tunnel_closed, std::uint64_t, std::string>,
  /// Internal: the idle-expiry sweep timer.
  caf::reacts_to<atom::tunnel_expire>>;

/// The TUNNEL CLIENT interface (manager role): the manager's side of the
/// tunnel's HTTP API, blocking I/O on a thread of its own.
using tunnel_client_actor = caf::typed_actor<
  /// Registers the order's token and secret; errc::cloud_error when the
  /// tunnel cannot be reached or refuses.
  caf::replies_to<atom::tunnel_register, std::string>::with<tunnel_access>,
  /// Releases the order's token (no error when it is gone already).
  caf::replies_to<atom::tunnel_release, std::string>::with<atom::ok>,
  /// Addresses of these orders' instances (orders without a token are
  /// left out).
  caf::replies_to<atom::tunnel_ports,
                  std::vector<std::string>>::with<tunnel_addresses>>;

} // namespace fogbow

// --- federation membership and the XMPP bridge ---------------------
// Payloads travel between the bridge and the protocol actors as plain
// xml::element trees (src/federation/xml.hpp); only src/xmpp/ sees Qt.

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fogbow::xml::element)

namespace fogbow {

/// The IQ HANDLER interface: serves the IQ get/set requests of one or more
/// payload namespaces for an XMPP bridge.
using iq_handler_actor = caf::typed_actor<
  /// An IQ get/set arrived: (sender's full JID, payload element). The reply
  /// is the payload of the result IQ; an error becomes an IQ error whose
  /// condition follows the errc (not_found: item-not-found,
  /// invalid_argument: bad-request, unauthorized: not-authorized, others:
  /// internal-server-error) and whose text is the message.
  caf::replies_to<atom::iq_request, std::string,
                  xml::element>::with<xml::element>>;

/// The XMPP BRIDGE interface (src/xmpp/): one XMPP client account. Runs on
/// the Qt thread; reconnects by itself.
using xmpp_bridge_actor = caf::typed_actor<
  /// Sends an IQ get with this payload to a full JID and replies with the
  /// payload of the result (an empty element when it had none). Errors:
  /// errc::timeout (no answer in the bridge's request timeout),
  /// errc::unavailable (not connected, connection lost, recipient
  /// unavailable), and the peer's IQ error mapped back (item-not-found:
  /// not_found, bad-request: invalid_argument, not-authorized/forbidden:
  /// unauthorized, others: cloud_error), its text as message.
  caf::replies_to<atom::iq_request, std::string,
                  xml::element>::with<xml::element>,
  /// As above, with this deadline (ms) instead of the bridge's own.
  caf::replies_to<atom::iq_request, std::string, xml::element,
                  std::int64_t>::with<xml::element>,
  /// As above, sent as an IQ set: for requests that change something at
  /// the peer (RFC 6120 §8.2.3; the Java manager's order, removeinstance,
  /// removeorder, storagelink and removestoragelink are sets).
  caf::replies_to<atom::iq_set, std::string, xml::element,
                  std::int64_t>::with<xml::element>,
  /// From now on, IQ get/set requests whose payload is in namespace `ns`
  /// go to `handler` (replaces an earlier handler of that namespace).
  caf::reacts_to<atom::iq_serve, std::string, iq_handler_actor>,
  /// True while the XMPP session is established.
  caf::replies_to<atom::xmpp_state>::with<bool>>;

/// The FEDERATION SERVER interface: answers the manager-to-manager IQs of
/// other members (provider side, actors/federation_server.hpp).
using federation_server_actor =
  iq_handler_actor::extend_with<members_listener_actor>::extend<
    /// Internal: a delayed answer is due (test hook).
    caf::reacts_to<atom::retry, std::uint64_t>>;

/// The RENDEZVOUS actor interface: the member directory of a rendezvous
/// (Java protocol: iamalive, whoisalive, synch/whoisalive; see
/// docs/protocol.md).
using rendezvous_actor = iq_handler_actor::extend<
  /// The members listed now (after an expiry sweep), in id order.
  caf::replies_to<atom::members>::with<std::vector<member_info>>,
  /// Internal: expiry sweep timer.
  caf::reacts_to<atom::sweep>,
  /// Internal: neighbour sync timer.
  caf::reacts_to<atom::sync>>;

/// Settings of the rendezvous, filled in by src/roles/.
struct rendezvous_config {
  std::int64_t period_ms = 3000;    ///< heartbeat period asked of members
  std::int64_t max_lost = 3;        ///< expiry after period × max_lost
  std::int64_t page_max = 100;      ///< whoisalive page cap
  std::int64_t sync_page_max = 100; ///< synch/whoisalive page cap
  std::int64_t sync_interval_ms = 3000;
  std::vector<std::string> neighbors; ///< full JIDs of rendezvous to pull
  /// nullptr: accept any member; otherwise only these bare JIDs (applies to
  /// heartbeats and to members learned from neighbours).
  std::shared_ptr<const std::set<std::string>> whitelist;
  std::function<millis()> clock = now_millis;
};

/// The MEMBER REGISTRY interface (manager side): heartbeats to the
/// rendezvous, pulls every whoisalive page, keeps the member list.
using member_registry_actor = caf::typed_actor<
  /// The members: this manager (`is_self`) and every member the rendezvous
  /// listed; `alive` is false once a member has not been confirmed for
  /// period × 3 (e.g. the rendezvous stopped answering).
  caf::replies_to<atom::members>::with<std::vector<member_info>>,
  /// Sends `listener` the members now and whenever they change (several
  /// listeners; a listener that terminates is dropped).
  caf::reacts_to<atom::subscribe, members_listener_actor>,
  /// Internal: the heartbeat timer of this generation (a new period starts
  /// a new generation; older timers are ignored).
  caf::reacts_to<atom::heartbeat, std::uint64_t>>;

/// Settings of the member registry, filled in by src/roles/.
struct member_registry_config {
  std::string self_id;           ///< this manager's bare JID
  std::string rendezvous_jid;    ///< full JID of the rendezvous
  std::int64_t period_ms = 3000; ///< until the rendezvous names its own
  std::int64_t page_size = 100;  ///< whoisalive <max>
  std::function<millis()> clock = now_millis;
};

/// "user@domain/resource" → "user@domain".
std::string bare_jid(std::string_view jid);

} // namespace fogbow

// --- supervision
// ---------------------------------------------------------------

namespace fogbow {

/// The SUPERVISOR interface: one per role (after VAST's node actor and its
/// component registry). It monitors every actor of the role, grouped into
/// named components (actors that live and die together, e.g. the cloud
/// router and the drivers linked under it), and reacts to a death by the
/// component's policy:
///   - restart: the component's dependents are stopped, then it and they are
///     built again exactly as at process start-up (the scheduler reloads its
///     orders from the store and re-adopts the cloud's instances through the
///     driver), dependencies first. More than `max_restarts` restarts within
///     `restart_window` count as a crash loop and stop the process instead.
///   - exit_process: a critical log line names the component and the reason,
///     and the process stops with exit code 1, so that systemd (or whoever
///     runs it) starts it afresh from the persisted state.
/// Manager: store, tunnel client and member registry exit the process (the
/// store owns the only database connection; the others are held by the REST
/// API); the cloud driver stack and the order scheduler restart. Rendezvous:
/// the rendezvous restarts (members re-announce themselves). Tunnel: the
/// allocator exits the process (the SSH server and the HTTP API hold it).
/// Whoever talks to a restartable component holds a stable handle: a
/// forwarder (actors/supervisor.hpp) that the restart points at the new
/// instance; requests reaching it while there is none fail with
/// errc::unavailable.
using supervisor_actor = caf::typed_actor<
  /// The actors of the named component, the one others talk to first.
  /// errc::not_found for an unknown name; errc::unavailable while the
  /// component is being restarted.
  caf::replies_to<atom::get, std::string>::with<std::vector<caf::actor>>>;

} // namespace fogbow
