#include "auth/ldap_identity.hpp"

#include "domain/order.hpp"
#include "util/log_safe.hpp"

#include <ldap.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <sys/time.h>

namespace fogbow {

std::string ldap_escape_dn_value(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool edge_space = c == ' ' && (i == 0 || i + 1 == value.size());
    if (c == '\0') {
      out += "\\00";
    } else if (edge_space || (c == '#' && i == 0)
               || std::string_view{",+\"\\<>;="}.find(c)
                    != std::string_view::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string ldap_escape_filter_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    switch (c) {
    case '*':
      out += "\\2a";
      break;
    case '(':
      out += "\\28";
      break;
    case ')':
      out += "\\29";
      break;
    case '\\':
      out += "\\5c";
      break;
    case '\0':
      out += "\\00";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string ldap_expand(std::string_view pattern,
                        std::string_view escaped_name) {
  constexpr std::string_view placeholder = "{user}";
  std::string out;
  for (;;) {
    auto at = pattern.find(placeholder);
    out += pattern.substr(0, at);
    if (at == std::string_view::npos)
      return out;
    out += escaped_name;
    pattern.remove_prefix(at + placeholder.size());
  }
}

bool ldap_plausible_name(std::string_view name) {
  if (name.empty() || name.size() > 256)
    return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f)
      return false;
  return true;
}

namespace {

using verdict = ldap_identity::verdict;

// A bind's or search's result code, as a login reads it: the directory
// said no (to the name or the password) or could not be asked.
verdict verdict_of(int rc) {
  switch (rc) {
  case LDAP_SUCCESS:
    return verdict::ok;
  case LDAP_INVALID_CREDENTIALS:
  case LDAP_INVALID_DN_SYNTAX:
  case LDAP_NO_SUCH_OBJECT:
  case LDAP_INAPPROPRIATE_AUTH:
  case LDAP_UNWILLING_TO_PERFORM:
  case LDAP_CONSTRAINT_VIOLATION: // e.g. a password policy's lockout
  case LDAP_INSUFFICIENT_ACCESS:
    return verdict::refused;
  default:
    return verdict::unavailable;
  }
}

timeval to_timeval(std::int64_t ms) {
  return {static_cast<time_t>(ms / 1000),
          static_cast<suseconds_t>((ms % 1000) * 1000)};
}

struct ldap_deleter {
  void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
struct message_deleter {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using message_ptr = std::unique_ptr<LDAPMessage, message_deleter>;

// One connection to the directory, for one login.
class connection {
public:
  explicit connection(const ldap_identity_config& cfg) : cfg_(cfg) {}

  // Sets the handle up; TLS and the TCP connection come with the first
  // operation (ldaps://) or with StartTLS.
  int open() {
    LDAP* ld = nullptr;
    int rc = ldap_initialize(&ld, cfg_.url.c_str());
    if (rc != LDAP_SUCCESS)
      return rc;
    ld_.reset(ld);
    int version = LDAP_VERSION3;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    auto tv = to_timeval(cfg_.timeout_ms);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    int require =
      cfg_.verify_tls ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
    if (!cfg_.ca_file.empty())
      ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg_.ca_file.c_str());
    int is_server = 0; // the options above apply to a new client context
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
    if (cfg_.start_tls)
      return ldap_start_tls_s(ld, nullptr, nullptr);
    return LDAP_SUCCESS;
  }

  int bind(const std::string& dn, std::string_view password) {
    berval cred{static_cast<ber_len_t>(password.size()),
                const_cast<char*>(password.data())};
    return ldap_sasl_bind_s(ld_.get(), dn.c_str(), LDAP_SASL_SIMPLE, &cred,
                            nullptr, nullptr, nullptr);
  }

  // The DN of the one entry under `base` that matches `filter`; an
  // ambiguous or empty answer is a refusal.
  int find_dn(const std::string& filter, std::string& dn) {
    LDAPMessage* raw = nullptr;
    std::array<char*, 2> attrs{const_cast<char*>(LDAP_NO_ATTRS), nullptr};
    auto tv = to_timeval(cfg_.timeout_ms);
    int rc = ldap_search_ext_s(ld_.get(), cfg_.search_base.c_str(),
                               LDAP_SCOPE_SUBTREE, filter.c_str(), attrs.data(),
                               0, nullptr, nullptr, &tv, 2, &raw);
    message_ptr res{raw};
    if (rc == LDAP_SIZELIMIT_EXCEEDED)
      return LDAP_INVALID_CREDENTIALS;
    if (rc != LDAP_SUCCESS)
      return rc;
    if (ldap_count_entries(ld_.get(), res.get()) != 1)
      return LDAP_INVALID_CREDENTIALS;
    char* found =
      ldap_get_dn(ld_.get(), ldap_first_entry(ld_.get(), res.get()));
    if (!found)
      return LDAP_INVALID_CREDENTIALS;
    dn = found;
    ldap_memfree(found);
    return LDAP_SUCCESS;
  }

  // The first value of `attr` in the entry `dn`, or "" (not readable).
  std::string read_attribute(const std::string& dn, const std::string& attr) {
    LDAPMessage* raw = nullptr;
    std::array<char*, 2> attrs{const_cast<char*>(attr.c_str()), nullptr};
    auto tv = to_timeval(cfg_.timeout_ms);
    int rc = ldap_search_ext_s(ld_.get(), dn.c_str(), LDAP_SCOPE_BASE,
                               "(objectClass=*)", attrs.data(), 0, nullptr,
                               nullptr, &tv, 1, &raw);
    message_ptr res{raw};
    LDAPMessage* entry =
      rc == LDAP_SUCCESS ? ldap_first_entry(ld_.get(), res.get()) : nullptr;
    if (!entry)
      return {};
    berval** values = ldap_get_values_len(ld_.get(), entry, attr.c_str());
    std::string value;
    if (values && values[0])
      value.assign(values[0]->bv_val, values[0]->bv_len);
    ldap_value_free_len(values);
    return value;
  }

  // The server's diagnostic text for the last error; never holds a
  // password (the bind's credentials are not echoed by directories).
  std::string diagnostic() const {
    char* msg = nullptr;
    ldap_get_option(ld_.get(), LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg);
    std::string text = msg ? msg : "";
    ldap_memfree(msg);
    return text;
  }

private:
  const ldap_identity_config& cfg_;
  std::unique_ptr<LDAP, ldap_deleter> ld_;
};

void log_unavailable(const char* step, int rc, const connection& c) {
  spdlog::warn("ldap: {} failed: {} {}", step, ldap_err2string(rc),
               log_safe(c.diagnostic()));
}

} // namespace

ldap_identity::ldap_identity(ldap_identity_config cfg)
    : cfg_(std::move(cfg)), sessions_(std::make_unique<session_tokens>(
                              cfg_.token_ttl_s * 1000, cfg_.max_sessions)),
      throttle_(std::make_unique<login_throttle>(cfg_.throttle)) {
  if (!cfg_.url.starts_with("ldap://") && !cfg_.url.starts_with("ldaps://"))
    throw std::invalid_argument("ldap: the URL must be ldap:// or ldaps://");
  if (cfg_.bind_dn_template.empty() == cfg_.search_base.empty())
    throw std::invalid_argument(
      "ldap: needs exactly one of a bind DN template and a search base");
  auto& pattern =
    cfg_.search_base.empty() ? cfg_.bind_dn_template : cfg_.search_filter;
  if (pattern.find("{user}") == std::string::npos)
    throw std::invalid_argument("ldap: " + pattern + " has no {user}");
}

std::optional<user> ldap_identity::authenticate(std::string_view token) const {
  return sessions_->check(token, now_millis());
}

ldap_identity::verdict ldap_identity::check_password(std::string_view name,
                                                     std::string_view password,
                                                     user& who) const {
  connection c{cfg_};
  if (int rc = c.open(); rc != LDAP_SUCCESS) {
    log_unavailable("connecting", rc, c);
    return verdict::unavailable;
  }
  std::string dn;
  if (cfg_.search_base.empty()) {
    dn = ldap_expand(cfg_.bind_dn_template, ldap_escape_dn_value(name));
  } else {
    if (!cfg_.service_dn.empty()) {
      // The service account failing is the operator's problem, not the
      // user's: unavailable, not refused.
      if (int rc = c.bind(cfg_.service_dn, cfg_.service_password);
          rc != LDAP_SUCCESS) {
        log_unavailable("the service account's bind", rc, c);
        return verdict::unavailable;
      }
    }
    auto filter =
      ldap_expand(cfg_.search_filter, ldap_escape_filter_value(name));
    if (int rc = c.find_dn(filter, dn); rc != LDAP_SUCCESS) {
      if (verdict_of(rc) == verdict::unavailable)
        log_unavailable("the search for the user", rc, c);
      return verdict_of(rc);
    }
  }
  int rc = c.bind(dn, password);
  if (verdict_of(rc) == verdict::unavailable)
    log_unavailable("the user's bind", rc, c);
  if (rc != LDAP_SUCCESS)
    return verdict_of(rc);
  // The entry says who this is: the name typed may differ in case (or be
  // another attribute altogether, with a search filter).
  who.id = c.read_attribute(dn, cfg_.user_attribute);
  if (who.id.empty())
    who.id = std::string{name};
  who.name = c.read_attribute(dn, cfg_.name_attribute);
  if (who.name.empty())
    who.name = who.id;
  return verdict::ok;
}

login_result ldap_identity::login(std::string_view name,
                                  std::string_view password,
                                  std::string_view peer) const {
  login_result r;
  auto now = now_millis();
  if (auto wait = throttle_->wait_s(name, peer, now)) {
    spdlog::warn("ldap: login of '{}' from {} throttled for {} s",
                 log_safe(name), log_safe(peer), wait);
    r.result = login_result::outcome::throttled;
    r.retry_after_s = wait;
    return r;
  }
  user who;
  // An empty password would make the bind anonymous, which succeeds.
  auto v = password.empty() || !ldap_plausible_name(name)
             ? verdict::refused
             : check_password(name, password, who);
  switch (v) {
  case verdict::ok:
    throttle_->succeeded(name);
    r.result = login_result::outcome::ok;
    r.token = sessions_->issue(who, now, r.expires_ms);
    r.who = std::move(who);
    spdlog::info("ldap: '{}' logged in from {}", log_safe(r.who.id),
                 log_safe(peer));
    break;
  case verdict::refused:
    throttle_->failed(name, peer, now);
    r.result = login_result::outcome::refused;
    spdlog::info("ldap: login of '{}' from {} refused", log_safe(name),
                 log_safe(peer));
    break;
  case verdict::unavailable:
    r.result = login_result::outcome::unavailable;
    break;
  }
  return r;
}

} // namespace fogbow
