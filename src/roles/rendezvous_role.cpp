#include "roles/rendezvous_role.hpp"

#include "actors/rendezvous.hpp"
#include "actors/supervisor.hpp"
#include "federation/rendezvous_protocol.hpp"
#include "roles/startup.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <stdexcept>

namespace fogbow {

std::set<std::string> load_whitelist(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read the rendezvous whitelist " + path
                             + " (refusing to start without it)");
  std::set<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#')
      continue;
    auto last = line.find_last_not_of(" \t\r");
    ids.insert(line.substr(first, last + 1 - first));
  }
  if (in.bad())
    throw std::runtime_error("error reading the rendezvous whitelist " + path);
  return ids;
}

namespace {

rendezvous_actor serve(caf::actor_system& sys, const xmpp_bridge_actor& bridge,
                       const rendezvous_config& rc) {
  auto hdl = sys.spawn(rendezvous, bridge, rc);
  // Replaces the handler of a rendezvous that died.
  auto handler = caf::actor_cast<iq_handler_actor>(hdl);
  for (auto ns : {rdv::ns_iamalive, rdv::ns_whoisalive, rdv::ns_sync})
    caf::anon_send(bridge, atom::iq_serve_v, std::string{ns}, handler);
  return hdl;
}

} // namespace

rendezvous_role::rendezvous_role(caf::actor_system& sys, fogbow_config config)
    : sys_(sys), config_(std::move(config)) {}

rendezvous_role::~rendezvous_role() {
  stop();
}

void rendezvous_role::start(const xmpp_bridge_actor& bridge) {
  rendezvous_config rc;
  rc.period_ms = config_.rendezvous.period_ms;
  rc.max_lost = config_.rendezvous.max_lost;
  rc.page_max = config_.rendezvous.page_max;
  rc.sync_page_max = config_.rendezvous.sync_page_max;
  rc.sync_interval_ms = config_.rendezvous.sync_interval_ms;
  rc.neighbors = config_.rendezvous.neighbors;
  if (config_.rendezvous.whitelist == "file") {
    auto ids = load_whitelist(config_.rendezvous.whitelist_file);
    spdlog::info("rendezvous: whitelist {} admits {} member(s)",
                 config_.rendezvous.whitelist_file, ids.size());
    if (ids.empty())
      spdlog::warn("rendezvous: the whitelist is empty; every heartbeat will "
                   "be refused");
    rc.whitelist =
      std::make_shared<const std::set<std::string>>(std::move(ids));
  }
  rendezvous_ = serve(sys_, bridge, rc);
  // The directory is rebuilt from heartbeats within one period, so a
  // rendezvous that dies is simply started again.
  supervisor_config sup;
  sup.role = "rendezvous";
  sup.on_fatal = [](const std::string&) { request_fatal_exit(); };
  auto& c = sup.components.emplace_back();
  c.name = "rendezvous";
  c.policy = failure_policy::restart;
  c.actors = {caf::actor_cast<caf::actor>(rendezvous_)};
  c.respawn = [&sys = sys_, bridge, rc] {
    return std::vector<caf::actor>{
      caf::actor_cast<caf::actor>(serve(sys, bridge, rc))};
  };
  supervisor_ = sys_.spawn(supervisor, std::move(sup));
  spdlog::info("rendezvous {} serving (heartbeat every {} ms, expiry after "
               "{} ms, {} neighbour(s))",
               config_.rendezvous.jid, config_.rendezvous.period_ms,
               config_.rendezvous.period_ms * config_.rendezvous.max_lost,
               config_.rendezvous.neighbors.size());
}

void rendezvous_role::stop() {
  // The supervisor takes the rendezvous with it.
  if (supervisor_)
    caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
  supervisor_ = nullptr;
  rendezvous_ = nullptr;
}

} // namespace fogbow
