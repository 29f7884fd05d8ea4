#include "actors/member_proxy.hpp"

#include "actors/errors.hpp"
#include "domain/requirements.hpp"
#include "federation/manager_protocol.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <functional>
#include <utility>

namespace fogbow {

namespace {

using self_ptr = member_proxy_actor::stateful_pointer<member_proxy_state>;

/// Backstop over the bridge's own IQ deadline.
constexpr auto bridge_backstop = std::chrono::seconds(60);

std::string address_of(self_ptr self, const std::string& member) {
  return member + "/" + self->state.config.resource;
}

fed::order_request to_request(const order& o) {
  fed::order_request r;
  r.order_id = o.id;
  r.user = {o.user_id, o.user_name};
  r.kind = o.kind;
  r.type = o.type;
  // The provider sees one expression: the user's own and the sizes.
  r.requirements =
    o.kind == resource_kind::compute
      ? requirements::combine(o.requirements, o.vcpu, o.memory_mb, o.disk_gb)
      : o.requirements;
  r.image = o.image;
  r.user_data = o.user_data;
  r.public_key = o.public_key;
  r.size_gb = o.size_gb;
  r.network_cidr = o.network_cidr;
  r.network_gateway = o.network_gateway;
  r.network_allocation = o.network_allocation;
  return r;
}

/// An attachment whose compute and volume are named by the provider's
/// local ids (the scheduler resolved them).
fed::link_request to_link(const order& o) {
  fed::link_request r;
  r.order_id = o.id;
  r.user = {o.user_id, o.user_name};
  r.server_id = o.attach_compute;
  r.volume_id = o.attach_volume;
  r.device = o.attach_device;
  return r;
}

/// What to make of an error answer (e.g. item-not-found is "no" for some
/// questions); unset: the error as it is.
template <class T>
using error_policy = std::function<caf::expected<T>(caf::error)>;

/// Sends one IQ and decodes its answer with `decode`; a payload that does
/// not decode is the member's fault (errc::cloud_error), never a crash.
template <class T, class Decode>
caf::result<T> ask(self_ptr self, const std::string& member, xml::element query,
                   std::int64_t timeout_ms, Decode decode,
                   error_policy<T> on_error = {}) {
  auto rp = self->make_response_promise<T>();
  auto to = address_of(self, member);
  auto sent =
    fed::changes_state(query)
      ? self->request(self->state.bridge, bridge_backstop, atom::iq_set_v, to,
                      std::move(query), timeout_ms)
      : self->request(self->state.bridge, bridge_backstop, atom::iq_request_v,
                      to, std::move(query), timeout_ms);
  sent.then(
    [rp, decode, member](const xml::element& reply) mutable {
      try {
        rp.deliver(decode(reply));
      } catch (const fed::protocol_error& e) {
        rp.deliver(
          make_error(errc::cloud_error,
                     member + " answered a malformed payload: " + e.what()));
      }
    },
    [rp, on_error](caf::error& e) mutable {
      if (!on_error) {
        rp.deliver(std::move(e));
        return;
      }
      auto x = on_error(std::move(e));
      if (x)
        rp.deliver(std::move(*x));
      else
        rp.deliver(std::move(x.error()));
    });
  return rp;
}

/// getinstance for any number of ids: one IQ per getinstance_chunk ids,
/// the answers merged; the first error fails the whole question.
caf::result<std::vector<instance>>
ask_instances(self_ptr self, const std::string& member,
              const std::vector<std::string>& ids, std::int64_t timeout_ms) {
  // One id asked for and not there: Java's item-not-found.
  error_policy<std::vector<instance>> none = [](caf::error e) {
    if (code_of(e) == errc::not_found)
      return caf::expected<std::vector<instance>>{std::vector<instance>{}};
    return caf::expected<std::vector<instance>>{std::move(e)};
  };
  auto ask_chunk = [&](const std::vector<std::string>& chunk) {
    return ask<std::vector<instance>>(self, member,
                                      fed::encode_getinstance(chunk),
                                      timeout_ms, fed::decode_instances, none);
  };
  if (ids.size() <= fed::getinstance_chunk)
    return ask_chunk(ids);
  struct gathering {
    std::vector<instance> found;
    std::size_t missing = 0;
    bool failed = false;
  };
  auto all = std::make_shared<gathering>();
  auto rp = self->make_response_promise<std::vector<instance>>();
  for (std::size_t i = 0; i < ids.size(); i += fed::getinstance_chunk) {
    auto end = std::min(ids.size(), i + fed::getinstance_chunk);
    std::vector<std::string> chunk(ids.begin() + static_cast<long>(i),
                                   ids.begin() + static_cast<long>(end));
    ++all->missing;
    self
      ->request(caf::actor_cast<member_proxy_actor>(self), bridge_backstop,
                atom::get_v, member, std::move(chunk))
      .then(
        [all, rp](std::vector<instance>& part) mutable {
          if (all->failed)
            return;
          std::move(part.begin(), part.end(), std::back_inserter(all->found));
          if (--all->missing == 0)
            rp.deliver(std::move(all->found));
        },
        [all, rp](caf::error& e) mutable {
          if (all->failed)
            return;
          all->failed = true;
          rp.deliver(std::move(e));
        });
  }
  return rp;
}

/// Deadline of the short questions (everything but an offer).
std::int64_t question_timeout(self_ptr self) {
  return std::min<std::int64_t>(self->state.config.forward_timeout.count(),
                                10000);
}

} // namespace

member_proxy_actor::behavior_type member_proxy(self_ptr self,
                                               xmpp_bridge_actor bridge,
                                               member_proxy_config config) {
  self->state.bridge = std::move(bridge);
  self->state.config = std::move(config);
  auto done = [](const xml::element&) { return atom::ok_v; };
  return {
    [self](atom::create, const std::string& member, const order& o) {
      // item-not-found is how a provider says "not here" (no room, not
      // allowed): a refusal, not a missing thing.
      error_policy<std::string> refusal = [](caf::error e) {
        if (code_of(e) == errc::not_found)
          return caf::expected<std::string>{
            make_error(errc::no_capacity, message_of(e))};
        return caf::expected<std::string>{std::move(e)};
      };
      auto timeout = self->state.config.forward_timeout.count();
      if (o.kind == resource_kind::attachment)
        return ask<std::string>(self, member,
                                fed::encode_storagelink(to_link(o)), timeout,
                                fed::decode_link_result, refusal);
      return ask<std::string>(self, member, fed::encode_order(to_request(o)),
                              timeout, fed::decode_order_result, refusal);
    },
    [self](atom::get, const std::string& member,
           const std::vector<std::string>& ids) {
      return ask_instances(self, member, ids, question_timeout(self));
    },
    [self, done](atom::erase_instance, const std::string& member,
                 const std::string& local_id) {
      return ask<atom::ok>(self, member, fed::encode_removeinstance(local_id),
                           question_timeout(self), done);
    },
    [self, done](atom::erase, const std::string& member,
                 const std::string& order_id) {
      return ask<atom::ok>(self, member, fed::encode_removeorder(order_id),
                           question_timeout(self), done);
    },
    [self](atom::quota, const std::string& member, const std::string& user_id,
           const std::string& user_name) {
      return ask<quota_report>(self, member,
                               fed::encode_quota_request({user_id, user_name}),
                               question_timeout(self), fed::decode_quota);
    },
    [self](atom::probe, const std::string& member, const std::string& order_id,
           const std::string& global_id) {
      // An empty answer means "in use", item-not-found "not used".
      error_policy<bool> unused = [](caf::error e) {
        if (code_of(e) == errc::not_found)
          return caf::expected<bool>{false};
        return caf::expected<bool>{std::move(e)};
      };
      return ask<bool>(
        self, member, fed::encode_instancebeingused({order_id, global_id}),
        question_timeout(self), [](const xml::element&) { return true; },
        unused);
    },
  };
}

} // namespace fogbow
