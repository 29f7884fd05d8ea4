#include "federation/manager_protocol.hpp"

#include "domain/requirements.hpp"
#include "util/encoding.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace fogbow::fed {

namespace {

// --- names of the Java Fogbow ----------------------------------------------

constexpr std::string_view scheme_order =
  "http://schemas.fogbowcloud.org/order#";
constexpr std::string_view scheme_os =
  "http://schemas.fogbowcloud.org/template/os#";
constexpr std::string_view scheme_credentials =
  "http://schemas.fogbowcloud/credentials#";

constexpr std::string_view attr_resource_kind =
  "org.fogbowcloud.order.resource-kind";
constexpr std::string_view attr_type = "org.fogbowcloud.order.type";
constexpr std::string_view attr_requirements =
  "org.fogbowcloud.order.requirements";
constexpr std::string_view attr_user_data = "org.fogbowcloud.order.user-data";
constexpr std::string_view attr_public_key =
  "org.fogbowcloud.credentials.publickey.data";
constexpr std::string_view attr_storage_size =
  "org.fogbowcloud.order.storage-size";
constexpr std::string_view attr_network_address = "occi.network.address";
constexpr std::string_view attr_network_gateway = "occi.network.gateway";
constexpr std::string_view attr_network_allocation = "occi.network.allocation";

// Instance attributes: Java names where Java has one, ours otherwise.
constexpr std::string_view attr_core_id = "occi.core.id";
constexpr std::string_view attr_cores = "occi.compute.cores";
constexpr std::string_view attr_memory_gb = "occi.compute.memory";
constexpr std::string_view attr_ip = "org.fogbowcloud.order.local-ip-address";
constexpr std::string_view attr_ssh =
  "org.fogbowcloud.order.ssh-public-address";
constexpr std::string_view attr_extra_ports =
  "org.fogbowcloud.order.extra-ports";
constexpr std::string_view attr_volume_size = "occi.storage.size";
constexpr std::string_view attr_source = "occi.core.source";
constexpr std::string_view attr_target = "occi.core.target";
constexpr std::string_view attr_device = "occi.storagelink.deviceid";
constexpr std::string_view attr_state = "org.fogbowcloud.instance.state";
constexpr std::string_view attr_flavor = "org.fogbowcloud.instance.flavor";
constexpr std::string_view attr_memory_mb =
  "org.fogbowcloud.instance.memory-mb";
constexpr std::string_view attr_disk_gb = "org.fogbowcloud.instance.disk-gb";
constexpr std::string_view attr_image = "org.fogbowcloud.instance.image";
constexpr std::string_view attr_created_at =
  "org.fogbowcloud.instance.created-at";
constexpr std::string_view attr_fault = "org.fogbowcloud.instance.fault";

constexpr std::size_t max_extra_ports = 64;
constexpr std::int64_t int_max = std::numeric_limits<int>::max();

// --- reading untrusted elements
// ------------------------------------------------

[[noreturn]] void bad(const std::string& text) {
  throw protocol_error("bad-request", text);
}

std::string in_quotes(std::string_view s) {
  return "'" + std::string{s} + "'";
}

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") + 1 - first);
}

void check_query(const xml::element& q, std::string_view ns) {
  if (q.name != "query")
    bad("payload is <" + q.name + ">, expected <query>");
  if (q.ns != ns)
    bad("<query> is in namespace " + in_quotes(q.ns) + ", expected "
        + in_quotes(ns));
}

/// The only child named `name`, or nullptr; twice is an error.
const xml::element* one(const xml::element& parent, std::string_view name) {
  const xml::element* found = nullptr;
  for (auto& c : parent.children) {
    if (c.name != name)
      continue;
    if (found)
      bad("<" + std::string{name} + "> appears twice in <" + parent.name + ">");
    found = &c;
  }
  return found;
}

const xml::element& need(const xml::element& parent, std::string_view name) {
  auto c = one(parent, name);
  if (!c)
    bad("<" + parent.name + "> has no <" + std::string{name} + ">");
  return *c;
}

void check_size(std::string_view s, std::string_view what, std::size_t max) {
  if (s.size() > max)
    bad(std::string{what} + " is longer than " + std::to_string(max)
        + " bytes");
}

/// An id: trimmed, 1..max bytes, no whitespace or control characters.
std::string read_id(std::string_view raw, std::string_view what,
                    std::size_t max = max_id_bytes) {
  auto s = trim(raw);
  if (s.empty())
    bad(std::string{what} + " is empty");
  check_size(s, what, max);
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f)
      bad(std::string{what} + " contains whitespace or control characters");
  return std::string{s};
}

/// The `<id>` of the only `<name>` child of `parent`.
std::string read_id_of(const xml::element& parent, std::string_view name,
                       std::string_view what, std::size_t max = max_id_bytes) {
  return read_id(need(need(parent, name), "id").text, what, max);
}

/// A name that may hold inner blanks (an image's): trimmed, 1..max bytes,
/// no control characters.
std::string read_name(std::string_view raw, std::string_view what,
                      std::size_t max = max_id_bytes) {
  auto s = trim(raw);
  if (s.empty())
    bad(std::string{what} + " is empty");
  check_size(s, what, max);
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f)
      bad(std::string{what} + " contains control characters");
  return std::string{s};
}

bool is_order_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

std::string read_order_id(const xml::element& e) {
  auto id = read_id(e.text, "order id", max_order_id_bytes);
  if (!std::all_of(id.begin(), id.end(), is_order_id_char))
    bad("order id " + in_quotes(id) + " may only hold A-Z a-z 0-9 . _ -");
  return id;
}

/// A decimal integer in [lo, hi] (a '-' only when lo < 0).
std::int64_t read_int(std::string_view raw, std::string_view what,
                      std::int64_t lo, std::int64_t hi) {
  auto s = trim(raw);
  std::int64_t v = 0;
  bool digits_only =
    !s.empty() && s.size() <= 19
    && std::all_of(s.begin() + (s[0] == '-' && lo < 0), s.end(),
                   [](char c) { return c >= '0' && c <= '9'; });
  auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!digits_only || err != std::errc{} || end != s.data() + s.size())
    bad(std::string{what} + " must be an integer, not " + in_quotes(s));
  if (v < lo || v > hi)
    bad(std::string{what} + " must be between " + std::to_string(lo) + " and "
        + std::to_string(hi));
  return v;
}

/// A non-negative decimal number "123" or "123.45" (no sign, no exponent).
double read_decimal(std::string_view raw, std::string_view what, double hi) {
  auto s = trim(raw);
  auto dot = s.find('.');
  auto whole = s.substr(0, dot);
  auto frac =
    dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return !d.empty() && d.size() <= 18
           && std::all_of(d.begin(), d.end(),
                          [](char c) { return c >= '0' && c <= '9'; });
  };
  double v = 0;
  if (!digits(whole) || (dot != std::string_view::npos && !digits(frac))
      || std::from_chars(s.data(), s.data() + s.size(), v).ec != std::errc{})
    bad(std::string{what} + " must be a non-negative number, not "
        + in_quotes(s));
  if (!(v <= hi))
    bad(std::string{what} + " is larger than " + std::to_string(hi));
  return v;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/// Strict base64 (standard alphabet): line breaks and blanks are skipped,
/// padding is optional, anything else outside the alphabet is an error.
std::string decode_base64(std::string_view in, std::string_view what,
                          std::size_t max_decoded) {
  if (in.size() > max_decoded / 3 * 4 * 2 + 8)
    bad(std::string{what} + " is longer than " + std::to_string(max_decoded)
        + " bytes");
  std::string out;
  std::uint32_t bits = 0;
  int nbits = 0, symbols = 0, padding = 0;
  for (char c : in) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    int v = base64_value(c);
    if (v < 0 || padding > 0)
      bad(std::string{what} + " is not valid base64");
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    nbits += 6;
    ++symbols;
    if (nbits >= 8) {
      nbits -= 8;
      out += static_cast<char>((bits >> nbits) & 0xff);
    }
  }
  bool ragged = symbols % 4 == 1 || padding > 2
                || (padding > 0 && (symbols + padding) % 4 != 0);
  if (ragged || (bits & ((1u << nbits) - 1)) != 0)
    bad(std::string{what} + " is not valid base64 (bad length or padding)");
  check_size(out, what, max_decoded);
  return out;
}

// --- named attributes
// ------------------------------------------------------------

/// Attributes by name; a name given twice is an error.
using attribute_map = std::map<std::string, std::string, std::less<>>;

void put_attribute(attribute_map& m, const std::string* name, std::string value,
                   std::string_view element) {
  if (!name || name->empty())
    bad("<attribute> in <" + std::string{element} + "> has no name");
  if (!m.emplace(*name, std::move(value)).second)
    bad("attribute " + in_quotes(*name) + " appears twice");
}

/// The order's `<attribute var="k"><value>v</value></attribute>`s.
attribute_map order_attributes(const xml::element& query) {
  attribute_map m;
  for (auto& c : query.children)
    if (c.name == "attribute")
      put_attribute(m, c.attr("var"), need(c, "value").text, query.name);
  return m;
}

/// An instance's `<attribute val="k">v</attribute>`s.
attribute_map instance_attributes(const xml::element& instance) {
  attribute_map m;
  for (auto& c : instance.children)
    if (c.name == "attribute")
      put_attribute(m, c.attr("val"), c.text, instance.name);
  return m;
}

const std::string* find(const attribute_map& m, std::string_view name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

/// A text attribute of at most `max` bytes, or "" when absent.
std::string text_of(const attribute_map& m, std::string_view name,
                    std::size_t max = max_text_bytes) {
  auto v = find(m, name);
  if (!v)
    return {};
  check_size(*v, name, max);
  return *v;
}

std::int64_t int_of(const attribute_map& m, std::string_view name,
                    std::int64_t lo, std::int64_t hi, std::int64_t absent = 0) {
  auto v = find(m, name);
  return v ? read_int(*v, name, lo, hi) : absent;
}

// --- the user
// ----------------------------------------------------------------------

xml::element write_token(const remote_user& u, std::string_view ns) {
  xml::element token{"token", std::string{ns}};
  auto& user = token.add(xml::element{"user", token.ns});
  user.add_text("id", u.id);
  user.add_text("name", u.name);
  return token;
}

/// `<token><user><id/><name/></user></token>`, required; an accessId is
/// ignored (a user's credentials never leave its member).
remote_user read_token(const xml::element& query) {
  auto& user = need(need(query, "token"), "user");
  remote_user u;
  u.id = read_id(need(user, "id").text, "user id");
  if (auto name = one(user, "name")) {
    check_size(name->text, "user name", max_id_bytes);
    u.name = name->text;
  }
  return u;
}

xml::element id_element(std::string name, const std::string& id,
                        std::string_view ns) {
  xml::element e{std::move(name), std::string{ns}};
  e.add_text("id", id);
  return e;
}

} // namespace

// --- order
// --------------------------------------------------------------------------

namespace {

std::string_view wire_kind(resource_kind k) {
  switch (k) {
  case resource_kind::compute:
    return "compute";
  case resource_kind::volume:
    return "storage";
  case resource_kind::network:
    return "network";
  case resource_kind::attachment:
    return "attachment";
  }
  return "compute";
}

std::optional<resource_kind> parse_wire_kind(std::string_view s) {
  if (s == "storage")
    return resource_kind::volume;
  return parse_resource_kind(s);
}

void add_category(xml::element& q, std::string_view cls, std::string_view term,
                  std::string_view scheme) {
  auto& c = q.add(xml::element{"category", q.ns});
  c.add_text("class", std::string{cls});
  c.add_text("term", std::string{term});
  c.add_text("scheme", std::string{scheme});
}

void add_order_attribute(xml::element& q, std::string_view name,
                         const std::string& value) {
  auto& a = q.add(xml::element{"attribute", q.ns});
  a.set_attr("var", std::string{name});
  a.add_text("value", value);
}

/// The term of the only os-template category, or "".
std::string read_image(const xml::element& query) {
  std::string image;
  for (auto& c : query.children) {
    if (c.name != "category")
      continue;
    auto scheme = one(c, "scheme");
    if (!scheme || trim(scheme->text) != scheme_os)
      continue;
    if (!image.empty())
      bad("more than one image (os template category)");
    image = read_name(need(c, "term").text, "image");
  }
  return image;
}

void read_kind_and_type(const attribute_map& attrs, order_request& r) {
  if (auto k = find(attrs, attr_resource_kind)) {
    auto kind = parse_wire_kind(trim(*k));
    if (!kind || *kind == resource_kind::attachment)
      bad("resource kind " + in_quotes(*k)
          + " is not compute, storage or network");
    r.kind = *kind;
  }
  if (auto t = find(attrs, attr_type)) {
    auto type = parse_order_type(trim(*t));
    if (!type)
      bad("order type " + in_quotes(*t) + " is not one-time or persistent");
    r.type = *type;
  }
}

void read_requirements(const attribute_map& attrs, order_request& r) {
  r.requirements = text_of(attrs, attr_requirements, max_requirements_bytes);
  auto parsed = requirements::parse(r.requirements);
  if (auto e = std::get_if<requirements::parse_error>(&parsed))
    bad("requirements: " + e->message);
}

void read_kind_fields(const attribute_map& attrs, order_request& r) {
  if (r.kind == resource_kind::volume) {
    if (!find(attrs, attr_storage_size))
      bad("a storage order needs " + std::string{attr_storage_size});
    r.size_gb =
      static_cast<int>(int_of(attrs, attr_storage_size, 1, max_volume_gb));
  }
  if (r.kind == resource_kind::network) {
    r.network_cidr = std::string{trim(text_of(attrs, attr_network_address))};
    if (r.network_cidr.empty())
      bad("a network order needs " + std::string{attr_network_address});
    r.network_gateway = std::string{trim(text_of(attrs, attr_network_gateway))};
    r.network_allocation =
      std::string{trim(text_of(attrs, attr_network_allocation))};
    if (!r.network_allocation.empty() && r.network_allocation != "dynamic"
        && r.network_allocation != "static")
      bad("network allocation " + in_quotes(r.network_allocation)
          + " is not dynamic or static");
  }
}

} // namespace

bool changes_state(const xml::element& query) {
  for (auto ns : {ns_order, ns_removeinstance, ns_removeorder, ns_storagelink,
                  ns_removestoragelink})
    if (query.ns == ns)
      return true;
  return false;
}

xml::element encode_order(const order_request& r) {
  xml::element q{"query", std::string{ns_order}};
  add_category(q, "kind", "order", scheme_order);
  if (!r.image.empty())
    add_category(q, "mixin", r.image, scheme_os);
  if (!r.user_data.empty())
    add_category(q, "mixin", "fogbow_userdata", scheme_order);
  if (!r.public_key.empty())
    add_category(q, "mixin", "fogbow_public_key", scheme_credentials);
  add_order_attribute(q, attr_resource_kind, std::string{wire_kind(r.kind)});
  add_order_attribute(q, attr_type, std::string{to_string(r.type)});
  if (!r.requirements.empty())
    add_order_attribute(q, attr_requirements, r.requirements);
  if (!r.user_data.empty())
    add_order_attribute(q, attr_user_data, base64_encode(r.user_data));
  if (!r.public_key.empty())
    add_order_attribute(q, attr_public_key, r.public_key);
  if (r.kind == resource_kind::volume)
    add_order_attribute(q, attr_storage_size, std::to_string(r.size_gb));
  if (r.kind == resource_kind::network) {
    add_order_attribute(q, attr_network_address, r.network_cidr);
    if (!r.network_gateway.empty())
      add_order_attribute(q, attr_network_gateway, r.network_gateway);
    if (!r.network_allocation.empty())
      add_order_attribute(q, attr_network_allocation, r.network_allocation);
  }
  q.add(id_element("order", r.order_id, q.ns));
  q.add(write_token(r.user, q.ns));
  return q;
}

order_request decode_order(const xml::element& query) {
  check_query(query, ns_order);
  order_request r;
  r.order_id = read_order_id(need(need(query, "order"), "id"));
  r.user = read_token(query);
  auto attrs = order_attributes(query);
  read_kind_and_type(attrs, r);
  read_requirements(attrs, r);
  r.image = read_image(query);
  if (auto data = find(attrs, attr_user_data))
    r.user_data = decode_base64(*data, "user data", max_user_data_bytes);
  r.public_key = text_of(attrs, attr_public_key, max_public_key_bytes);
  read_kind_fields(attrs, r);
  return r;
}

xml::element encode_order_result(const std::string& local_instance_id) {
  xml::element q{"query", std::string{ns_order}};
  q.add(id_element("instance", local_instance_id, q.ns));
  return q;
}

std::string decode_order_result(const xml::element& query) {
  check_query(query, ns_order);
  return read_id_of(query, "instance", "instance id");
}

// --- getinstance
// --------------------------------------------------------------------

xml::element encode_getinstance(const std::vector<std::string>& local_ids) {
  xml::element q{"query", std::string{ns_getinstance}};
  for (auto& id : local_ids)
    q.add(id_element("instance", id, q.ns));
  return q;
}

std::vector<std::string> decode_getinstance(const xml::element& query) {
  check_query(query, ns_getinstance);
  std::vector<std::string> ids;
  std::set<std::string, std::less<>> seen;
  for (auto& c : query.children) {
    if (c.name != "instance")
      continue;
    if (ids.size() == max_batch)
      bad("more than " + std::to_string(max_batch) + " instances asked for");
    auto id = read_id(need(c, "id").text, "instance id");
    if (!seen.insert(id).second)
      bad("instance " + in_quotes(id) + " asked for twice");
    ids.push_back(std::move(id));
  }
  if (ids.empty())
    bad("getinstance names no <instance>");
  return ids;
}

namespace {

/// Java's InstanceState names; Java reads "null" as "no state".
std::string_view java_state(instance_state s) {
  switch (s) {
  case instance_state::spawning:
    return "PENDING";
  case instance_state::running:
    return "RUNNING";
  case instance_state::failed:
  case instance_state::lost:
    return "FAILED";
  case instance_state::unknown:
    return "null";
  }
  return "null";
}

instance_state from_java_state(std::string_view s) {
  if (s == "PENDING")
    return instance_state::spawning;
  if (s == "RUNNING")
    return instance_state::running;
  if (s == "FAILED")
    return instance_state::failed;
  if (s == "SUSPENDED" || s == "null")
    return instance_state::unknown;
  bad("instance state " + in_quotes(s)
      + " is not PENDING, RUNNING, SUSPENDED, FAILED or null");
}

/// Memory in GB as Java prints a double ("2.0", "0.5").
std::string gigabytes(int memory_mb) {
  if (memory_mb % 1024 == 0)
    return std::to_string(memory_mb / 1024) + ".0";
  char buf[32];
  auto [end, err] = std::to_chars(buf, buf + sizeof buf, memory_mb / 1024.0);
  return err == std::errc{} ? std::string{buf, end} : "0.0";
}

std::string encode_extra_ports(
  const std::vector<std::pair<std::string, std::string>>& ports) {
  auto object = nlohmann::ordered_json::object();
  for (auto& [name, address] : ports)
    object[name] = address;
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::string>>
decode_extra_ports(const std::string& text) {
  check_size(text, attr_extra_ports, max_text_bytes);
  std::set<std::string> names;
  bool repeated = false;
  auto note_keys = [&](int depth, nlohmann::ordered_json::parse_event_t event,
                       nlohmann::ordered_json& parsed) {
    if (depth == 1 && event == nlohmann::ordered_json::parse_event_t::key
        && parsed.is_string())
      repeated = repeated || !names.insert(parsed.get<std::string>()).second;
    return true;
  };
  auto j = nlohmann::ordered_json::parse(text, note_keys, false);
  if (j.is_discarded() || !j.is_object())
    bad(std::string{attr_extra_ports} + " is not a JSON object");
  if (repeated)
    bad(std::string{attr_extra_ports} + " names a port twice");
  if (j.size() > max_extra_ports)
    bad(std::string{attr_extra_ports} + " has more than "
        + std::to_string(max_extra_ports) + " ports");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [name, address] : j.items()) {
    if (!address.is_string())
      bad(std::string{attr_extra_ports} + ": the address of " + in_quotes(name)
          + " is not a string");
    read_id(name, "extra port name");
    out.emplace_back(name, address.get<std::string>());
  }
  return out;
}

class instance_writer {
public:
  explicit instance_writer(xml::element& e) : e_(e) {}
  void text(std::string_view name, const std::string& value) {
    if (!value.empty())
      e_.add_text("attribute", value).set_attr("val", std::string{name});
  }
  void number(std::string_view name, std::int64_t value) {
    if (value != 0)
      text(name, std::to_string(value));
  }

private:
  xml::element& e_;
};

xml::element encode_instance(const instance& x, std::string_view ns) {
  xml::element e{"instance", std::string{ns}};
  e.add_text("state", std::string{java_state(x.state)});
  e.add_text("id", x.id);
  instance_writer w{e};
  w.text(attr_core_id, x.id);
  w.text(attr_resource_kind, std::string{wire_kind(x.kind)});
  w.text(attr_state, std::string{to_string(x.state)});
  w.text(attr_flavor, x.size.name);
  w.number(attr_cores, x.size.vcpu);
  if (x.size.memory_mb > 0)
    w.text(attr_memory_gb, gigabytes(x.size.memory_mb));
  w.number(attr_memory_mb, x.size.memory_mb);
  w.number(attr_disk_gb, x.size.disk_gb);
  w.text(attr_image, x.image);
  w.text(attr_ip, x.ip);
  w.number(attr_volume_size, x.size_gb);
  w.text(attr_network_address, x.network_cidr);
  w.text(attr_network_gateway, x.network_gateway);
  w.text(attr_source, x.server_id);
  w.text(attr_target, x.volume_id);
  w.text(attr_device, x.device);
  w.number(attr_created_at, x.created_at);
  w.text(attr_fault, x.fault.substr(0, max_text_bytes));
  w.text(attr_ssh, x.ssh_public_address);
  if (!x.extra_ports.empty())
    w.text(attr_extra_ports, encode_extra_ports(x.extra_ports));
  return e;
}

/// Our exact attribute, else Java's <state>, else unknown.
instance_state read_state(const xml::element& e, const attribute_map& attrs) {
  auto java = one(e, "state");
  auto from_java =
    java ? from_java_state(trim(java->text)) : instance_state::unknown;
  auto exact = find(attrs, attr_state);
  if (!exact)
    return from_java;
  auto s = parse_instance_state(trim(*exact));
  if (!s)
    bad("instance state " + in_quotes(*exact) + " is unknown");
  return *s;
}

/// Our exact attribute, else a guess from Java's attributes.
resource_kind read_kind(const attribute_map& attrs) {
  if (auto k = find(attrs, attr_resource_kind)) {
    auto kind = parse_wire_kind(trim(*k));
    if (!kind)
      bad("resource kind " + in_quotes(*k) + " is unknown");
    return *kind;
  }
  if (find(attrs, attr_volume_size))
    return resource_kind::volume;
  if (find(attrs, attr_network_address))
    return resource_kind::network;
  return resource_kind::compute;
}

int read_memory_mb(const attribute_map& attrs) {
  if (find(attrs, attr_memory_mb))
    return static_cast<int>(int_of(attrs, attr_memory_mb, -1, int_max));
  auto gb = find(attrs, attr_memory_gb);
  if (!gb)
    return 0;
  return static_cast<int>(
    std::lround(read_decimal(*gb, attr_memory_gb, int_max / 1024.0) * 1024));
}

std::string optional_id(const attribute_map& attrs, std::string_view name) {
  auto v = find(attrs, name);
  return v ? read_id(*v, name) : std::string{};
}

instance decode_instance(const xml::element& e) {
  auto attrs = instance_attributes(e);
  instance x;
  x.id = read_id(need(e, "id").text, "instance id");
  x.kind = read_kind(attrs);
  x.state = read_state(e, attrs);
  x.size.name = text_of(attrs, attr_flavor, max_id_bytes);
  x.size.vcpu = static_cast<int>(int_of(attrs, attr_cores, -1, 1 << 20));
  x.size.memory_mb = read_memory_mb(attrs);
  x.size.disk_gb = static_cast<int>(int_of(attrs, attr_disk_gb, -1, int_max));
  x.image = text_of(attrs, attr_image);
  x.ip = text_of(attrs, attr_ip);
  x.size_gb = static_cast<int>(int_of(attrs, attr_volume_size, 0, int_max));
  x.network_cidr = text_of(attrs, attr_network_address);
  x.network_gateway = text_of(attrs, attr_network_gateway);
  x.server_id = optional_id(attrs, attr_source);
  x.volume_id = optional_id(attrs, attr_target);
  x.device = text_of(attrs, attr_device);
  x.created_at =
    int_of(attrs, attr_created_at, 0, std::numeric_limits<std::int64_t>::max());
  x.fault = text_of(attrs, attr_fault);
  x.ssh_public_address = text_of(attrs, attr_ssh);
  if (auto ports = find(attrs, attr_extra_ports))
    x.extra_ports = decode_extra_ports(*ports);
  return x;
}

} // namespace

xml::element encode_instances(const std::vector<instance>& found) {
  xml::element q{"query", std::string{ns_getinstance}};
  for (auto& x : found)
    q.add(encode_instance(x, q.ns));
  return q;
}

std::vector<instance> decode_instances(const xml::element& query) {
  check_query(query, ns_getinstance);
  std::vector<instance> out;
  std::set<std::string, std::less<>> seen;
  for (auto& c : query.children) {
    if (c.name != "instance")
      continue;
    if (out.size() == max_batch)
      bad("more than " + std::to_string(max_batch) + " instances in a reply");
    auto x = decode_instance(c);
    if (!seen.insert(x.id).second)
      bad("instance " + in_quotes(x.id) + " appears twice in the reply");
    out.push_back(std::move(x));
  }
  return out;
}

// --- removeinstance, removeorder, instancebeingused
// ---------------------------------

xml::element encode_removeinstance(const std::string& local_id) {
  xml::element q{"query", std::string{ns_removeinstance}};
  q.add(id_element("instance", local_id, q.ns));
  return q;
}

std::string decode_removeinstance(const xml::element& query) {
  check_query(query, ns_removeinstance);
  return read_id_of(query, "instance", "instance id");
}

xml::element encode_removeorder(const std::string& order_id) {
  xml::element q{"query", std::string{ns_removeorder}};
  q.add(id_element("order", order_id, q.ns));
  q.add(xml::element{"token", q.ns}).add_text("accessId", "");
  return q;
}

std::string decode_removeorder(const xml::element& query) {
  check_query(query, ns_removeorder);
  return read_order_id(need(need(query, "order"), "id"));
}

xml::element encode_instancebeingused(const usage_probe& p) {
  xml::element q{"query", std::string{ns_instancebeingused}};
  q.add(id_element("order", p.order_id, q.ns));
  if (!p.global_instance_id.empty())
    q.add(id_element("instance", p.global_instance_id, q.ns));
  return q;
}

usage_probe decode_instancebeingused(const xml::element& query) {
  check_query(query, ns_instancebeingused);
  usage_probe p;
  p.order_id = read_order_id(need(need(query, "order"), "id"));
  if (one(query, "instance"))
    p.global_instance_id =
      read_id_of(query, "instance", "global instance id", max_global_id_bytes);
  return p;
}

// --- getremoteuserquota
// ----------------------------------------------------------------

xml::element encode_quota_request(const remote_user& u) {
  xml::element q{"query", std::string{ns_getremoteuserquota}};
  q.add(write_token(u, q.ns));
  return q;
}

remote_user decode_quota_request(const xml::element& query) {
  check_query(query, ns_getremoteuserquota);
  return read_token(query);
}

xml::element encode_quota(const quota_report& r) {
  xml::element q{"query", std::string{ns_getremoteuserquota}};
  auto& info = q.add(xml::element{"resourcesInfo", q.ns});
  auto idle = [](int total, int used) {
    return std::to_string(std::max(0, total - used));
  };
  auto& c = r.cloud;
  info.add_text("id", r.member_id);
  info.add_text("cpuIdle", idle(c.vcpu_total, c.vcpu_used));
  info.add_text("cpuInUse", std::to_string(c.vcpu_used));
  info.add_text("cpuInUseByUser", std::to_string(r.user_vcpu));
  info.add_text("instancesIdle", idle(c.instances_total, c.instances_used));
  info.add_text("instancesInUse", std::to_string(c.instances_used));
  info.add_text("instancesInUseByUser", std::to_string(r.user_instances));
  info.add_text("memIdle", idle(c.memory_mb_total, c.memory_mb_used));
  info.add_text("memInUse", std::to_string(c.memory_mb_used));
  info.add_text("memInUseByUser", std::to_string(r.user_memory_mb));
  return q;
}

namespace {

/// A count of `info`: Java may print it as a double; the fraction is
/// dropped.
int quantity(const xml::element& info, std::string_view name) {
  return static_cast<int>(read_decimal(need(info, name).text, name, int_max));
}

/// total = idle + used, within int.
int total_of(int idle, int used, std::string_view what) {
  if (std::int64_t{idle} + used > int_max)
    bad(std::string{what} + ": idle + in use is too large");
  return idle + used;
}

} // namespace

quota_report decode_quota(const xml::element& query) {
  check_query(query, ns_getremoteuserquota);
  auto& info = need(query, "resourcesInfo");
  quota_report r;
  r.member_id = read_id(need(info, "id").text, "member id", rdv::max_id_bytes);
  auto& c = r.cloud;
  c.vcpu_used = quantity(info, "cpuInUse");
  c.vcpu_total = total_of(quantity(info, "cpuIdle"), c.vcpu_used, "cpu");
  c.instances_used = quantity(info, "instancesInUse");
  c.instances_total =
    total_of(quantity(info, "instancesIdle"), c.instances_used, "instances");
  c.memory_mb_used = quantity(info, "memInUse");
  c.memory_mb_total =
    total_of(quantity(info, "memIdle"), c.memory_mb_used, "memory");
  r.user_vcpu = quantity(info, "cpuInUseByUser");
  r.user_instances = quantity(info, "instancesInUseByUser");
  r.user_memory_mb = quantity(info, "memInUseByUser");
  return r;
}

// --- storagelink, removestoragelink
// -------------------------------------------------------

xml::element encode_storagelink(const link_request& r) {
  xml::element q{"query", std::string{ns_storagelink}};
  auto& link = q.add(xml::element{"storageLink", q.ns});
  link.add_text("source", r.server_id);
  link.add_text("target", r.volume_id);
  link.add_text("deviceId", r.device);
  q.add(id_element("order", r.order_id, q.ns));
  q.add(write_token(r.user, q.ns));
  return q;
}

link_request decode_storagelink(const xml::element& query) {
  check_query(query, ns_storagelink);
  auto& link = need(query, "storageLink");
  link_request r;
  r.server_id = read_id(need(link, "source").text, "source (server id)");
  r.volume_id = read_id(need(link, "target").text, "target (volume id)");
  if (auto device = one(link, "deviceId")) {
    auto d = trim(device->text);
    if (!d.empty())
      r.device = read_id(d, "device");
  }
  if (auto order = one(query, "order"))
    r.order_id = read_order_id(need(*order, "id"));
  r.user = read_token(query);
  return r;
}

xml::element encode_link_result(const std::string& attachment_local_id) {
  xml::element q{"query", std::string{ns_storagelink}};
  q.add(id_element("attachment", attachment_local_id, q.ns));
  return q;
}

std::string decode_link_result(const xml::element& query) {
  check_query(query, ns_storagelink);
  return read_id_of(query, "attachment", "attachment id");
}

xml::element encode_removestoragelink(const std::string& attachment_local_id) {
  xml::element q{"query", std::string{ns_removestoragelink}};
  auto& link = q.add(id_element("storageLink", attachment_local_id, q.ns));
  if (auto parts = split_attachment_id(attachment_local_id)) {
    link.add_text("source", parts->first);
    link.add_text("target", parts->second);
  }
  q.add(write_token(remote_user{}, q.ns)).add_text("accessId", "");
  return q;
}

std::string decode_removestoragelink(const xml::element& query) {
  check_query(query, ns_removestoragelink);
  return read_id_of(query, "storageLink", "attachment id");
}

} // namespace fogbow::fed
