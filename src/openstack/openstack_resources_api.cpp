#include "openstack/openstack_resources_api.hpp"

#include "domain/errors.hpp"
#include "util/encoding.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>

namespace fogbow {

namespace {

using json = nlohmann::json;

constexpr const char* order_key = "fogbow-order-id";
constexpr const char* member_key = "fogbow-member";
constexpr const char* attachment_key = "fogbow-attachment-order";
constexpr const char* name_prefix = "fogbow-";

http_result checked(http_result r, std::string_view what) {
  if (r.status < 200 || r.status >= 300)
    throw_http_failure(r, what);
  return r;
}

/// The order id in a resource name "fogbow-<order id>", or "".
std::string order_of_name(const std::string& name) {
  if (name.rfind(name_prefix, 0) != 0)
    return {};
  return name.substr(std::char_traits<char>::length(name_prefix));
}

} // namespace

// -- parsing -----------------------------------------------------------------

instance_state map_volume_status(std::string_view status) {
  auto s = to_lower(status);
  if (s == "creating" || s == "downloading")
    return instance_state::spawning;
  if (s.rfind("error", 0) == 0)
    return instance_state::failed;
  return instance_state::running;
}

cinder_volume volume_from_json(const json& v) {
  cinder_volume c;
  auto& x = c.volume;
  x.kind = resource_kind::volume;
  x.id = json_string_or(v, "id");
  c.status = json_string_or(v, "status");
  x.state = map_volume_status(c.status);
  x.size_gb = json_int_or(v, "size", 0);
  x.created_at = parse_cloud_time(json_string_or(v, "created_at"));
  if (auto m = v.find("metadata"); m != v.end() && m->is_object()) {
    x.order_id = json_string_or(*m, order_key);
    c.member = json_string_or(*m, member_key);
    c.attachment_order = json_string_or(*m, attachment_key);
  }
  if (x.order_id.empty())
    x.order_id = order_of_name(json_string_or(v, "name"));
  if (x.state == instance_state::failed)
    x.fault = "volume is " + c.status;
  if (auto a = v.find("attachments"); a != v.end() && a->is_array())
    for (auto& at : *a) {
      if (!at.is_object())
        continue;
      auto server = json_string_or(at, "server_id");
      if (server.empty())
        continue;
      if (x.server_id.empty())
        x.server_id = server;
      instance att;
      att.kind = resource_kind::attachment;
      att.id = attachment_local_id(server, x.id);
      att.order_id = c.attachment_order;
      att.server_id = server;
      att.volume_id = x.id;
      att.device = json_string_or(at, "device");
      att.created_at = parse_cloud_time(json_string_or(at, "attached_at"));
      att.state = instance_state::running;
      c.attachments.push_back(std::move(att));
    }
  return c;
}

cinder_volume parse_volume(std::string_view body) {
  auto j = parse_json_object(body, "volume");
  auto v = j.find("volume");
  if (v == j.end() || !v->is_object())
    throw cloud_failure(errc::cloud_error, "volume: no 'volume' in the answer");
  auto c = volume_from_json(*v);
  if (c.volume.id.empty())
    throw cloud_failure(errc::cloud_error,
                        "volume: Cinder returned no volume id");
  return c;
}

std::vector<cinder_volume> parse_volume_list(std::string_view body,
                                             std::string_view member_id) {
  auto j = parse_json_object(body, "list volumes");
  auto vs = j.find("volumes");
  if (vs == j.end() || !vs->is_array())
    throw cloud_failure(errc::cloud_error,
                        "list volumes: no 'volumes' list in the answer");
  std::vector<cinder_volume> out;
  for (auto& v : *vs) {
    if (!v.is_object())
      continue;
    auto c = volume_from_json(v);
    if (c.member != member_id || c.volume.id.empty())
      continue;
    out.push_back(std::move(c));
  }
  return out;
}

volume_limits parse_volume_limits(std::string_view body) {
  volume_limits r;
  parse_absolute_limits(
    body, "volume limits",
    {{"maxTotalVolumes", "totalVolumesUsed", r.volumes_total, r.volumes_used},
     {"maxTotalVolumeGigabytes", "totalGigabytesUsed", r.gigabytes_total,
      r.gigabytes_used}});
  return r;
}

bool more_room(const volume_limits& now, const volume_limits& before) {
  auto free = [](int total, int used) {
    return total < 0 ? 1 << 30 : total - used;
  };
  return free(now.volumes_total, now.volumes_used)
           > free(before.volumes_total, before.volumes_used)
         || free(now.gigabytes_total, now.gigabytes_used)
              > free(before.gigabytes_total, before.gigabytes_used);
}

std::string parse_attach_device(std::string_view body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {};
  auto a = j.find("volumeAttachment");
  if (a == j.end() || !a->is_object())
    return {};
  return json_string_or(*a, "device");
}

network_limits parse_network_limits(std::string_view body) {
  auto j = parse_json_object(body, "network quota");
  auto q = j.find("quota");
  if (q == j.end() || !q->is_object())
    throw cloud_failure(errc::cloud_error,
                        "network quota: no 'quota' in the answer");
  network_limits r;
  auto read = [&](const char* key, int& total, int& used) {
    auto it = q->find(key);
    if (it == q->end() || !it->is_object())
      return;
    total = json_int_or(*it, "limit", -1);
    used = json_int_or(*it, "used", 0) + json_int_or(*it, "reserved", 0);
  };
  read("network", r.networks_total, r.networks_used);
  read("subnet", r.subnets_total, r.subnets_used);
  return r;
}

bool more_room(const network_limits& now, const network_limits& before) {
  auto free = [](int total, int used) {
    return total < 0 ? 1 << 30 : total - used;
  };
  return free(now.networks_total, now.networks_used)
           > free(before.networks_total, before.networks_used)
         || free(now.subnets_total, now.subnets_used)
              > free(before.subnets_total, before.subnets_used);
}

instance_state map_network_status(std::string_view status, bool has_subnet) {
  auto s = to_lower(status);
  if (s == "error" || s == "down")
    return instance_state::failed;
  if (s == "active")
    return has_subnet ? instance_state::running : instance_state::spawning;
  return instance_state::spawning; // BUILD and unknown ones
}

std::string network_description(std::string_view member_id) {
  return "fogbow-member=" + std::string{member_id};
}

neutron_network network_from_json(const json& n, const json* subnets) {
  neutron_network out;
  auto& x = out.net;
  x.kind = resource_kind::network;
  x.id = json_string_or(n, "id");
  out.status = json_string_or(n, "status");
  x.order_id = order_of_name(json_string_or(n, "name"));
  auto desc = json_string_or(n, "description");
  if (auto p = desc.find("fogbow-member="); p == 0)
    out.member = desc.substr(std::char_traits<char>::length("fogbow-member="));
  x.created_at = parse_cloud_time(json_string_or(n, "created_at"));
  if (subnets && subnets->is_array())
    for (auto& s : *subnets) {
      if (!s.is_object() || json_string_or(s, "network_id") != x.id
          || json_int_or(s, "ip_version", 4) != 4)
        continue;
      out.subnet_id = json_string_or(s, "id");
      x.network_cidr = json_string_or(s, "cidr");
      x.network_gateway = json_string_or(s, "gateway_ip");
      break;
    }
  x.state = map_network_status(out.status, !out.subnet_id.empty());
  if (x.state == instance_state::failed)
    x.fault = "network is " + out.status;
  return out;
}

std::vector<neutron_network> parse_network_list(std::string_view networks_body,
                                                std::string_view subnets_body,
                                                std::string_view member_id) {
  auto nj = parse_json_object(networks_body, "list networks");
  auto sj = parse_json_object(subnets_body, "list subnets");
  auto ns = nj.find("networks");
  if (ns == nj.end() || !ns->is_array())
    throw cloud_failure(errc::cloud_error,
                        "list networks: no 'networks' list in the answer");
  const json* subnets = nullptr;
  if (auto s = sj.find("subnets"); s != sj.end() && s->is_array())
    subnets = &*s;
  std::vector<neutron_network> out;
  for (auto& n : *ns) {
    if (!n.is_object())
      continue;
    auto x = network_from_json(n, subnets);
    if (x.member != member_id || x.net.id.empty() || x.net.order_id.empty())
      continue;
    out.push_back(std::move(x));
  }
  return out;
}

std::string subnet_request(const std::string& network_id,
                           const instance_spec& spec) {
  json subnet = {{"network_id", network_id},
                 {"name", name_prefix + spec.order_id},
                 {"ip_version", 4},
                 {"cidr", spec.network_cidr},
                 {"enable_dhcp", spec.network_allocation != "static"}};
  if (!spec.network_gateway.empty())
    subnet["gateway_ip"] = spec.network_gateway;
  return json{{"subnet", subnet}}.dump();
}

// -- Cinder / Nova attachments
// --------------------------------------------------

openstack_volumes::openstack_volumes(std::shared_ptr<keystone_session> session,
                                     std::string member_id)
    : session_(std::move(session)), member_id_(std::move(member_id)) {}

bool openstack_volumes::has_service() {
  return session_->has_endpoint("volumev3");
}

void openstack_volumes::require_service() {
  if (!has_service())
    throw cloud_failure(
      errc::unsupported,
      "this OpenStack has no volumev3 endpoint (Cinder v3) "
      "in its service catalog: volume orders cannot be served");
}

cinder_volume openstack_volumes::create_volume(const instance_spec& spec) {
  require_service();
  if (spec.size_gb < 1)
    throw cloud_failure(errc::invalid_argument, "a volume needs size_gb >= 1");
  json v = {
    {"volume",
     {{"size", spec.size_gb},
      {"name", name_prefix + spec.order_id},
      {"metadata", {{order_key, spec.order_id}, {member_key, member_id_}}}}}};
  auto r = checked(session_->call("volumev3", "POST", "/volumes", v.dump()),
                   "create volume");
  return parse_volume(r.body);
}

std::optional<cinder_volume>
openstack_volumes::find_volume(const std::string& order_id) {
  require_service();
  auto r = checked(session_->call("volumev3", "GET",
                                  "/volumes/detail?name="
                                    + percent_encode(name_prefix + order_id)),
                   "look up the volume of order " + order_id);
  for (auto& c : parse_volume_list(r.body, member_id_))
    if (c.volume.order_id == order_id)
      return c;
  return std::nullopt;
}

std::optional<cinder_volume>
openstack_volumes::get_volume(const std::string& id) {
  require_service();
  auto r = session_->call("volumev3", "GET", "/volumes/" + percent_encode(id));
  if (r.status == 404)
    return std::nullopt;
  checked(r, "get volume " + id);
  return parse_volume(r.body);
}

std::vector<cinder_volume> openstack_volumes::list_volumes() {
  if (!has_service())
    return {};
  std::vector<cinder_volume> out;
  std::string marker;
  for (int page = 0; page < 100; ++page) {
    std::string path = "/volumes/detail?limit=1000";
    if (!marker.empty())
      path += "&marker=" + percent_encode(marker);
    auto r = checked(session_->call("volumev3", "GET", path), "list volumes");
    auto j = parse_json_object(r.body, "list volumes");
    auto vs = j.find("volumes");
    if (vs == j.end() || !vs->is_array())
      throw cloud_failure(errc::cloud_error,
                          "list volumes: no 'volumes' list in the answer");
    for (auto& c : parse_volume_list(r.body, member_id_))
      out.push_back(std::move(c));
    if (vs->size() < 1000 || vs->empty())
      break;
    marker = json_string_or(vs->back(), "id");
    if (marker.empty())
      break;
  }
  return out;
}

void openstack_volumes::delete_volume(const std::string& id) {
  require_service();
  auto r =
    session_->call("volumev3", "DELETE", "/volumes/" + percent_encode(id));
  if (r.status == 400)
    // "Invalid volume: Volume status must be available or error …": it is
    // attached or busy.
    throw cloud_failure(errc::conflict,
                        "delete volume " + id
                          + " failed (HTTP 400): " + cloud_message(r.body));
  checked(r, "delete volume " + id);
}

void openstack_volumes::set_metadata(const std::string& id,
                                     const std::string& key,
                                     const std::string& value) {
  json m = {{"metadata", {{key, value}}}};
  checked(session_->call("volumev3", "POST",
                         "/volumes/" + percent_encode(id) + "/metadata",
                         m.dump()),
          "set metadata of volume " + id);
}

void openstack_volumes::remove_metadata(const std::string& id,
                                        const std::string& key) noexcept {
  try {
    session_->call("volumev3", "DELETE",
                   "/volumes/" + percent_encode(id) + "/metadata/"
                     + percent_encode(key));
  } catch (...) {
    // best effort
  }
}

std::string openstack_volumes::attach(const std::string& server_id,
                                      const std::string& volume_id,
                                      const std::string& device) {
  json a = {{"volumeId", volume_id}};
  if (!device.empty())
    a["device"] = device;
  auto r = checked(session_->call("compute", "POST",
                                  "/servers/" + percent_encode(server_id)
                                    + "/os-volume_attachments",
                                  json{{"volumeAttachment", a}}.dump()),
                   "attach volume " + volume_id + " to server " + server_id);
  return parse_attach_device(r.body);
}

void openstack_volumes::detach(const std::string& server_id,
                               const std::string& volume_id) {
  checked(session_->call("compute", "DELETE",
                         "/servers/" + percent_encode(server_id)
                           + "/os-volume_attachments/"
                           + percent_encode(volume_id)),
          "detach volume " + volume_id + " from server " + server_id);
}

volume_limits openstack_volumes::limits() {
  require_service();
  auto r =
    checked(session_->call("volumev3", "GET", "/limits"), "read volume limits");
  return parse_volume_limits(r.body);
}

// -- Neutron
// -------------------------------------------------------------------

namespace {

/// "/v2.0" unless the catalog URL ends with it already.
std::string neutron_prefix(keystone_session& s) {
  auto base = s.endpoint("network");
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  auto n = base.size();
  return n >= 5 && base.compare(n - 5, 5, "/v2.0") == 0 ? "" : "/v2.0";
}

} // namespace

openstack_networks::openstack_networks(
  std::shared_ptr<keystone_session> session, std::string member_id)
    : session_(std::move(session)), member_id_(std::move(member_id)) {}

bool openstack_networks::has_service() {
  return session_->has_endpoint("network");
}

void openstack_networks::require_service() {
  if (!has_service())
    throw cloud_failure(
      errc::unsupported,
      "this OpenStack has no network endpoint (Neutron) in its "
      "service catalog: network orders cannot be served");
}

std::optional<neutron_network>
openstack_networks::find_network(const std::string& order_id) {
  require_service();
  auto p = neutron_prefix(*session_);
  auto name = percent_encode(name_prefix + order_id);
  auto nr =
    checked(session_->call("network", "GET", p + "/networks?name=" + name),
            "look up the network of order " + order_id);
  auto nj = parse_json_object(nr.body, "list networks");
  auto ns = nj.find("networks");
  if (ns == nj.end() || !ns->is_array())
    return std::nullopt;
  for (auto& n : *ns) {
    if (!n.is_object())
      continue;
    auto x = network_from_json(n, nullptr);
    if (x.member != member_id_ || x.net.order_id != order_id)
      continue;
    return get_network(x.net.id);
  }
  return std::nullopt;
}

neutron_network openstack_networks::create_network(const instance_spec& spec) {
  require_service();
  auto p = neutron_prefix(*session_);
  json n = {{"network",
             {{"name", name_prefix + spec.order_id},
              {"description", network_description(member_id_)},
              {"admin_state_up", true}}}};
  auto r = checked(session_->call("network", "POST", p + "/networks", n.dump()),
                   "create network");
  auto j = parse_json_object(r.body, "create network");
  auto net = j.find("network");
  if (net == j.end() || !net->is_object())
    throw cloud_failure(errc::cloud_error,
                        "create network: no 'network' in the answer");
  auto x = network_from_json(*net, nullptr);
  if (x.net.id.empty())
    throw cloud_failure(errc::cloud_error,
                        "create network: Neutron returned no id");
  return x;
}

std::string openstack_networks::create_subnet(const std::string& network_id,
                                              const instance_spec& spec) {
  auto p = neutron_prefix(*session_);
  auto r = checked(session_->call("network", "POST", p + "/subnets",
                                  subnet_request(network_id, spec)),
                   "create subnet " + spec.network_cidr);
  auto j = parse_json_object(r.body, "create subnet");
  auto s = j.find("subnet");
  auto id =
    s != j.end() && s->is_object() ? json_string_or(*s, "id") : std::string{};
  if (id.empty())
    throw cloud_failure(errc::cloud_error,
                        "create subnet: Neutron returned no id");
  return id;
}

std::optional<neutron_network>
openstack_networks::get_network(const std::string& id) {
  require_service();
  auto p = neutron_prefix(*session_);
  auto r =
    session_->call("network", "GET", p + "/networks/" + percent_encode(id));
  if (r.status == 404)
    return std::nullopt;
  checked(r, "get network " + id);
  auto j = parse_json_object(r.body, "get network");
  auto n = j.find("network");
  if (n == j.end() || !n->is_object())
    throw cloud_failure(errc::cloud_error,
                        "get network: no 'network' in the answer");
  auto sr =
    checked(session_->call("network", "GET",
                           p + "/subnets?network_id=" + percent_encode(id)),
            "list the subnets of network " + id);
  auto sj = parse_json_object(sr.body, "list subnets");
  const json* subnets = nullptr;
  if (auto s = sj.find("subnets"); s != sj.end() && s->is_array())
    subnets = &*s;
  return network_from_json(*n, subnets);
}

std::vector<neutron_network> openstack_networks::list_networks() {
  if (!has_service())
    return {};
  auto p = neutron_prefix(*session_);
  auto desc = percent_encode(network_description(member_id_));
  auto nr = checked(
    session_->call("network", "GET", p + "/networks?description=" + desc),
    "list networks");
  auto sr =
    checked(session_->call("network", "GET", p + "/subnets?ip_version=4"),
            "list subnets");
  return parse_network_list(nr.body, sr.body, member_id_);
}

network_limits openstack_networks::limits() {
  require_service();
  auto p = neutron_prefix(*session_);
  auto project = session_->token().project_id;
  auto r = checked(
    session_->call("network", "GET",
                   p + "/quotas/" + percent_encode(project) + "/details.json"),
    "read network quota");
  return parse_network_limits(r.body);
}

void openstack_networks::delete_network(const std::string& id) {
  require_service();
  auto p = neutron_prefix(*session_);
  checked(
    session_->call("network", "DELETE", p + "/networks/" + percent_encode(id)),
    "delete network " + id);
}

} // namespace fogbow
