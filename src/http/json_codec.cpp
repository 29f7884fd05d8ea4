#include "http/json_codec.hpp"

#include "domain/order_limits.hpp"
#include "domain/requirements.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>

namespace fogbow {

namespace {

using json = nlohmann::json;

constexpr size_t max_image_bytes = 255;
constexpr size_t max_echoed_name_bytes = 64;

api_error invalid(std::string message) {
  return {400, "invalid_argument", std::move(message)};
}

std::string field(std::string_view name) {
  std::string out = "field '";
  if (name.size() > max_echoed_name_bytes) {
    out += name.substr(0, max_echoed_name_bytes);
    out += "...";
  } else {
    out += name;
  }
  out += '\'';
  return out;
}

// Which kinds of order a body field belongs to (nullopt: every kind).
struct field_spec {
  std::string_view name;
  std::optional<resource_kind> only;
};

constexpr std::array<field_spec, 19> field_specs{{
  {"kind", std::nullopt},
  {"count", std::nullopt},
  {"type", std::nullopt},
  {"requirements", std::nullopt},
  {"valid_from", std::nullopt},
  {"valid_until", std::nullopt},
  {"vcpu", resource_kind::compute},
  {"memory_mb", resource_kind::compute},
  {"disk_gb", resource_kind::compute},
  {"image", resource_kind::compute},
  {"public_key", resource_kind::compute},
  {"user_data", resource_kind::compute},
  {"size_gb", resource_kind::volume},
  {"network_cidr", resource_kind::network},
  {"network_gateway", resource_kind::network},
  {"network_allocation", resource_kind::network},
  {"compute", resource_kind::attachment},
  {"volume", resource_kind::attachment},
  {"device", resource_kind::attachment},
}};

// An order id or a global instance id; what a user copies from a listing.
constexpr size_t max_reference_bytes = 256;

// Device names as clouds take them ("/dev/vdb", "/dev/xvdf"); anything else
// would only fail later, inside the cloud.
bool is_device_name(std::string_view d) {
  constexpr std::string_view prefix = "/dev/";
  if (!d.starts_with(prefix) || d.size() == prefix.size() || d.size() > 32)
    return false;
  return std::all_of(d.begin() + prefix.size(), d.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

std::string_view json_type_of(const json& v) {
  if (v.is_number_float())
    return "a number with a fraction or exponent";
  if (v.is_number())
    return "an integer";
  if (v.is_string())
    return "a string";
  if (v.is_boolean())
    return "a boolean";
  if (v.is_null())
    return "null";
  if (v.is_array())
    return "an array";
  return "an object";
}

api_error wrong_type(std::string_view name, std::string_view expected,
                     const json& v) {
  return invalid(field(name) + " must be " + std::string{expected} + ", not "
                 + std::string{json_type_of(v)});
}

api_error out_of_range(std::string_view name, std::int64_t lo,
                       std::int64_t hi) {
  return invalid(field(name) + " must be between " + std::to_string(lo)
                 + " and " + std::to_string(hi));
}

// Each reader leaves `out` alone when the field is absent and answers an
// error when it is present but unacceptable.

std::optional<api_error> read_int(const json& obj, std::string_view name,
                                  std::int64_t lo, std::int64_t hi, int& out) {
  auto it = obj.find(name);
  if (it == obj.end())
    return std::nullopt;
  if (!it->is_number_integer())
    return wrong_type(name, "an integer", *it);
  // Positive literals arrive as unsigned; check before narrowing so that
  // 2^64-1 cannot wrap into range.
  if (it->is_number_unsigned()
      && it->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
    return out_of_range(name, lo, hi);
  auto n = it->get<std::int64_t>();
  if (n < lo || n > hi)
    return out_of_range(name, lo, hi);
  out = static_cast<int>(n);
  return std::nullopt;
}

std::optional<api_error> read_string(const json& obj, std::string_view name,
                                     size_t max_bytes, std::string& out) {
  auto it = obj.find(name);
  if (it == obj.end())
    return std::nullopt;
  if (!it->is_string())
    return wrong_type(name, "a string", *it);
  auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_bytes)
    return invalid(field(name) + " is longer than " + std::to_string(max_bytes)
                   + " bytes");
  // Text only: a NUL would be cut off by C APIs (SQLite, cloud CLIs) further
  // on.
  if (s.find('\0') != std::string::npos)
    return invalid(field(name) + " must not contain NUL characters");
  out = s;
  return std::nullopt;
}

std::optional<api_error> read_time(const json& obj, std::string_view name,
                                   std::optional<millis>& out) {
  std::string text;
  if (auto e = read_string(obj, name, 64, text))
    return e;
  if (!obj.contains(name))
    return std::nullopt;
  out = parse_iso8601(text);
  if (!out)
    return invalid(field(name)
                   + " must be an ISO-8601 date-time with a zone, e.g. "
                     "2026-11-25T10:00:00Z");
  return std::nullopt;
}

template <class Enum, class Parse>
std::optional<api_error> read_enum(const json& obj, std::string_view name,
                                   Parse parse, std::string_view choices,
                                   Enum& out) {
  std::string text;
  if (auto e = read_string(obj, name, 64, text))
    return e;
  if (!obj.contains(name))
    return std::nullopt;
  auto value = parse(text);
  if (!value)
    return invalid(field(name) + " must be one of " + std::string{choices});
  out = *value;
  return std::nullopt;
}

// Dotted-quad IPv4 without leading zeros (which some tools read as octal).
std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
  std::uint32_t addr = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s.front() != '.')
        return std::nullopt;
      s.remove_prefix(1);
    }
    size_t n = 0;
    unsigned value = 0;
    while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9')
      value = value * 10 + static_cast<unsigned>(s[n++] - '0');
    if (n == 0 || n > 3 || value > 255 || (n > 1 && s[0] == '0'))
      return std::nullopt;
    s.remove_prefix(n);
    addr = addr << 8 | value;
  }
  if (!s.empty())
    return std::nullopt;
  return addr;
}

std::uint32_t prefix_mask(int prefix) {
  return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
}

std::string format_ipv4(std::uint32_t a) {
  return std::to_string(a >> 24) + '.' + std::to_string(a >> 16 & 255) + '.'
         + std::to_string(a >> 8 & 255) + '.' + std::to_string(a & 255);
}

std::optional<api_error> check_network(const order& o) {
  auto slash = o.network_cidr.find('/');
  std::optional<std::uint32_t> net;
  int prefix = -1;
  if (slash != std::string::npos) {
    net = parse_ipv4(std::string_view{o.network_cidr}.substr(0, slash));
    auto digits = std::string_view{o.network_cidr}.substr(slash + 1);
    if (!digits.empty() && digits.size() <= 2
        && digits.find_first_not_of("0123456789") == std::string_view::npos
        && (digits.size() == 1 || digits[0] != '0'))
      prefix = std::stoi(std::string{digits});
  }
  if (!net || prefix < 0 || prefix > 32)
    return invalid(field("network_cidr")
                   + " must be an IPv4 CIDR such as 10.0.0.0/24");
  // /31 and /32 have no address left for instances besides a gateway.
  if (prefix > 30)
    return invalid(field("network_cidr")
                   + " leaves no room for hosts: the prefix must be /30 or "
                     "shorter");
  auto mask = prefix_mask(prefix);
  if ((*net & ~mask) != 0)
    return invalid(field("network_cidr") + " has host bits set; the network is "
                   + format_ipv4(*net & mask) + '/' + std::to_string(prefix));
  if (o.network_gateway.empty())
    return std::nullopt;
  auto gw = parse_ipv4(o.network_gateway);
  if (!gw)
    return invalid(field("network_gateway")
                   + " must be an IPv4 address such as 10.0.0.1");
  if ((*gw & mask) != *net || *gw == *net || *gw == (*net | ~mask))
    return invalid(field("network_gateway") + " must be a host address inside "
                   + o.network_cidr);
  return std::nullopt;
}

// Parses the body, refusing a key that appears twice in the top-level
// object: JSON parsers disagree on which copy wins, so the only safe answer
// is to accept neither.
std::variant<json, api_error> parse_body(std::string_view body) {
  std::set<std::string> keys;
  std::string duplicate;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && duplicate.empty()
        && !keys.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), on_event);
  } catch (const json::exception& e) {
    // parse_error, or out_of_range for a number that overflows (1e999).
    // what() is "[json.exception.parse_error.101] parse error at ...".
    std::string_view what = e.what();
    if (auto pos = what.find("] "); pos != std::string_view::npos)
      what.remove_prefix(pos + 2);
    return api_error{400, "invalid_json",
                     "request body is not valid JSON: " + std::string{what}};
  }
  if (!doc.is_object())
    return api_error{400, "invalid_json",
                     "request body must be a JSON object, not "
                       + std::string{json_type_of(doc)}};
  if (!duplicate.empty())
    return invalid(field(duplicate) + " appears more than once");
  return doc;
}

json nullable(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

json time_or_null(std::optional<millis> t) {
  return t ? json(format_iso8601(*t)) : json(nullptr);
}

json str(std::string_view s) {
  return std::string{s};
}

} // namespace

std::variant<login_request, api_error>
parse_login_request(std::string_view body) {
  auto parsed = parse_body(body);
  if (auto e = std::get_if<api_error>(&parsed)) {
    // A parse error's message quotes what was read last, which may be
    // the password.
    if (e->code == "invalid_json")
      e->message = "request body must be a JSON object "
                   "{\"user\": \"...\", \"password\": \"...\"}";
    return *e;
  }
  auto& doc = std::get<json>(parsed);
  login_request r;
  for (auto& [key, value] : doc.items()) {
    if (key != "user" && key != "password")
      return invalid(field(key) + " is not a field of a login");
    if (!value.is_string())
      return invalid(field(key) + " must be a string");
    (key == "user" ? r.user : r.password) = value.get<std::string>();
  }
  if (!doc.contains("user") || !doc.contains("password"))
    return invalid("a login needs 'user' and 'password'");
  return r;
}

std::variant<order_request, api_error>
parse_order_request(std::string_view body, const order_limits& limits) {
  auto parsed = parse_body(body);
  if (auto e = std::get_if<api_error>(&parsed))
    return *e;
  const auto& obj = std::get<json>(parsed);

  order_request req;
  order& o = req.prototype;
  if (!obj.contains("kind"))
    return invalid(field("kind")
                   + " is required (compute, volume, network or attachment)");
  if (auto e = read_enum(obj, "kind", parse_resource_kind,
                         "compute, volume, network, attachment", o.kind))
    return *e;

  for (auto& item : obj.items()) {
    const auto& name = item.key();
    auto spec = std::find_if(field_specs.begin(), field_specs.end(),
                             [&](auto& s) { return s.name == name; });
    if (spec == field_specs.end())
      return invalid("unknown " + field(name));
    if (spec->only && *spec->only != o.kind)
      return invalid(field(name) + " does not apply to "
                     + std::string{to_string(o.kind)} + " orders");
  }

  int count = 1;
  if (auto e = read_int(obj, "count", 1, limits.max_count, count))
    return *e;
  req.count = count;
  if (auto e = read_enum(obj, "type", parse_order_type, "one-time, persistent",
                         o.type))
    return *e;
  if (auto e = read_string(obj, "requirements", max_requirements_bytes,
                           o.requirements))
    return *e;
  auto expr = requirements::parse(o.requirements);
  if (auto pe = std::get_if<requirements::parse_error>(&expr))
    return invalid(field("requirements") + ": " + pe->message + " at position "
                   + std::to_string(pe->position));
  if (auto e = read_time(obj, "valid_from", o.valid_from))
    return *e;
  if (auto e = read_time(obj, "valid_until", o.valid_until))
    return *e;
  if (o.valid_from && o.valid_until && *o.valid_until <= *o.valid_from)
    return invalid(field("valid_until") + " must be after valid_from");
  if (o.valid_until && *o.valid_until <= limits.clock())
    return invalid(field("valid_until") + " is already in the past");

  switch (o.kind) {
  case resource_kind::compute:
    if (auto e = read_int(obj, "vcpu", 1, 1024, o.vcpu))
      return *e;
    if (auto e = read_int(obj, "memory_mb", 0, 16777216, o.memory_mb))
      return *e;
    if (auto e = read_int(obj, "disk_gb", 0, 1048576, o.disk_gb))
      return *e;
    if (auto e = read_string(obj, "image", max_image_bytes, o.image))
      return *e;
    if (auto e =
          read_string(obj, "public_key", max_public_key_bytes, o.public_key))
      return *e;
    if (auto e =
          read_string(obj, "user_data", max_user_data_bytes, o.user_data))
      return *e;
    // The driver evaluates the user's text AND the sizes; text at the
    // length or nesting limit can parse alone but not combined, and must
    // be refused now rather than fail the order later.
    if (std::holds_alternative<requirements::parse_error>(
          requirements::parse(requirements::combine(o.requirements, o.vcpu,
                                                    o.memory_mb, o.disk_gb))))
      return invalid(field("requirements")
                     + " is too long or too deeply nested once combined "
                       "with vcpu, memory_mb and disk_gb");
    break;
  case resource_kind::volume:
    if (!obj.contains("size_gb"))
      return invalid(field("size_gb") + " is required for volume orders");
    if (auto e = read_int(obj, "size_gb", 1, 65536, o.size_gb))
      return *e;
    break;
  case resource_kind::network:
    if (!obj.contains("network_cidr"))
      return invalid(field("network_cidr") + " is required for network orders");
    if (auto e = read_string(obj, "network_cidr", 64, o.network_cidr))
      return *e;
    if (auto e = read_string(obj, "network_gateway", 64, o.network_gateway))
      return *e;
    o.network_allocation = "dynamic";
    if (auto e =
          read_string(obj, "network_allocation", 64, o.network_allocation))
      return *e;
    if (o.network_allocation != "dynamic" && o.network_allocation != "static")
      return invalid(field("network_allocation")
                     + " must be one of dynamic, static");
    if (auto e = check_network(o))
      return *e;
    break;
  case resource_kind::attachment:
    for (auto [name, out] : {std::pair{"compute", &o.attach_compute},
                             std::pair{"volume", &o.attach_volume}}) {
      if (!obj.contains(name))
        return invalid(field(name)
                       + " is required for attachment orders "
                         "(an order id or an instance id)");
      if (auto e = read_string(obj, name, max_reference_bytes, *out))
        return *e;
      if (out->empty())
        return invalid(field(name) + " must not be empty");
    }
    if (auto e = read_string(obj, "device", 32, o.attach_device))
      return *e;
    if (obj.contains("device") && !is_device_name(o.attach_device))
      return invalid(field("device")
                     + " must look like /dev/vdb (lowercase letters and "
                       "digits after /dev/)");
    // One volume attaches to one server at a time.
    if (req.count != 1)
      return invalid(field("count") + " must be 1 for attachment orders");
    break;
  }
  return req;
}

nlohmann::json order_to_json(const order& o) {
  json j{
    {"id", o.id},
    {"batch_id", o.batch_id},
    {"user_id", o.user_id},
    {"state", str(to_string(o.state))},
    {"type", str(to_string(o.type))},
    {"kind", str(to_string(o.kind))},
    {"instance_id", nullable(o.instance_id)},
    {"requesting_member", o.requesting_member},
    {"providing_member", nullable(o.providing_member)},
    {"requirements", o.requirements},
    {"valid_from", time_or_null(o.valid_from)},
    {"valid_until", time_or_null(o.valid_until)},
    {"created_at", format_iso8601(o.created_at)},
    {"updated_at", format_iso8601(o.updated_at)},
    {"fulfilled_at", o.fulfilled_at != 0 ? json(format_iso8601(o.fulfilled_at))
                                         : json(nullptr)},
    {"last_error", nullable(o.last_error)},
  };
  switch (o.kind) {
  case resource_kind::compute:
    j["vcpu"] = o.vcpu;
    j["memory_mb"] = o.memory_mb;
    j["disk_gb"] = o.disk_gb;
    j["image"] = nullable(o.image);
    j["public_key"] = nullable(o.public_key);
    // The script may carry secrets; its size is enough to recognise it.
    j["user_data_bytes"] = o.user_data.size();
    break;
  case resource_kind::volume:
    j["size_gb"] = o.size_gb;
    break;
  case resource_kind::network:
    j["network_cidr"] = o.network_cidr;
    j["network_gateway"] = nullable(o.network_gateway);
    j["network_allocation"] = o.network_allocation;
    break;
  case resource_kind::attachment:
    j["compute"] = o.attach_compute;
    j["volume"] = o.attach_volume;
    j["device"] = nullable(o.attach_device);
    break;
  }
  return j;
}

std::string_view instance_state_name(const instance& x) {
  // Only a server "runs"; a volume, network or attachment is ready to use.
  if (x.kind != resource_kind::compute && x.state == instance_state::running)
    return "ready";
  return to_string(x.state);
}

nlohmann::json instance_to_json(const instance& x) {
  json j{
    {"id", x.id},
    {"order_id", x.order_id},
    {"state", str(instance_state_name(x))},
  };
  switch (x.kind) {
  case resource_kind::compute: {
    // A flavor dimension of -1 means the cloud did not say.
    auto dim = [](int v) { return v < 0 ? json(nullptr) : json(v); };
    j["flavor"] = nullable(x.size.name);
    j["vcpu"] = dim(x.size.vcpu);
    j["memory_mb"] = dim(x.size.memory_mb);
    j["disk_gb"] = dim(x.size.disk_gb);
    j["image"] = nullable(x.image);
    j["ip"] = nullable(x.ip);
    break;
  }
  case resource_kind::volume:
    j["size_gb"] = x.size_gb;
    j["attached_to"] = nullable(x.server_id);
    break;
  case resource_kind::network:
    j["network_cidr"] = nullable(x.network_cidr);
    j["network_gateway"] = nullable(x.network_gateway);
    break;
  case resource_kind::attachment:
    j["compute"] = x.server_id;
    j["volume"] = x.volume_id;
    j["device"] = nullable(x.device);
    break;
  }
  j["created_at"] =
    x.created_at != 0 ? json(format_iso8601(x.created_at)) : json(nullptr);
  j["fault"] = nullable(x.fault);
  return j;
}

nlohmann::json member_to_json(const member_info& m) {
  return json{
    {"id", m.id},
    {"alive", m.alive},
    {"self", m.is_self},
    {"last_seen",
     m.last_seen != 0 ? json(format_iso8601(m.last_seen)) : json(nullptr)},
  };
}

nlohmann::json quota_to_json(const quota_report& q) {
  auto part = [](int total, int used, int by_user) {
    return json{
      {"total", total}, {"in_use", used}, {"in_use_by_user", by_user}};
  };
  return json{
    {"member_id", q.member_id},
    {"vcpu", part(q.cloud.vcpu_total, q.cloud.vcpu_used, q.user_vcpu)},
    {"memory_mb",
     part(q.cloud.memory_mb_total, q.cloud.memory_mb_used, q.user_memory_mb)},
    {"instances",
     part(q.cloud.instances_total, q.cloud.instances_used, q.user_instances)},
  };
}

nlohmann::json usage_amount_to_json(const usage_amount& a) {
  return json{{"vcpu_minutes", a.vcpu_minutes},
              {"memory_mb_minutes", a.memory_mb_minutes},
              {"volume_gb_minutes", a.volume_gb_minutes}};
}

nlohmann::json usage_to_json(const std::vector<usage_record>& rows,
                             std::string_view self, std::string_view user,
                             const std::string* only) {
  struct both {
    usage_amount consumed, donated;
  };
  usage_amount local;
  std::map<std::string, both, std::less<>> members;
  if (only && *only != self)
    members[*only];
  json records = json::array();
  for (auto& r : rows) {
    if (r.requesting == self && r.providing == self)
      local += r.amount;
    else if (r.requesting == self)
      members[r.providing].consumed += r.amount;
    else if (r.providing == self)
      members[r.requesting].donated += r.amount;
    records.push_back(json{{"user", r.user},
                           {"requesting_member", r.requesting},
                           {"providing_member", r.providing},
                           {"usage", usage_amount_to_json(r.amount)}});
  }
  json by_member = json::array();
  for (auto& [id, x] : members)
    by_member.push_back(json{{"id", id},
                             {"consumed", usage_amount_to_json(x.consumed)},
                             {"donated", usage_amount_to_json(x.donated)}});
  return json{{"member_id", self},
              {"user", user == "*" ? json(nullptr) : json(user)},
              {"local", usage_amount_to_json(local)},
              {"members", std::move(by_member)},
              {"records", std::move(records)}};
}

nlohmann::json status_to_json(const status_report& s, std::string_view version,
                              const std::vector<std::string>& roles,
                              millis now) {
  json by_state = json::object();
  for (auto& c : s.orders) {
    std::string state{to_string(c.state)};
    by_state[state] = by_state.value(state, 0) + c.count;
  }
  millis uptime_ms =
    s.started_at > 0 && now > s.started_at ? now - s.started_at : 0;
  return json{
    {"status", "ok"},
    {"version", str(version)},
    {"roles", roles},
    {"member_id", s.member_id},
    {"orders_by_state", std::move(by_state)},
    {"instances", s.instances},
    {"uptime_s", uptime_ms / 1000},
  };
}

nlohmann::json error_to_json(const api_error& e) {
  return json{{"error", {{"code", e.code}, {"message", e.message}}}};
}

std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace fogbow
