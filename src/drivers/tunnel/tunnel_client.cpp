#include "drivers/tunnel/tunnel_client.hpp"

#include "actors/errors.hpp"
#include "net/http_client.hpp"
#include "util/encoding.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <map>

namespace fogbow {

std::string tunnel_secret_for(const std::string& manager_secret,
                              const std::string& order_id) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  auto msg = "fogbow-tunnel:" + order_id;
  HMAC(EVP_sha256(), manager_secret.data(),
       static_cast<int>(manager_secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md,
       &len);
  return to_hex(md, len);
}

namespace {

/// One request to the tunnel server. The configuration only accepts an
/// http:// URL; were it anything else, the call fails with a message.
http_result tunnel_call(const tunnel_client_config& c, std::string_view method,
                        const std::string& path, const std::string& body = {}) {
  http_options options{std::chrono::milliseconds{c.timeout_ms},
                       true,
                       {{"X-Auth-Token", c.secret}},
                       {}};
  auto client = http_client::to(c.url, std::move(options));
  if (!client) {
    http_result bad;
    bad.transport_error = "not an http(s) URL";
    return bad;
  }
  return client->request(method, path, {}, body);
}

caf::error unreachable(const tunnel_client_config& c, const std::string& what,
                       const http_result& r) {
  auto why = r.status != 0
               ? "HTTP " + std::to_string(r.status) + ": " + r.body
               : "cannot reach " + c.url + " (" + r.transport_error + ")";
  return make_error(errc::cloud_error, "tunnel: " + what + ": " + why);
}

} // namespace

tunnel_client_actor::behavior_type
tunnel_client(tunnel_client_actor::stateful_pointer<tunnel_client_state> self,
              tunnel_client_config config) {
  self->state.config = std::move(config);
  return {
    [self](atom::tunnel_register,
           const std::string& order_id) -> caf::result<tunnel_access> {
      auto& c = self->state.config;
      tunnel_access a;
      a.token = order_id;
      a.secret = tunnel_secret_for(c.secret, order_id);
      nlohmann::json body{{"secret", a.secret}};
      auto r = tunnel_call(c, "POST", "/token/" + order_id, body.dump());
      if (r.status != 200)
        return unreachable(c, "cannot register " + order_id, r);
      auto colon = r.body.find(':');
      try {
        a.port = std::stoi(r.body.substr(0, colon));
        a.ssh_port = std::stoi(r.body.substr(colon + 1));
      } catch (...) {
        return make_error(errc::cloud_error,
                          "tunnel: unexpected answer '" + r.body + "'");
      }
      return a;
    },
    [self](atom::tunnel_release,
           const std::string& order_id) -> caf::result<atom::ok> {
      auto& c = self->state.config;
      auto r = tunnel_call(c, "DELETE", "/token/" + order_id);
      if (r.status != 200 && r.status != 404)
        return unreachable(c, "cannot release " + order_id, r);
      return atom::ok_v;
    },
    [self](atom::tunnel_ports, const std::vector<std::string>& order_ids)
      -> caf::result<tunnel_addresses> {
      auto& c = self->state.config;
      auto r = tunnel_call(c, "GET", "/informations");
      if (r.status != 200)
        return unreachable(c, "cannot read ports", r);
      auto list = nlohmann::json::parse(r.body, nullptr, false);
      if (!list.is_array())
        return make_error(errc::cloud_error, "tunnel: bad /informations");
      std::map<std::string, int> ports;
      for (auto& x : list)
        if (x.is_object() && x.contains("token") && x.contains("port"))
          ports[x["token"].get<std::string>()] = x["port"].get<int>();
      tunnel_addresses out;
      for (auto& id : order_ids) {
        auto it = ports.find(id);
        if (it == ports.end())
          continue;
        tunnel_addresses::entry e;
        e.order_id = id;
        e.ssh_public_address = c.public_host + ":" + std::to_string(it->second);
        for (auto j = ports.lower_bound(id + "-");
             j != ports.end() && j->first.starts_with(id + "-"); ++j)
          e.extra_ports.emplace_back(j->first.substr(id.size() + 1),
                                     c.public_host + ":"
                                       + std::to_string(j->second));
        out.entries.push_back(std::move(e));
      }
      return out;
    },
  };
}

} // namespace fogbow
