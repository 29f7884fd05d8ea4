#include "cli/client.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <utility>

#include <CLI/CLI.hpp>
#include <termios.h>
#include <unistd.h>

#include "domain/order.hpp"
#include "net/http_client.hpp"
#include "util/encoding.hpp"

namespace fogbow::cli {

namespace {

using nlohmann::json;

constexpr auto default_url = "http://127.0.0.1:8182";

/// Thrown once the reason has been printed; carries the exit code up to
/// run_client so every command body can stay a straight line.
struct command_failed {
  int exit_code;
};

constexpr int exit_server_error = 1;
constexpr int exit_usage = 2;
constexpr int exit_no_connection = 3;

struct global_options {
  std::string url = default_url;
  std::string token;
  bool json_output = false;
  int timeout_s = 10;
  std::string cacert; ///< PEM CAs for an https:// manager; "": the system's
};

/// Ids go into the path; anything outside the unreserved set is escaped so
/// an id can never change which resource is addressed.
std::string encode_segment(std::string_view text) {
  // '@' and ':' are legal in a path segment and appear in instance ids.
  return percent_encode(text, "@:");
}

std::string transport_error_message(const http_result& r,
                                    const global_options& g) {
  auto seconds = std::to_string(g.timeout_s);
  switch (r.failure) {
  case transport_failure::refused:
    return "error: cannot connect to the manager at " + g.url
           + ": connection refused. Is `fogbow --role=manager` running? "
             "Set --url or FOGBOW_URL.";
  case transport_failure::connect_timeout:
    return "error: cannot connect to the manager at " + g.url
           + ": no answer within " + seconds + " s. Set --url or FOGBOW_URL.";
  case transport_failure::no_answer:
    return "error: the manager at " + g.url
           + " closed the connection or sent no answer within " + seconds
           + " s (see --timeout).";
  case transport_failure::tls:
    return "error: TLS with the manager at " + g.url + " failed ("
           + r.transport_error + "): its certificate is not signed by "
           + (g.cacert.empty() ? std::string{"a CA this system trusts"}
                               : "the CA in " + g.cacert)
           + ", or the host name does not match it. Set --cacert or "
             "FOGBOW_CACERT to the CA that signed it.";
  default:
    return "error: request to the manager at " + g.url + " failed ("
           + r.transport_error + ").";
  }
}

/// Sends one request and returns the parsed answer (null for an empty
/// body). Prints the reason and throws command_failed on any failure.
json call(const global_options& g, std::string_view method,
          const std::string& path, const json* body = nullptr) {
  auto client = http_client::to(
    g.url, {std::chrono::seconds{g.timeout_s}, true, {}, g.cacert});
  if (!client) {
    std::cerr << "error: invalid --url '" << g.url
              << "': expected http://HOST[:PORT] or https://HOST[:PORT]\n";
    throw command_failed{exit_usage};
  }
  http_headers headers;
  if (!g.token.empty())
    headers.emplace_back("X-Auth-Token", g.token);
  auto res = client->request(method, path, headers,
                             method == "POST" ? body->dump() : std::string{});
  if (res.status == 0) {
    std::cerr << transport_error_message(res, g) << '\n';
    throw command_failed{exit_no_connection};
  }
  if (res.status >= 400) {
    std::cerr << format_http_error(res.status, res.body) << '\n';
    throw command_failed{exit_server_error};
  }
  if (res.body.empty())
    return nullptr;
  auto answer = json::parse(res.body, nullptr, false);
  if (answer.is_discarded()) {
    std::cerr << "error: the manager answered HTTP " << res.status
              << " with a body that is not JSON\n";
    throw command_failed{exit_server_error};
  }
  return answer;
}

std::string read_file(const std::string& path, std::string_view option) {
  std::string content;
  int err = 0;
  if (std::FILE* file = std::fopen(path.c_str(), "rb"); file == nullptr) {
    err = errno;
  } else {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0)
      content.append(buffer, n);
    if (std::ferror(file))
      err = errno;
    std::fclose(file);
  }
  if (err != 0) {
    std::cerr << "error: cannot read " << option << " '" << path
              << "': " << std::strerror(err) << '\n';
    throw command_failed{exit_usage};
  }
  return content;
}

/// Every item of a list, page after page: `{key: [...]}`. `limit` > 0
/// asks for pages of that size, otherwise the server's default.
json call_all_pages(const global_options& g, const std::string& path,
                    const std::string& key, int limit) {
  std::string next =
    limit > 0 ? path + "?limit=" + std::to_string(limit) : path;
  json items = json::array();
  while (!next.empty()) {
    auto answer = call(g, "GET", next);
    for (auto& x : answer.at(key))
      items.push_back(std::move(x));
    next = next_page_path(answer, next);
  }
  return json{{key, std::move(items)}};
}

void print(const global_options& g, const json& answer,
           const std::function<std::string(const json&)>& human) {
  if (g.json_output)
    std::cout << answer.dump(2) << '\n';
  else
    std::cout << human(answer);
}

/// The password for `login`: the first line of stdin, read with echo off
/// when stdin is a terminal. Never an argument: those show in `ps`.
std::string read_password() {
  bool tty = isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
    std::cerr << "Password: " << std::flush;
    auto quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  } else {
    tty = false;
  }
  std::string password;
  std::getline(std::cin, password);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << '\n';
  }
  if (!password.empty() && password.back() == '\r')
    password.pop_back();
  return password;
}

bool is_timestamp_key(std::string_view key) {
  return key.ends_with("_at") || key == "valid_from" || key == "valid_until"
         || key == "last_seen";
}

std::vector<std::vector<std::string>>
rows_of(const json& items, const std::vector<std::string>& keys) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : items) {
    auto& row = rows.emplace_back();
    for (const auto& key : keys) {
      auto it = item.find(key);
      row.push_back(it == item.end() ? "-" : format_cell(*it, key));
    }
  }
  return rows;
}

} // namespace

bool is_client_command(std::string_view first_arg) {
  return first_arg == "order" || first_arg == "compute" || first_arg == "volume"
         || first_arg == "network" || first_arg == "attachment"
         || first_arg == "member" || first_arg == "quota"
         || first_arg == "login";
}

json build_order_body(const order_create_options& opts) {
  json body{{"kind", opts.kind}};
  auto put = [&](const char* key, const auto& value) {
    if (value)
      body[key] = *value;
  };
  put("count", opts.count);
  put("type", opts.type);
  put("vcpu", opts.vcpu);
  put("memory_mb", opts.memory_mb);
  put("disk_gb", opts.disk_gb);
  put("image", opts.image);
  put("requirements", opts.requirements);
  put("public_key", opts.public_key);
  put("user_data", opts.user_data);
  put("valid_from", opts.valid_from);
  put("valid_until", opts.valid_until);
  put("size_gb", opts.size_gb);
  put("network_cidr", opts.network_cidr);
  put("network_gateway", opts.network_gateway);
  put("network_allocation", opts.network_allocation);
  put("compute", opts.compute);
  put("volume", opts.volume);
  put("device", opts.device);
  return body;
}

std::string format_cell(const json& value, std::string_view key) {
  if (value.is_null())
    return "-";
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    return text.empty() ? "-" : text;
  }
  if (value.is_boolean())
    return value.get<bool>() ? "yes" : "no";
  if (value.is_number_float()) {
    std::array<char, 32> text{};
    std::snprintf(text.data(), text.size(), "%.2f", value.get<double>());
    return text.data();
  }
  // The manager keeps times as milliseconds; 0 means "never".
  if (value.is_number_integer() && is_timestamp_key(key)) {
    auto t = value.get<millis>();
    return t == 0 ? "-" : format_iso8601(t);
  }
  return value.dump();
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  widths.reserve(header.size());
  for (const auto& cell : header)
    widths.push_back(cell.size());
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  std::string out;
  auto add_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size())
        line.append(widths[i] - cells[i].size() + 2, ' ');
    }
    out += line;
    out += '\n';
  };
  add_line(header);
  for (const auto& row : rows)
    add_line(row);
  return out;
}

std::string format_orders_table(const json& orders) {
  return format_table({"ID", "STATE", "TYPE", "KIND", "INSTANCE", "CREATED"},
                      rows_of(orders, {"id", "state", "type", "kind",
                                       "instance_id", "created_at"}));
}

std::string format_computes_table(const json& computes) {
  auto rows =
    rows_of(computes, {"id", "state", "vcpu", "memory_mb", "ip", "order_id"});
  for (auto& row : rows)
    if (row[3] != "-")
      row[3] += "MB";
  return format_table({"ID", "STATE", "VCPU", "MEMORY", "IP", "ORDER"}, rows);
}

std::string format_instances_table(std::string_view kind,
                                   const json& instances) {
  if (kind == "volume")
    return format_table({"ID", "STATE", "SIZE-GB", "ATTACHED-TO", "ORDER"},
                        rows_of(instances, {"id", "state", "size_gb",
                                            "attached_to", "order_id"}));
  if (kind == "network")
    return format_table({"ID", "STATE", "CIDR", "GATEWAY", "ORDER"},
                        rows_of(instances, {"id", "state", "network_cidr",
                                            "network_gateway", "order_id"}));
  return format_table({"ID", "STATE", "COMPUTE", "VOLUME", "DEVICE", "ORDER"},
                      rows_of(instances, {"id", "state", "compute", "volume",
                                          "device", "order_id"}));
}

std::string format_members_table(const json& members) {
  bool accounts = std::any_of(members.begin(), members.end(),
                              [](const json& m) { return m.contains("debt"); });
  if (!accounts)
    return format_table({"ID", "ALIVE", "LAST-SEEN", "SELF"},
                        rows_of(members, {"id", "alive", "last_seen", "self"}));
  return format_table(
    {"ID", "ALIVE", "LAST-SEEN", "SELF", "CONSUMED", "DONATED", "DEBT"},
    rows_of(members,
            {"id", "alive", "last_seen", "self", "consumed_vcpu_minutes",
             "donated_vcpu_minutes", "debt"}));
}

std::string format_usage_table(const json& usage) {
  std::vector<std::vector<std::string>> rows;
  auto add = [&](const std::string& member, const char* direction,
                 const json& amount) {
    auto& row = rows.emplace_back(std::vector<std::string>{member, direction});
    for (const char* key :
         {"vcpu_minutes", "memory_mb_minutes", "volume_gb_minutes"})
      row.push_back(format_cell(amount.value(key, json{}), key));
  };
  add("(this member)", "local", usage.value("local", json::object()));
  for (const auto& m : usage.value("members", json::array())) {
    auto id = m.value("id", std::string{"?"});
    add(id, "consumed", m.value("consumed", json::object()));
    add(id, "donated", m.value("donated", json::object()));
  }
  auto user = usage.value("user", json{});
  return "member: " + format_cell(usage.value("member_id", json{}), "member_id")
         + "  user: "
         + (user.is_null() ? "(every user)" : format_cell(user, "")) + "\n"
         + format_table({"MEMBER", "DIRECTION", "VCPU-MIN", "MEMORY-MB-MIN",
                         "VOLUME-GB-MIN"},
                        rows);
}

std::string format_quota_table(const json& quota) {
  std::vector<std::vector<std::string>> rows;
  for (const char* resource : {"vcpu", "memory_mb", "instances"}) {
    auto it = quota.find(resource);
    if (it == quota.end())
      continue;
    auto& row = rows.emplace_back(std::vector<std::string>{resource});
    for (const char* key : {"total", "in_use", "in_use_by_user"}) {
      auto value = it->find(key);
      row.push_back(value == it->end() ? "-" : format_cell(*value, key));
    }
  }
  return "member: " + format_cell(quota.value("member_id", json{}), "member_id")
         + "\n" + format_table({"RESOURCE", "TOTAL", "IN-USE", "YOURS"}, rows);
}

std::string format_key_values(const json& object,
                              const std::vector<std::string>& order) {
  std::vector<std::string> keys;
  for (const auto& key : order)
    if (object.contains(key))
      keys.push_back(key);
  for (const auto& [key, value] : object.items())
    if (std::find(order.begin(), order.end(), key) == order.end())
      keys.push_back(key);
  size_t width = 0;
  for (const auto& key : keys)
    width = std::max(width, key.size());
  std::string out;
  for (const auto& key : keys) {
    out += key;
    out += ':';
    out.append(width - key.size() + 1, ' ');
    out += format_cell(object.at(key), key);
    out += '\n';
  }
  return out;
}

const std::vector<std::string>& order_fields() {
  static const std::vector<std::string> fields{"id",
                                               "batch_id",
                                               "state",
                                               "type",
                                               "kind",
                                               "instance_id",
                                               "requesting_member",
                                               "providing_member",
                                               "vcpu",
                                               "memory_mb",
                                               "disk_gb",
                                               "image",
                                               "requirements",
                                               "valid_from",
                                               "valid_until",
                                               "created_at",
                                               "updated_at",
                                               "fulfilled_at",
                                               "last_error"};
  return fields;
}

const std::vector<std::string>& compute_fields() {
  static const std::vector<std::string> fields{
    "id",       "state",      "vcpu", "memory_mb",          "disk_gb",
    "flavor",   "image",      "ip",   "ssh_public_address", "extra_ports",
    "order_id", "created_at", "fault"};
  return fields;
}

std::string next_page_path(const json& answer, const std::string& current) {
  auto links = answer.find("links");
  if (links == answer.end() || !links->is_array())
    return {};
  for (const auto& link : *links) {
    if (!link.is_object() || link.value("rel", json{}) != "next")
      continue;
    auto href = link.value("href", json{});
    if (!href.is_string())
      return {};
    auto path = href.get<std::string>();
    if (!path.starts_with("/v1/") || path == current)
      return {};
    return path;
  }
  return {};
}

std::string format_http_error(int status, std::string_view body) {
  std::string code;
  std::string message;
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error")
      && parsed["error"].is_object()) {
    const auto& err = parsed["error"];
    if (err.contains("code") && err["code"].is_string())
      code = err["code"].get<std::string>();
    if (err.contains("message") && err["message"].is_string())
      message = err["message"].get<std::string>();
  } else {
    message = body;
  }
  while (!message.empty()
         && (message.back() == '.'
             || std::isspace(static_cast<unsigned char>(message.back()))))
    message.pop_back();
  if (message.empty())
    message = "the manager gave no reason";
  if (status == 401)
    return "error: authentication failed: " + message
           + ". Check --token or FOGBOW_TOKEN.";
  if (status == 404)
    return "error: not found: " + message;
  std::string details = code.empty() ? "" : code + ", ";
  return "error: " + message + " (" + details + "HTTP " + std::to_string(status)
         + ")";
}

int run_client(int argc, char** argv) {
  CLI::App app{"Fogbow client: orders and instances through a manager's "
               "REST API.",
               "fogbow"};
  // Global options may follow the subcommands: `fogbow order list --json`.
  app.fallthrough();
  app.require_subcommand(1);
  global_options g;
  app.add_option("--url", g.url, "Manager URL")
    ->envname("FOGBOW_URL")
    ->capture_default_str();
  app.add_option("--token", g.token, "Authentication token")
    ->envname("FOGBOW_TOKEN");
  app
    .add_option("--cacert", g.cacert,
                "PEM file of the CA that signed an https:// manager's "
                "certificate (default: the system's CAs)")
    ->envname("FOGBOW_CACERT")
    ->check(CLI::ExistingFile);
  app.add_flag("--json", g.json_output, "Print the server's JSON");
  app.add_option("--timeout", g.timeout_s, "Seconds to wait for the manager")
    ->check(CLI::Range(1, 3600))
    ->capture_default_str();

  // Each leaf command and what it does once the whole line parsed.
  std::vector<std::pair<CLI::App*, std::function<void()>>> commands;
  auto noun = [&](const char* name, const char* description) {
    auto* sub = app.add_subcommand(name, description);
    sub->require_subcommand(1);
    return sub;
  };
  auto verb = [&](CLI::App* parent, const char* name, const char* description,
                  std::function<void()> run) {
    auto* sub = parent->add_subcommand(name, description);
    commands.emplace_back(sub, std::move(run));
    return sub;
  };
  std::string id;
  auto add_id = [&](CLI::App* sub) {
    sub->add_option("id", id, "Id")->required();
  };

  std::string login_user;
  verb(&app, "login",
       "Exchange a user name and password (the first line of stdin) for a "
       "token, printed alone; for managers whose identity plugin takes "
       "passwords (ldap)",
       [&] {
         json body{{"user", login_user}, {"password", read_password()}};
         print(g, call(g, "POST", "/v1/tokens", &body), [](const json& a) {
           return a.at("token").get<std::string>() + "\n";
         });
       })
    ->add_option("--user", login_user, "User name in the directory")
    ->required();

  auto* order = noun("order", "Create, list, show and delete orders");
  order_create_options create;
  std::optional<std::string> public_key_file;
  std::optional<std::string> user_data_file;
  auto* order_create = verb(order, "create", "Create orders", [&] {
    if (public_key_file)
      create.public_key = read_file(*public_key_file, "--public-key-file");
    if (user_data_file)
      create.user_data = read_file(*user_data_file, "--user-data-file");
    auto body = build_order_body(create);
    print(g, call(g, "POST", "/v1/orders", &body),
          [](const json& a) { return format_orders_table(a.at("orders")); });
  });
  const CLI::Validator iso8601{[](std::string& text) {
                                 return parse_iso8601(text)
                                          ? std::string{}
                                          : "not an ISO-8601 date-time such as "
                                            "2026-11-25T10:00:00Z: "
                                              + text;
                               },
                               "ISO-8601"};
  order_create->add_option("--kind", create.kind, "What to create")
    ->required()
    ->check(CLI::IsMember({"compute", "volume", "network", "attachment"}));
  order_create->add_option("--count", create.count, "Number of orders")
    ->check(CLI::PositiveNumber);
  order_create->add_option("--type", create.type, "Order type")
    ->check(CLI::IsMember({"one-time", "persistent"}));
  order_create->add_option("--vcpu", create.vcpu, "Minimum vCPUs")
    ->check(CLI::PositiveNumber);
  order_create->add_option("--memory-mb", create.memory_mb, "Minimum memory")
    ->check(CLI::PositiveNumber);
  order_create->add_option("--disk-gb", create.disk_gb, "Minimum disk")
    ->check(CLI::NonNegativeNumber);
  order_create->add_option("--image", create.image, "Image name");
  order_create->add_option("--requirements", create.requirements,
                           "Glue2 expression, e.g. 'Glue2vCPU >= 2'");
  order_create->add_option("--public-key-file", public_key_file,
                           "SSH public key to install");
  order_create->add_option("--user-data-file", user_data_file,
                           "Script run on first boot");
  order_create
    ->add_option("--valid-from", create.valid_from, "Start of validity")
    ->check(iso8601);
  order_create
    ->add_option("--valid-until", create.valid_until, "End of validity")
    ->check(iso8601);
  order_create->add_option("--size-gb", create.size_gb, "Volume size")
    ->check(CLI::PositiveNumber);
  order_create->add_option("--network-cidr", create.network_cidr,
                           "Network CIDR");
  order_create->add_option("--network-gateway", create.network_gateway,
                           "Network gateway");
  order_create
    ->add_option("--network-allocation", create.network_allocation,
                 "Address allocation")
    ->check(CLI::IsMember({"dynamic", "static"}));
  order_create->add_option("--compute", create.compute,
                           "Attachment: the compute's order or instance id");
  order_create->add_option("--volume", create.volume,
                           "Attachment: the volume's order or instance id");
  order_create->add_option("--device", create.device,
                           "Attachment: device name, e.g. /dev/vdb");
  // List commands fetch every page; --limit sets the size of each.
  int page_limit = 0;
  auto add_limit = [&page_limit](CLI::App* sub) {
    sub
      ->add_option("--limit", page_limit,
                   "Items per request (every page is fetched; default: the "
                   "manager's page size)")
      ->check(CLI::Range(1, 1000000));
  };
  add_limit(verb(order, "list", "List your orders", [&] {
    print(g, call_all_pages(g, "/v1/orders", "orders", page_limit),
          [](const json& a) { return format_orders_table(a.at("orders")); });
  }));
  auto show_order = [](const json& a) {
    return format_key_values(a, order_fields());
  };
  add_id(verb(order, "show", "Show one order", [&] {
    print(g, call(g, "GET", "/v1/orders/" + encode_segment(id)), show_order);
  }));
  add_id(verb(order, "delete", "Delete an order and its instance", [&] {
    print(g, call(g, "DELETE", "/v1/orders/" + encode_segment(id)), show_order);
  }));

  auto* compute = noun("compute", "List, show and delete compute instances");
  add_limit(verb(compute, "list", "List your computes", [&] {
    print(
      g, call_all_pages(g, "/v1/computes", "computes", page_limit),
      [](const json& a) { return format_computes_table(a.at("computes")); });
  }));
  add_id(verb(compute, "show", "Show one compute", [&] {
    print(g, call(g, "GET", "/v1/computes/" + encode_segment(id)),
          [](const json& a) { return format_key_values(a, compute_fields()); });
  }));
  add_id(verb(compute, "delete", "Delete a compute", [&] {
    // 204: the server has nothing to print, so neither has --json.
    call(g, "DELETE", "/v1/computes/" + encode_segment(id));
    if (!g.json_output)
      std::cout << "deleted compute " << id << '\n';
  }));

  // Volumes, networks and attachments: the same three verbs as computes.
  struct resource_noun {
    const char* kind;
    const char* collection;
    const char* description;
    const char* list_description;
  };
  for (auto r :
       {resource_noun{"volume", "volumes", "List, show and delete volumes",
                      "List your volumes"},
        resource_noun{"network", "networks", "List, show and delete networks",
                      "List your networks"},
        resource_noun{"attachment", "attachments",
                      "List, show and delete volume attachments",
                      "List your attachments"}}) {
    auto* sub = noun(r.kind, r.description);
    auto path = std::string{"/v1/"} + r.collection;
    add_limit(verb(sub, "list", r.list_description, [&g, &page_limit, r, path] {
      print(g, call_all_pages(g, path, r.collection, page_limit),
            [r](const json& a) {
              return format_instances_table(r.kind, a.at(r.collection));
            });
    }));
    add_id(verb(sub, "show", "Show one", [&g, &id, path] {
      print(g, call(g, "GET", path + "/" + encode_segment(id)),
            [](const json& a) {
              return format_key_values(a, {"id", "state"});
            });
    }));
    add_id(verb(sub, "delete", "Delete one", [&g, &id, r, path] {
      call(g, "DELETE", path + "/" + encode_segment(id));
      if (!g.json_output)
        std::cout << "deleted " << r.kind << ' ' << id << '\n';
    }));
  }

  auto* member = noun("member", "Federation members: who is there and what "
                                "each can give you");
  add_limit(verb(
    member, "list", "List the members this manager knows (alive or not)", [&] {
      print(
        g, call_all_pages(g, "/v1/members", "members", page_limit),
        [](const json& a) { return format_members_table(a.at("members")); });
    }));
  // A remote member's figures come from that member itself (the manager
  // asks it over XMPP), so this can fail when the member is unreachable.
  auto* member_quota = verb(
    member, "quota",
    "Show a member's capacity and your share of it (a remote member is "
    "asked through this manager)",
    [&] {
      print(g, call(g, "GET", "/v1/members/" + encode_segment(id) + "/quota"),
            format_quota_table);
    });
  member_quota
    ->add_option("member-id", id, "Member id, e.g. site-b@xmpp.example.org")
    ->required();

  std::string usage_user;
  auto* member_usage =
    verb(member, "usage",
         "Show what was used: yours on every member's cloud, or only with one "
         "member; an accounting admin may ask for another user (--user ID) or "
         "everyone (--user '*'), and then sees what other members used here",
         [&] {
           auto path = id.empty()
                         ? std::string{"/v1/usage"}
                         : "/v1/members/" + encode_segment(id) + "/usage";
           if (!usage_user.empty())
             path += "?user=" + encode_segment(usage_user);
           print(g, call(g, "GET", path), format_usage_table);
         });
  member_usage->add_option("member-id", id,
                           "Only the use with this member (default: all)");
  member_usage->add_option("--user", usage_user,
                           "Whose usage (admins only; '*': everyone)");

  auto* quota = noun("quota", "Capacity of a member");
  std::string member_id;
  verb(quota, "show", "Show a member's capacity and your share of it", [&] {
    if (member_id.empty()) {
      auto members = call_all_pages(g, "/v1/members", "members", 0);
      for (const auto& m : members.at("members"))
        if (m.value("self", false))
          member_id = m.at("id").get<std::string>();
      if (member_id.empty()) {
        std::cerr << "error: the manager lists no member of its own; "
                     "pass --member\n";
        throw command_failed{exit_server_error};
      }
    }
    print(g,
          call(g, "GET", "/v1/members/" + encode_segment(member_id) + "/quota"),
          format_quota_table);
  })->add_option("--member", member_id, "Member id (default: this manager)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }
  try {
    for (auto& [sub, run] : commands)
      if (sub->parsed())
        run();
  } catch (const command_failed& e) {
    return e.exit_code;
  } catch (const nlohmann::json::exception& e) {
    std::cerr << "error: unexpected answer from the manager: " << e.what()
              << '\n';
    return exit_server_error;
  }
  return 0;
}

} // namespace fogbow::cli
