#include "actors/tunnel_allocator.hpp"

#include "actors/errors.hpp"
#include "metrics/metrics.hpp"
#include "store/order_store.hpp"
#include "util/encoding.hpp"
#include "util/log_safe.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string_view>

namespace fogbow {

namespace {

using self_ptr =
  tunnel_allocator_actor::stateful_pointer<tunnel_allocator_state>;

bool valid_token(const std::string& t) {
  if (t.empty() || t.size() > 200)
    return false;
  for (unsigned char c : t)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@'))
      return false;
  return true;
}

/// A named token's name: short, and nothing a log or a URL would mangle.
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32)
    return false;
  for (unsigned char c : name)
    if (!(std::isalnum(c) || c == '-' || c == '_'))
      return false;
  return true;
}

std::size_t named_count(const tunnel_allocator_state& st,
                        const std::string& base) {
  std::size_t n = 0;
  for (auto& [id, t] : st.tokens)
    if (t.base == base && id != base)
      ++n;
  return n;
}

/// Why `token` may not become a new named token of family `base`, if so.
caf::error refuse_named(const tunnel_allocator_state& st,
                        const std::string& token, const std::string& base) {
  if (token == base || st.tokens.count(token))
    return {};
  auto name = std::string_view{token}.substr(base.size() + 1);
  if (!valid_name(name))
    return make_error(errc::invalid_argument,
                      "a port name must be 1 to 32 characters out of "
                      "A-Z a-z 0-9 - _");
  auto limit =
    static_cast<std::size_t>(std::max(0, st.config.max_named_tokens));
  if (named_count(st, base) >= limit)
    return make_error(errc::conflict,
                      "token " + base + " already has " + std::to_string(limit)
                        + " named ports, the most one token may have");
  return {};
}

std::optional<int> lowest_free(const tunnel_allocator_state& st) {
  for (int p = st.config.port_low; p <= st.config.port_high; ++p)
    if (!st.by_port.count(p))
      return p;
  return std::nullopt;
}

void publish_port_pool(const tunnel_allocator_state& st) {
  auto size = st.config.port_high - st.config.port_low + 1;
  metrics::set_port_pool(st.by_port.size(),
                         static_cast<std::size_t>(std::max(size, 0)));
}

caf::error storage(const std::exception& e) {
  return make_error(errc::storage_failure, e.what());
}

/// Creates `id` in family `base` (or returns it); persisted first.
caf::result<int> ensure(self_ptr self, const std::string& id,
                        const std::string& base,
                        const std::string& secret_sha) {
  auto& st = self->state;
  auto it = st.tokens.find(id);
  if (it != st.tokens.end()) {
    if (!secret_sha.empty() && it->second.secret_sha256 != secret_sha) {
      auto copy = it->second;
      copy.secret_sha256 = secret_sha;
      copy.base = id;
      try {
        st.db->put(copy);
      } catch (const std::exception& e) {
        return storage(e);
      }
      it->second = copy;
    }
    return it->second.port;
  }
  auto port = lowest_free(st);
  if (!port)
    return make_error(errc::no_capacity,
                      "Token [" + id + "] didn't get any port. All ports of "
                        + std::to_string(st.config.port_low) + ":"
                        + std::to_string(st.config.port_high) + " are taken.");
  tunnel_token t;
  t.id = id;
  t.port = *port;
  t.base = base;
  t.secret_sha256 = secret_sha;
  t.created_at = st.config.clock();
  t.last_active = t.created_at;
  try {
    st.db->put(t);
  } catch (const std::exception& e) {
    return storage(e);
  }
  st.by_port[t.port] = id;
  st.tokens[id] = t;
  publish_port_pool(st);
  spdlog::info("tunnel: token {} gets port {}", log_safe(id), t.port);
  return t.port;
}

/// Every token of the family, base first.
std::vector<std::string> family(const tunnel_allocator_state& st,
                                const std::string& base) {
  std::vector<std::string> ids;
  for (auto& [id, t] : st.tokens)
    if (t.base == base)
      ids.push_back(id);
  return ids;
}

caf::error drop(self_ptr self, const std::vector<std::string>& ids) {
  auto& st = self->state;
  try {
    st.db->erase(ids);
  } catch (const std::exception& e) {
    return storage(e);
  }
  for (auto& id : ids) {
    auto it = st.tokens.find(id);
    if (it == st.tokens.end())
      continue;
    int port = it->second.port;
    st.by_port.erase(port);
    st.tokens.erase(it);
    publish_port_pool(st);
    if (st.config.close_port)
      st.config.close_port(port);
    spdlog::info("tunnel: token {} deleted, port {} free", log_safe(id), port);
  }
  return {};
}

void arm_sweep(self_ptr self) {
  auto ms = self->state.config.sweep_interval_ms;
  if (self->state.config.idle_timeout_ms > 0 && ms > 0)
    self->delayed_send(self, std::chrono::milliseconds{ms},
                       atom::tunnel_expire_v);
}

} // namespace

std::optional<std::string>
tunnel_family_of(const std::map<std::string, tunnel_token>& tokens,
                 const std::string& login) {
  auto is_base = [&](const std::string& id) {
    auto it = tokens.find(id);
    return it != tokens.end() && !it->second.secret_sha256.empty()
           && it->second.base == id;
  };
  if (is_base(login))
    return login;
  for (auto pos = login.rfind('-'); pos != std::string::npos && pos > 0;
       pos = login.rfind('-', pos - 1)) {
    auto prefix = login.substr(0, pos);
    if (is_base(prefix))
      return prefix;
    if (pos == 0)
      break;
  }
  return std::nullopt;
}

tunnel_allocator_actor::behavior_type
tunnel_allocator(self_ptr self, const std::string& db_path,
                 tunnel_allocator_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  try {
    st.db = std::make_unique<tunnel_store>(db_path);
    for (auto& t : st.db->load()) {
      st.by_port[t.port] = t.id;
      st.tokens[t.id] = t;
    }
  } catch (const std::exception& e) {
    self->quit(make_error(errc::storage_failure, e.what()));
    return tunnel_allocator_actor::behavior_type::make_empty_behavior();
  }
  publish_port_pool(st);
  spdlog::info("tunnel: {} tokens loaded, ports {}..{}", st.tokens.size(),
               st.config.port_low, st.config.port_high);
  arm_sweep(self);
  return {
    [self](atom::tunnel_register, const std::string& token,
           const std::string& secret) -> caf::result<int> {
      if (!valid_token(token))
        return make_error(errc::invalid_argument, "invalid token id");
      if (!secret.empty() && secret.size() < 16)
        return make_error(errc::invalid_argument,
                          "a token secret needs at least 16 characters");
      auto base = tunnel_family_of(self->state.tokens, token);
      if (secret.empty() && base)
        if (auto err = refuse_named(self->state, token, *base))
          return err;
      return ensure(self, token, secret.empty() && base ? *base : token,
                    secret.empty() ? std::string{} : sha256_hex(secret));
    },
    [self](atom::tunnel_allocate,
           const std::string& token) -> caf::result<int> {
      if (!valid_token(token))
        return make_error(errc::invalid_argument, "invalid token id");
      auto base = tunnel_family_of(self->state.tokens, token);
      if (!base)
        return make_error(errc::not_found, "no token family for " + token);
      if (auto err = refuse_named(self->state, token, *base))
        return err;
      return ensure(self, token, *base, {});
    },
    [self](atom::tunnel_set_key, const std::string& token,
           const std::string& key) -> caf::result<int> {
      auto& st = self->state;
      auto base = tunnel_family_of(st.tokens, token);
      if (!base)
        return make_error(errc::not_found, "no token family for " + token);
      auto copy = st.tokens[*base];
      if (copy.public_key != key) {
        copy.public_key = key;
        try {
          st.db->put(copy);
        } catch (const std::exception& e) {
          return storage(e);
        }
        st.tokens[*base] = copy;
      }
      auto tit = st.tokens.find(token);
      return tit != st.tokens.end() ? tit->second.port : copy.port;
    },
    [self](atom::get, const std::string& token) -> caf::result<int> {
      auto it = self->state.tokens.find(token);
      if (it == self->state.tokens.end())
        return make_error(errc::not_found, "404 Port Not Found");
      return it->second.port;
    },
    [self](atom::tunnel_family, const std::string& token) {
      tunnel_family_ports out;
      for (auto& [id, t] : self->state.tokens) {
        if (id == token)
          out.ports.emplace_back("ssh", t.port);
        else if (id.size() > token.size() + 1 && id.starts_with(token + "-"))
          out.ports.emplace_back(id.substr(token.size() + 1), t.port);
      }
      return out;
    },
    [self](atom::erase, const std::string& token,
           int port) -> caf::result<atom::ok> {
      auto& st = self->state;
      auto it = st.tokens.find(token);
      if (it == st.tokens.end() || it->second.port != port)
        return make_error(errc::not_found, "Token can not delete this port");
      auto ids = it->second.base == token ? family(st, token)
                                          : std::vector<std::string>{token};
      if (auto err = drop(self, ids))
        return err;
      return atom::ok_v;
    },
    [self](atom::tunnel_release,
           const std::string& token) -> caf::result<atom::ok> {
      auto ids = family(self->state, token);
      if (!self->state.tokens.count(token))
        ids.clear();
      if (auto err = drop(self, ids))
        return err;
      return atom::ok_v;
    },
    [self](atom::list) {
      std::vector<tunnel_token_info> out;
      for (auto& [id, t] : self->state.tokens) {
        tunnel_token_info i;
        i.id = id;
        i.port = t.port;
        i.base = t.base;
        i.active = self->state.live.count(t.base) > 0;
        i.has_key = !self->state.tokens[t.base].public_key.empty();
        i.last_active = t.last_active;
        out.push_back(std::move(i));
      }
      return out;
    },
    [self](atom::tunnel_auth, const std::string& login,
           const std::string& secret) -> caf::result<std::string> {
      auto& st = self->state;
      auto base = tunnel_family_of(st.tokens, login);
      if (!base
          || !same_secret(st.tokens[*base].secret_sha256, sha256_hex(secret)))
        return make_error(errc::unauthorized, "wrong token or secret");
      return *base;
    },
    [self](atom::tunnel_auth_key, const std::string& login,
           const std::string& key) -> caf::result<std::string> {
      auto& st = self->state;
      auto base = tunnel_family_of(st.tokens, login);
      if (!base || key.empty() || st.tokens[*base].public_key != key)
        return make_error(errc::unauthorized,
                          "key not registered for " + login);
      return *base;
    },
    [self](atom::tunnel_forward, std::uint64_t sid, const std::string& base,
           int port) {
      auto& st = self->state;
      auto it = st.by_port.find(port);
      if (it == st.by_port.end() || st.tokens[it->second].base != base) {
        spdlog::warn("tunnel: session {} of {} may not forward port {}", sid,
                     log_safe(base), port);
        return false;
      }
      if (st.config.claim_port && !st.config.claim_port(sid, port)) {
        spdlog::warn("tunnel: session {} cannot open port {}", sid, port);
        return false;
      }
      st.sessions[sid] = base;
      st.live[base].insert(sid);
      spdlog::info("tunnel: session {} forwards port {} for {}", sid, port,
                   log_safe(it->second));
      return true;
    },
    [self](atom::tunnel_closed, std::uint64_t sid, const std::string& base) {
      auto& st = self->state;
      st.sessions.erase(sid);
      auto lit = st.live.find(base);
      if (lit != st.live.end()) {
        lit->second.erase(sid);
        if (lit->second.empty())
          st.live.erase(lit);
      }
      auto it = st.tokens.find(base);
      if (it != st.tokens.end()) {
        auto copy = it->second;
        copy.last_active = st.config.clock();
        try {
          st.db->put(copy);
          it->second = copy;
        } catch (const std::exception& e) {
          spdlog::error("tunnel: {}", e.what());
        }
      }
    },
    [self](atom::tunnel_expire) {
      auto& st = self->state;
      auto now = st.config.clock();
      std::vector<std::string> expired;
      for (auto& [id, t] : st.tokens)
        if (t.base == id && !st.live.count(id)
            && now - t.last_active > st.config.idle_timeout_ms)
          expired.push_back(id);
      for (auto& base : expired) {
        spdlog::info("tunnel: token family {} idle for more than {} ms, "
                     "deleting it",
                     log_safe(base), st.config.idle_timeout_ms);
        if (auto err = drop(self, family(st, base)))
          spdlog::error("tunnel: {}", message_of(err));
      }
      // Named tokens whose base is gone (cannot happen through the API,
      // but a hand-edited database might hold some).
      std::vector<std::string> orphans;
      for (auto& [id, t] : st.tokens)
        if (!st.tokens.count(t.base))
          orphans.push_back(id);
      if (!orphans.empty())
        drop(self, orphans);
      arm_sweep(self);
    },
  };
}

} // namespace fogbow
