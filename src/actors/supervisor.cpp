#include "actors/supervisor.hpp"

#include "actors/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace fogbow {

restart_budget::restart_budget(std::size_t max_restarts,
                               std::chrono::milliseconds window)
    : max_restarts_(max_restarts), window_(window) {}

bool restart_budget::try_spend(time_point now) {
  while (!recent_.empty() && now - recent_.front() >= window_)
    recent_.pop_front();
  if (recent_.size() >= max_restarts_)
    return false;
  recent_.push_back(now);
  return true;
}

namespace {

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = [] {
    auto existing = spdlog::get("supervisor");
    return existing ? existing : spdlog::default_logger()->clone("supervisor");
  }();
  return logger;
}

std::string describe(const caf::error& reason) {
  if (!reason)
    return "it quit normally";
  if (reason == caf::exit_reason::kill)
    return "it was killed";
  return message_of(reason);
}

std::optional<std::size_t> component_of(self_ptr self,
                                        const caf::actor_addr& who) {
  auto& live = self->state.live;
  for (std::size_t i = 0; i < live.size(); ++i)
    if (live[i].count(who))
      return i;
  return std::nullopt;
}

void fail(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.failed)
    return;
  st.failed = true;
  auto line = st.config.role + ": " + why
              + "; stopping the process (exit code 1) so that it is started "
                "again from its stored state";
  log()->critical("{}", line);
  if (st.config.on_fatal)
    st.config.on_fatal(line);
}

void watch(self_ptr self, std::size_t index) {
  auto& st = self->state;
  st.live[index].clear();
  for (auto& hdl : st.config.components[index].actors) {
    st.live[index].insert(hdl.address());
    self->monitor(hdl);
  }
}

/// `index` and every component that depends on it, directly or not.
std::vector<bool> with_dependents(self_ptr self, std::size_t index) {
  auto& comps = self->state.config.components;
  std::vector<bool> out(comps.size(), false);
  out[index] = true;
  // Dependencies come first, so one pass in order reaches every dependent.
  for (std::size_t i = index + 1; i < comps.size(); ++i)
    for (auto& dep : comps[i].depends_on)
      for (std::size_t j = 0; j < i; ++j)
        if (out[j] && comps[j].name == dep)
          out[i] = true;
  return out;
}

/// Builds the stopped components again once all their actors are gone.
void respawn_when_stopped(self_ptr self) {
  auto& st = self->state;
  bool any = false;
  for (std::size_t i = 0; i < st.live.size(); ++i) {
    if (!st.restarting[i])
      continue;
    if (!st.live[i].empty())
      return; // wait for the rest of the down messages
    any = true;
  }
  if (!any)
    return;
  if (!st.budget.try_spend(self->clock().now()))
    return fail(self, "more than " + std::to_string(st.config.max_restarts)
                        + " restarts within "
                        + std::to_string(st.config.restart_window.count())
                        + " ms (a crash loop)");
  for (std::size_t i = 0; i < st.live.size(); ++i) {
    if (!st.restarting[i])
      continue;
    auto& c = st.config.components[i];
    try {
      c.actors = c.respawn();
    } catch (const std::exception& e) {
      return fail(self, "cannot restart the " + c.name + ": " + e.what());
    }
    st.restarting[i] = false;
    watch(self, i);
    log()->warn("{}: the {} is running again", st.config.role, c.name);
  }
}

void stop_for_restart(self_ptr self, std::size_t index) {
  auto& st = self->state;
  auto affected = with_dependents(self, index);
  for (std::size_t i = 0; i < affected.size(); ++i) {
    if (!affected[i] || st.restarting[i])
      continue;
    auto& c = st.config.components[i];
    if (c.policy != failure_policy::restart || !c.respawn)
      return fail(self, "the " + c.name + " depends on the restarting "
                          + st.config.components[index].name
                          + " and cannot be restarted");
    st.restarting[i] = true;
    if (i != index)
      log()->warn("{}: stopping the {} while the {} restarts", st.config.role,
                  c.name, st.config.components[index].name);
    for (auto& hdl : c.actors)
      if (st.live[i].count(hdl.address()))
        self->send_exit(hdl, caf::exit_reason::user_shutdown);
  }
}

void on_down(self_ptr self, const caf::down_msg& down) {
  auto& st = self->state;
  if (st.failed || st.stopping)
    return;
  auto index = component_of(self, down.source);
  if (!index)
    return;
  st.live[*index].erase(down.source);
  auto& c = st.config.components[*index];
  if (!st.restarting[*index]) {
    if (c.policy == failure_policy::exit_process)
      return fail(self,
                  "the " + c.name + " stopped (" + describe(down.reason) + ")");
    log()->error("{}: the {} stopped ({}); restarting it", st.config.role,
                 c.name, describe(down.reason));
    stop_for_restart(self, *index);
  }
  respawn_when_stopped(self);
}

/// The role shuts down: every component goes with the supervisor.
void on_shutdown(self_ptr self, const caf::exit_msg& msg) {
  auto& st = self->state;
  st.stopping = true;
  for (std::size_t i = 0; i < st.live.size(); ++i)
    for (auto& hdl : st.config.components[i].actors)
      if (st.live[i].count(hdl.address()))
        self->send_exit(hdl, msg.reason);
  self->quit(msg.reason);
}

} // namespace

supervisor_actor::behavior_type supervisor(self_ptr self,
                                           supervisor_config config) {
  auto& st = self->state;
  st.budget = restart_budget{config.max_restarts, config.restart_window};
  st.config = std::move(config);
  st.live.resize(st.config.components.size());
  st.restarting.assign(st.config.components.size(), false);
  for (std::size_t i = 0; i < st.config.components.size(); ++i)
    watch(self, i);
  self->set_down_handler([self](caf::down_msg& down) { on_down(self, down); });
  self->set_exit_handler(
    [self](caf::exit_msg& msg) { on_shutdown(self, msg); });
  return {
    [self](atom::get,
           const std::string& name) -> caf::result<std::vector<caf::actor>> {
      auto& st = self->state;
      for (std::size_t i = 0; i < st.config.components.size(); ++i) {
        if (st.config.components[i].name != name)
          continue;
        if (st.restarting[i])
          return make_error(errc::unavailable,
                            "the " + name + " is being restarted");
        return st.config.components[i].actors;
      }
      return make_error(errc::not_found, "no component " + name);
    },
  };
}

caf::behavior forwarder(caf::stateful_actor<forwarder_state>* self,
                        std::string component, caf::actor target) {
  self->state.component = std::move(component);
  self->state.target = std::move(target);
  self->set_default_handler(
    [self](caf::scheduled_actor*,
           caf::message_view& xs) -> caf::result<caf::message> {
      auto& st = self->state;
      if (!st.target) {
        if (self->current_message_id().is_request())
          return make_error(errc::unavailable,
                            "the " + st.component + " is being restarted");
        self->drop_current_message_id();
        return caf::message{};
      }
      auto rp = self->make_response_promise();
      rp.delegate(st.target, xs.move_content_to_message());
      return rp;
    });
  return {
    [self](atom::route, caf::actor target) {
      self->state.target = std::move(target);
    },
  };
}

} // namespace fogbow
