#include "actors/rendezvous.hpp"

#include "actors/errors.hpp"
#include "metrics/metrics.hpp"
#include "util/log_safe.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace fogbow {

namespace {

using self_ptr = rendezvous_actor::stateful_pointer<rendezvous_state>;

/// A protocol error as the errc the bridge turns back into its condition.
caf::error to_error(const rdv::protocol_error& e) {
  if (e.condition() == "item-not-found")
    return make_error(errc::not_found, e.what());
  if (e.condition() == "not-authorized")
    return make_error(errc::unauthorized, e.what());
  return make_error(errc::invalid_argument, e.what());
}

bool admitted(const rendezvous_state& st, const std::string& id) {
  return !st.config.whitelist || st.config.whitelist->count(id) > 0;
}

void pull_page(self_ptr self, const std::string& neighbor,
               rdv::page_request req, int pages, int merged) {
  auto& st = self->state;
  // Each request waits at most the bridge's timeout; CAF's own timeout is
  // only a backstop.
  self
    ->request(st.bridge, std::chrono::seconds(60), atom::iq_request_v, neighbor,
              rdv::encode_sync(req))
    .then(
      [self, neighbor, req, pages, merged](const xml::element& reply) mutable {
        auto& st = self->state;
        rdv::page p;
        try {
          p = rdv::decode_sync_reply(reply);
        } catch (const rdv::protocol_error& e) {
          spdlog::warn("rendezvous: bad sync reply from {}: {}", neighbor,
                       log_safe(e.what()));
          st.syncing.erase(neighbor);
          return;
        }
        auto now = st.config.clock();
        for (auto& m : p.items)
          if (admitted(st, m.id) && st.directory.merge(m, now))
            ++merged;
        // Until an empty page: a neighbour may cap pages below our <max>,
        // and the Java one reports the page size as <count>.
        bool more =
          !p.items.empty() && p.last && p.last != req.after && pages < 100000;
        if (more) {
          req.after = p.last;
          pull_page(self, neighbor, req, pages + 1, merged);
          return;
        }
        st.syncing.erase(neighbor);
        st.directory.expire(now);
        if (st.failing_neighbors.erase(neighbor))
          spdlog::info("rendezvous: sync with {} works again", neighbor);
        spdlog::debug("rendezvous: synced {} members from {} in {} pages",
                      merged, neighbor, pages + 1);
      },
      [self, neighbor](caf::error& e) {
        auto& st = self->state;
        st.syncing.erase(neighbor);
        if (st.failing_neighbors.insert(neighbor).second)
          spdlog::warn("rendezvous: cannot sync with neighbour {}: {} (will "
                       "keep retrying quietly)",
                       neighbor, log_safe(message_of(e)));
      });
}

} // namespace

rendezvous_actor::behavior_type
rendezvous(rendezvous_actor::stateful_pointer<rendezvous_state> self,
           xmpp_bridge_actor bridge, rendezvous_config config) {
  self->state.config = std::move(config);
  self->state.bridge = std::move(bridge);
  auto sweep_every = std::chrono::milliseconds{
    std::clamp<std::int64_t>(self->state.config.period_ms / 2, 100, 60000)};
  self->delayed_send(self, sweep_every, atom::sweep_v);
  if (!self->state.config.neighbors.empty() && self->state.bridge)
    self->send(self, atom::sync_v);
  return {
    [self](atom::iq_request, const std::string& from,
           const xml::element& query) -> caf::result<xml::element> {
      auto& st = self->state;
      auto now = st.config.clock();
      try {
        if (query.ns == rdv::ns_iamalive) {
          auto cert = rdv::decode_iamalive(query);
          auto id = bare_jid(from);
          if (id.empty())
            return make_error(errc::invalid_argument, "no sender JID");
          if (!admitted(st, id)) {
            if (++st.refused == 1 || st.refused % 1000 == 0)
              spdlog::warn("rendezvous: refused heartbeat from {} (not in the "
                           "whitelist; {} refused so far)",
                           log_safe(id), st.refused);
            return make_error(errc::unauthorized,
                              id + " is not in this rendezvous' whitelist");
          }
          st.directory.heartbeat(id, std::move(cert), now,
                                 st.config.period_ms * st.config.max_lost);
          metrics::count_heartbeat();
          metrics::set_rendezvous_members(st.directory.size());
          return rdv::encode_iamalive_reply(st.config.period_ms);
        }
        if (query.ns == rdv::ns_whoisalive) {
          auto req = rdv::decode_whoisalive(query);
          st.directory.expire(now);
          auto p = st.directory.page_at(req, st.config.page_max, now);
          metrics::count_whoisalive();
          return rdv::encode_whoisalive_reply(p);
        }
        if (query.ns == rdv::ns_sync) {
          auto req = rdv::decode_sync(query);
          st.directory.expire(now);
          auto p = st.directory.page_at(req, st.config.sync_page_max, now);
          return rdv::encode_sync_reply(p);
        }
        return make_error(errc::invalid_argument,
                          "no handler for namespace '" + query.ns + "'");
      } catch (const rdv::protocol_error& e) {
        return to_error(e);
      }
    },
    [self](atom::members) {
      auto& st = self->state;
      auto now = st.config.clock();
      st.directory.expire(now);
      std::vector<member_info> out;
      out.reserve(st.directory.size());
      for (auto& [id, e] : st.directory.members())
        out.push_back(member_info{id, true, e.last_ms, false});
      return out;
    },
    [self, sweep_every](atom::sweep) {
      auto& st = self->state;
      auto n = st.directory.expire(st.config.clock());
      metrics::set_rendezvous_members(st.directory.size());
      if (n > 0)
        spdlog::info("rendezvous: {} member(s) expired, {} listed", n,
                     st.directory.size());
      self->delayed_send(self, sweep_every, atom::sweep_v);
    },
    [self](atom::sync) {
      auto& st = self->state;
      for (auto& n : st.config.neighbors)
        if (st.syncing.insert(n).second)
          pull_page(self, n, rdv::page_request{st.config.sync_page_max, {}}, 0,
                    0);
      self->delayed_send(self,
                         std::chrono::milliseconds{st.config.sync_interval_ms},
                         atom::sync_v);
    },
  };
}

} // namespace fogbow
