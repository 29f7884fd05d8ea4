#include "actors/member_registry.hpp"

#include "actors/errors.hpp"
#include "federation/rendezvous_protocol.hpp"
#include "metrics/metrics.hpp"
#include "util/log_safe.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace fogbow {

std::string bare_jid(std::string_view jid) {
  return std::string{jid.substr(0, jid.find('/'))};
}

namespace {

using self_ptr = member_registry_actor::stateful_pointer<member_registry_state>;

constexpr auto backstop = std::chrono::seconds(60);

std::vector<member_info> member_list(self_ptr self) {
  auto& st = self->state;
  auto now = st.config.clock();
  auto stale_after = st.period_ms * 3;
  std::vector<member_info> out;
  member_info me{st.config.self_id, true, now, true};
  out.push_back(me);
  for (auto& [id, seen] : st.members) {
    if (id == st.config.self_id)
      continue;
    out.push_back(member_info{id, now - seen <= stale_after, seen, false});
  }
  return out;
}

/// Tells the listeners when who is listed or alive changed. Not while our
/// own rounds fail: cut off from the rendezvous, we cannot tell who else
/// is alive, and declaring everyone dead would re-place all they serve.
void tell_listeners(self_ptr self) {
  auto& st = self->state;
  if (st.failing)
    return;
  auto list = member_list(self);
  std::vector<std::pair<std::string, bool>> summary;
  summary.reserve(list.size());
  for (auto& m : list)
    summary.emplace_back(m.id, m.alive);
  metrics::set_members_alive(static_cast<std::size_t>(
    std::count_if(list.begin(), list.end(), [](auto& m) { return m.alive; })));
  if (summary == st.last_told)
    return;
  st.last_told = std::move(summary);
  for (auto& l : st.listeners)
    self->send(l, atom::members_changed_v, list);
}

void round_failed(self_ptr self, const std::string& what, const caf::error& e) {
  auto& st = self->state;
  st.busy = false;
  if (code_of(e) == errc::unavailable
      && message_of(e).starts_with("not connected")) {
    // Our own XMPP session is (re)connecting: cheap to ask again soon, so
    // the first round after a (re)connect does not wait a whole period.
    auto soon = std::min<std::int64_t>(st.period_ms, 250);
    self->delayed_send(self, std::chrono::milliseconds{soon}, atom::heartbeat_v,
                       ++st.generation);
    if (st.rounds == 0 && !st.failing) {
      spdlog::info("member registry: waiting for the XMPP connection");
      st.failing = true;
      return;
    }
  }
  if (code_of(e) == errc::unauthorized) {
    if (!st.refused)
      spdlog::error("member registry: the rendezvous {} refused this "
                    "member: {}",
                    st.config.rendezvous_jid, log_safe(message_of(e)));
    st.refused = true;
  } else if (!st.failing) {
    spdlog::warn("member registry: {} to the rendezvous {} failed: {} "
                 "(keeping the last known {} members, retrying every {} ms)",
                 what, st.config.rendezvous_jid, log_safe(message_of(e)),
                 st.members.size(), st.period_ms);
  }
  st.failing = true;
}

void fetch_page(self_ptr self, const std::optional<std::string>& after,
                int pages,
                const std::shared_ptr<std::map<std::string, millis>>& seen) {
  auto& st = self->state;
  rdv::page_request req{st.config.page_size, after};
  self
    ->request(st.bridge, backstop, atom::iq_request_v, st.config.rendezvous_jid,
              rdv::encode_whoisalive(req))
    .then(
      [self, after, pages, seen](const xml::element& reply) {
        auto& st = self->state;
        rdv::page p;
        try {
          p = rdv::decode_whoisalive_reply(reply);
        } catch (const rdv::protocol_error& e) {
          round_failed(self, "whoisalive",
                       make_error(errc::invalid_argument, e.what()));
          return;
        }
        auto now = st.config.clock();
        for (auto& m : p.items)
          (*seen)[m.id] = now;
        if (!p.items.empty() && p.last && p.last != after && pages < 100000) {
          fetch_page(self, p.last, pages + 1, seen);
          return;
        }
        // Complete listing. A member missing from it may be a blip (the
        // XMPP server restarting under the rendezvous): it stays listed,
        // turns stale after 3 periods unconfirmed and goes after 6.
        auto before = st.members.size();
        for (auto& [id, t] : *seen)
          st.members[id] = t;
        std::erase_if(st.members, [&](const auto& entry) {
          return now - entry.second > st.period_ms * 6;
        });
        st.busy = false;
        ++st.rounds;
        if (st.rounds == 1)
          spdlog::info("member registry: joined the federation through {}; "
                       "{} members",
                       st.config.rendezvous_jid, st.members.size());
        else if (st.failing || st.refused)
          spdlog::info("member registry: the rendezvous {} answers again; {} "
                       "members",
                       st.config.rendezvous_jid, st.members.size());
        else if (before != st.members.size())
          spdlog::info("member registry: {} members", st.members.size());
        st.failing = false;
        st.refused = false;
        tell_listeners(self);
      },
      [self](caf::error& e) { round_failed(self, "whoisalive", e); });
}

void start_round(self_ptr self) {
  auto& st = self->state;
  st.busy = true;
  self
    ->request(st.bridge, backstop, atom::iq_request_v, st.config.rendezvous_jid,
              rdv::encode_iamalive())
    .then(
      [self](const xml::element& reply) {
        auto& st = self->state;
        try {
          if (auto period = rdv::decode_iamalive_reply(reply);
              period && *period != st.period_ms) {
            spdlog::info("member registry: the rendezvous asks for a "
                         "heartbeat every {} ms",
                         *period);
            st.period_ms = *period;
            // Restart the timer on the new period (the old one is ignored).
            self->delayed_send(self, std::chrono::milliseconds{st.period_ms},
                               atom::heartbeat_v, ++st.generation);
          }
        } catch (const rdv::protocol_error& e) {
          spdlog::debug("member registry: ignoring iamalive reply: {}",
                        log_safe(e.what()));
        }
        fetch_page(self, std::nullopt, 0,
                   std::make_shared<std::map<std::string, millis>>());
      },
      [self](caf::error& e) { round_failed(self, "iamalive", e); });
}

} // namespace

member_registry_actor::behavior_type member_registry(
  member_registry_actor::stateful_pointer<member_registry_state> self,
  xmpp_bridge_actor bridge, member_registry_config config) {
  self->state.config = std::move(config);
  self->state.bridge = std::move(bridge);
  self->state.period_ms = self->state.config.period_ms;
  self->send(self, atom::heartbeat_v, std::uint64_t{0});
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& ls = self->state.listeners;
    ls.erase(std::remove_if(ls.begin(), ls.end(),
                            [&](const members_listener_actor& l) {
                              return l.address() == msg.source;
                            }),
             ls.end());
  });
  return {
    [self](atom::members) { return member_list(self); },
    [self](atom::subscribe, members_listener_actor listener) {
      self->monitor(listener);
      self->send(listener, atom::members_changed_v, member_list(self));
      self->state.listeners.push_back(std::move(listener));
    },
    [self](atom::heartbeat, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.generation)
        return;
      // Fixed rate: the next beat is due one period after this one started,
      // whatever this round costs; a round still in flight skips a beat.
      self->delayed_send(self, std::chrono::milliseconds{st.period_ms},
                         atom::heartbeat_v, generation);
      // Members go stale by the clock, not only by a round's answer.
      tell_listeners(self);
      if (!st.busy)
        start_round(self);
    },
  };
}

} // namespace fogbow
