#include "actors/federation_server.hpp"

#include "actors/errors.hpp"
#include "federation/manager_protocol.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <utility>

namespace fogbow {

namespace {

using self_ptr =
  federation_server_actor::stateful_pointer<federation_server_state>;
using reply = caf::result<xml::element>;
using promise = caf::typed_response_promise<xml::element>;

/// Backstop for the scheduler's quick answers.
constexpr auto scheduler_backstop = std::chrono::seconds(60);

/// An empty result payload in the request's namespace.
xml::element empty_result(const std::string& ns) {
  return xml::element{"query", ns};
}

/// Delivers the outcome of asking the scheduler, mapping it with `encode`.
template <class T, class Encode>
auto deliver_with(promise rp, Encode encode) {
  return std::pair{[rp, encode](T& value) mutable {
                     try {
                       rp.deliver(encode(value));
                     } catch (const fed::protocol_error& e) {
                       rp.deliver(make_error(errc::invalid_argument, e.what()));
                     }
                   },
                   [rp](caf::error& e) mutable { rp.deliver(std::move(e)); }};
}

template <class T, class Encode, class... Ts>
reply ask_scheduler(self_ptr self, std::chrono::milliseconds timeout,
                    Encode encode, Ts&&... xs) {
  auto rp = self->make_response_promise<xml::element>();
  auto [ok, fail] = deliver_with<T>(rp, std::move(encode));
  self->request(self->state.scheduler, timeout, std::forward<Ts>(xs)...)
    .then(std::move(ok), std::move(fail));
  return rp;
}

/// A refusal the requester understands in any version: item-not-found.
caf::error refusal(const caf::error& e) {
  auto code = code_of(e);
  if (code == errc::invalid_argument || code == errc::unauthorized)
    return e;
  return make_error(errc::not_found, message_of(e));
}

order order_from(const fed::order_request& r, const std::string& member) {
  order o;
  // The requester's id, made ours: no other member and no local user can
  // name it, and the same offer always finds the same order.
  o.id = r.order_id + "@" + member;
  o.requesting_member = member;
  o.user_id = r.user.id;
  o.user_name = r.user.name.empty() ? r.user.id : r.user.name;
  o.kind = r.kind;
  o.type = order_type::one_time; // the requester re-places persistent ones
  o.requirements = r.requirements;
  o.image = r.image;
  o.user_data = r.user_data;
  o.public_key = r.public_key;
  o.size_gb = r.size_gb;
  o.network_cidr = r.network_cidr;
  o.network_gateway = r.network_gateway;
  o.network_allocation = r.network_allocation;
  o.vcpu = 0; // the sizes are in the requirements
  return o;
}

/// The answer to an `order` IQ leaves now, or later in tests.
void answer(self_ptr self, promise rp, caf::expected<xml::element> x) {
  auto& st = self->state;
  if (st.config.answer_delay.count() == 0) {
    if (x)
      rp.deliver(std::move(*x));
    else
      rp.deliver(refusal(x.error()));
    return;
  }
  auto ticket = st.next_ticket++;
  st.delayed.emplace(ticket, std::pair{rp, std::move(x)});
  self->delayed_send(self, st.config.answer_delay, atom::retry_v, ticket);
}

reply serve_order(self_ptr self, const std::string& member,
                  const xml::element& query) {
  auto& st = self->state;
  if (st.config.validator && !st.config.validator->can_donate_to(member))
    return make_error(errc::not_found,
                      st.config.self_id + " does not serve " + member);
  auto o = order_from(fed::decode_order(query), member);
  auto cap =
    st.config.capacity ? st.config.capacity->max_donated(member) : std::nullopt;
  auto rp = self->make_response_promise<xml::element>();
  self
    ->request(st.scheduler, st.config.serve_timeout, atom::serve_v,
              std::move(o), static_cast<std::int32_t>(cap.value_or(-1)))
    .then(
      [self, rp](const instance& inst) {
        answer(self, rp, fed::encode_order_result(inst.id));
      },
      [self, rp](caf::error& e) { answer(self, rp, std::move(e)); });
  return rp;
}

/// storagelink: an attachment of two instances the member holds here.
reply serve_link(self_ptr self, const std::string& member,
                 const xml::element& query) {
  auto& st = self->state;
  if (st.config.validator && !st.config.validator->can_donate_to(member))
    return make_error(errc::not_found,
                      st.config.self_id + " does not serve " + member);
  auto r = fed::decode_storagelink(query);
  order o;
  // A Java peer names no order: such a link cannot be recognised when it
  // is asked for again.
  o.id = (r.order_id.empty() ? make_uuid() : r.order_id) + "@" + member;
  o.requesting_member = member;
  o.user_id = r.user.id;
  o.user_name = r.user.name.empty() ? r.user.id : r.user.name;
  o.kind = resource_kind::attachment;
  o.attach_compute = global_instance_id(r.server_id, st.config.self_id);
  o.attach_volume = global_instance_id(r.volume_id, st.config.self_id);
  o.attach_device = r.device;
  auto rp = self->make_response_promise<xml::element>();
  self
    ->request(st.scheduler, st.config.serve_timeout, atom::serve_v,
              std::move(o), std::int32_t{-1})
    .then(
      [rp](const instance& inst) mutable {
        rp.deliver(fed::encode_link_result(inst.id));
      },
      [rp](caf::error& e) mutable { rp.deliver(refusal(e)); });
  return rp;
}

/// Adds the tunnel addresses of served computes, then answers.
void with_addresses(self_ptr self, promise rp, std::vector<instance> found) {
  auto& st = self->state;
  std::vector<std::string> order_ids;
  for (auto& inst : found)
    if (inst.kind == resource_kind::compute)
      order_ids.push_back(inst.order_id);
  auto finish = [rp](std::vector<instance>& xs) mutable {
    for (auto& x : xs)
      x.order_id.clear(); // ours, not the requester's business
    rp.deliver(fed::encode_instances(xs));
  };
  if (!st.tunnel || order_ids.empty()) {
    finish(found);
    return;
  }
  self->request(st.tunnel, scheduler_backstop, atom::tunnel_ports_v, order_ids)
    .then(
      [finish, found](const tunnel_addresses& a) mutable {
        std::map<std::string, const tunnel_addresses::entry*> by_order;
        for (auto& e : a.entries)
          by_order[e.order_id] = &e;
        for (auto& inst : found)
          if (auto it = by_order.find(inst.order_id); it != by_order.end()) {
            inst.ssh_public_address = it->second->ssh_public_address;
            inst.extra_ports = it->second->extra_ports;
          }
        finish(found);
      },
      [finish, found](const caf::error&) mutable {
        // Addresses are a convenience: the instances go without them.
        finish(found);
      });
}

reply get_instances(self_ptr self, const std::string& member,
                    const xml::element& query) {
  auto ids = fed::decode_getinstance(query);
  auto rp = self->make_response_promise<xml::element>();
  bool single = ids.size() == 1;
  self
    ->request(self->state.scheduler, scheduler_backstop,
              atom::served_instances_v, member, std::move(ids))
    .then(
      [self, rp, single](std::vector<instance>& found) mutable {
        if (single && found.empty()) {
          rp.deliver(make_error(errc::not_found, "no such instance"));
          return;
        }
        with_addresses(self, rp, std::move(found));
      },
      [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

reply dispatch(self_ptr self, const std::string& member,
               const xml::element& query) {
  using namespace fed;
  auto& ns = query.ns;
  auto done = [ns](atom::ok) { return empty_result(ns); };
  if (ns == ns_order)
    return serve_order(self, member, query);
  if (ns == ns_getinstance)
    return get_instances(self, member, query);
  if (ns == ns_removeinstance)
    return ask_scheduler<atom::ok>(self, scheduler_backstop, done,
                                   atom::unserve_instance_v, member,
                                   decode_removeinstance(query));
  if (ns == ns_removeorder)
    return ask_scheduler<atom::ok>(self, scheduler_backstop, done,
                                   atom::unserve_v, member,
                                   decode_removeorder(query));
  if (ns == ns_instancebeingused) {
    // An empty answer means "in use", item-not-found "not used".
    auto probe = decode_instancebeingused(query);
    auto rp = self->make_response_promise<xml::element>();
    self
      ->request(self->state.scheduler, scheduler_backstop, atom::probe_v,
                member, probe.order_id, probe.global_instance_id)
      .then(
        [rp, ns](bool used) mutable {
          if (used)
            rp.deliver(empty_result(ns));
          else
            rp.deliver(make_error(errc::not_found, "not used"));
        },
        [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
    return rp;
  }
  if (ns == ns_storagelink)
    return serve_link(self, member, query);
  if (ns == ns_removestoragelink)
    return ask_scheduler<atom::ok>(self, scheduler_backstop, done,
                                   atom::unserve_instance_v, member,
                                   decode_removestoragelink(query));
  if (ns == ns_getremoteuserquota)
    return ask_scheduler<quota_report>(
      self, scheduler_backstop,
      [](const quota_report& q) { return encode_quota(q); },
      atom::served_quota_v, member, decode_quota_request(query).id);
  return make_error(errc::unsupported,
                    "this member does not serve " + ns + " yet");
}

} // namespace

federation_server_actor::behavior_type
federation_server(self_ptr self, order_scheduler_actor scheduler,
                  tunnel_client_actor tunnel, federation_server_config config) {
  auto& st = self->state;
  st.scheduler = std::move(scheduler);
  st.tunnel = std::move(tunnel);
  st.config = std::move(config);
  return {
    [self](atom::iq_request, const std::string& from,
           const xml::element& query) -> reply {
      auto member = bare_jid(from);
      auto& st = self->state;
      if (member == st.config.self_id || st.members.count(member) == 0)
        return make_error(errc::unauthorized,
                          member + " is not a member of this federation");
      try {
        return dispatch(self, member, query);
      } catch (const fed::protocol_error& e) {
        return make_error(errc::invalid_argument, e.what());
      }
    },
    [self](atom::members_changed, const std::vector<member_info>& members) {
      auto& known = self->state.members;
      known.clear();
      for (auto& m : members)
        if (m.alive && !m.is_self)
          known.insert(m.id);
    },
    [self](atom::retry, std::uint64_t ticket) {
      auto& delayed = self->state.delayed;
      auto it = delayed.find(ticket);
      if (it == delayed.end())
        return;
      auto [rp, x] = std::move(it->second);
      delayed.erase(it);
      if (x)
        rp.deliver(std::move(*x));
      else
        rp.deliver(refusal(x.error()));
    },
  };
}

} // namespace fogbow
