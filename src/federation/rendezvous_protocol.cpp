#include "federation/rendezvous_protocol.hpp"

#include <algorithm>

namespace fogbow::rdv {

namespace {

[[noreturn]] void bad(const std::string& text) {
  throw protocol_error("bad-request", text);
}

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") + 1 - first);
}

/// A non-negative decimal integer (up to 18 digits) from element text.
std::int64_t parse_count(std::string_view raw, const char* what) {
  auto s = trim(raw);
  if (s.empty() || s.size() > 18
      || !std::all_of(s.begin(), s.end(),
                      [](char c) { return c >= '0' && c <= '9'; }))
    bad(std::string{"<"} + what + "> must be a non-negative integer");
  std::int64_t v = 0;
  for (char c : s)
    v = v * 10 + (c - '0');
  return v;
}

void check_query(const xml::element& q, std::string_view ns) {
  if (q.name != "query")
    bad("payload is not a <query> element");
  if (q.ns != ns)
    bad("<query> is in namespace '" + q.ns + "', expected '" + std::string{ns}
        + "'");
}

void check_id(const std::string& id) {
  if (id.empty())
    bad("member id is empty");
  if (id.size() > max_id_bytes)
    bad("member id longer than " + std::to_string(max_id_bytes) + " bytes");
  for (unsigned char c : id)
    if (c < 0x20 || c == ' ' || c == 0x7f)
      bad("member id contains whitespace or control characters");
}

std::optional<std::string> read_cert(const xml::element& parent) {
  auto c = parent.child("cert");
  if (!c)
    return std::nullopt;
  if (c->text.size() > max_cert_bytes)
    bad("<cert> longer than " + std::to_string(max_cert_bytes) + " bytes");
  return c->text;
}

page_request read_set(const xml::element* set) {
  page_request r;
  if (!set)
    return r;
  if (auto m = set->child("max"))
    r.max = parse_count(m->text, "max");
  if (auto a = set->child("after")) {
    std::string after{trim(a->text)};
    check_id(after);
    r.after = std::move(after);
  }
  return r;
}

xml::element write_set(const page_request& r) {
  xml::element set{"set", std::string{ns_rsm}};
  if (r.max)
    set.add_text("max", std::to_string(*r.max));
  if (r.after)
    set.add_text("after", *r.after);
  return set;
}

xml::element write_summary(const page& p) {
  xml::element set{"set", std::string{ns_rsm}};
  if (p.first)
    set.add_text("first", *p.first);
  if (p.last)
    set.add_text("last", *p.last);
  set.add_text("count", std::to_string(p.count));
  return set;
}

void read_summary(const xml::element* set, page& p) {
  if (!set)
    return;
  if (auto f = set->child("first"))
    p.first = std::string{trim(f->text)};
  if (auto l = set->child("last"))
    p.last = std::string{trim(l->text)};
  if (auto c = set->child("count"))
    p.count = parse_count(c->text, "count");
}

} // namespace

// --- iamalive ---------------------------------------------------------------

std::optional<std::string> decode_iamalive(const xml::element& query) {
  check_query(query, ns_iamalive);
  return read_cert(query);
}

xml::element encode_iamalive(const std::optional<std::string>& cert) {
  xml::element q{"query", std::string{ns_iamalive}};
  if (cert)
    q.add_text("cert", *cert);
  return q;
}

xml::element encode_iamalive_reply(std::int64_t period_ms) {
  xml::element q{"query", std::string{ns_iamalive}};
  q.add_text("iamalive-period", std::to_string(period_ms));
  return q;
}

std::optional<std::int64_t> decode_iamalive_reply(const xml::element& query) {
  check_query(query, ns_iamalive);
  auto p = query.child("iamalive-period");
  if (!p)
    return std::nullopt;
  auto v = parse_count(p->text, "iamalive-period");
  if (v < 100 || v > 86400000)
    bad("<iamalive-period> must be between 100 and 86400000 ms");
  return v;
}

// --- whoisalive -------------------------------------------------------------

page_request decode_whoisalive(const xml::element& query) {
  check_query(query, ns_whoisalive);
  return read_set(query.child("set"));
}

xml::element encode_whoisalive(const page_request& req) {
  xml::element q{"query", std::string{ns_whoisalive}};
  q.add(write_set(req));
  return q;
}

xml::element encode_whoisalive_reply(const page& p) {
  xml::element q{"query", std::string{ns_whoisalive}};
  for (auto& m : p.items) {
    auto& item = q.add(xml::element{"item", q.ns});
    item.set_attr("id", m.id);
    if (m.cert)
      item.add_text("cert", *m.cert);
  }
  q.add(write_summary(p));
  return q;
}

page decode_whoisalive_reply(const xml::element& query) {
  check_query(query, ns_whoisalive);
  page p;
  for (auto& c : query.children) {
    if (c.name != "item")
      continue;
    if (p.items.size() >= max_page_items)
      bad("more than " + std::to_string(max_page_items) + " items in a page");
    auto id = c.attr("id");
    if (!id)
      bad("<item> without an id");
    check_id(*id);
    p.items.push_back({*id, read_cert(c), 0, 0});
  }
  read_summary(query.child("set"), p);
  return p;
}

// --- synch/whoisalive
// -----------------------------------------------------------

page_request decode_sync(const xml::element& query) {
  check_query(query, ns_sync);
  auto managers = query.child("managers");
  return read_set(managers ? managers->child("set") : nullptr);
}

xml::element encode_sync(const page_request& req) {
  xml::element q{"query", std::string{ns_sync}};
  q.add(xml::element{"managers", q.ns}).add(write_set(req));
  return q;
}

xml::element encode_sync_reply(const page& p) {
  xml::element q{"query", std::string{ns_sync}};
  auto& managers = q.add(xml::element{"managers", q.ns});
  for (auto& m : p.items) {
    auto& item = managers.add(xml::element{"manager", q.ns});
    item.set_attr("id", m.id);
    if (m.cert)
      item.add_text("cert", *m.cert);
    auto& status = item.add(xml::element{"status", q.ns});
    status.add_text("timeout", std::to_string(m.timeout_ms));
    status.add_text("quiet-for", std::to_string(m.quiet_for_ms));
  }
  managers.add(write_summary(p));
  return q;
}

page decode_sync_reply(const xml::element& query) {
  check_query(query, ns_sync);
  page p;
  auto managers = query.child("managers");
  if (!managers)
    bad("sync reply without <managers>");
  for (auto& c : managers->children) {
    if (c.name != "manager")
      continue;
    if (p.items.size() >= max_page_items)
      bad("more than " + std::to_string(max_page_items)
          + " managers in a page");
    auto id = c.attr("id");
    if (!id)
      bad("<manager> without an id");
    check_id(*id);
    member_entry e{*id, read_cert(c), 0, 0};
    auto status = c.child("status");
    if (!status)
      bad("<manager> without <status>");
    auto timeout = status->child("timeout");
    auto quiet = status->child("quiet-for");
    if (!timeout || !quiet)
      bad("<status> needs <timeout> and <quiet-for>");
    e.timeout_ms = parse_count(timeout->text, "timeout");
    e.quiet_for_ms = parse_count(quiet->text, "quiet-for");
    p.items.push_back(std::move(e));
  }
  read_summary(managers->child("set"), p);
  return p;
}

// --- directory
// ----------------------------------------------------------------

void member_directory::heartbeat(const std::string& id,
                                 std::optional<std::string> cert,
                                 std::int64_t now_ms, std::int64_t timeout_ms) {
  auto& e = members_[id];
  e.cert = std::move(cert);
  e.last_ms = now_ms;
  e.timeout_ms = timeout_ms;
  note_deadline(e);
}

void member_directory::note_deadline(const entry& e) {
  earliest_deadline_ = std::min(earliest_deadline_, e.last_ms + e.timeout_ms);
}

bool member_directory::merge(const member_entry& in, std::int64_t now_ms) {
  auto last = now_ms - in.quiet_for_ms;
  auto it = members_.find(in.id);
  if (it != members_.end() && it->second.last_ms > last)
    return false;
  auto& e = members_[in.id];
  e = entry{in.cert, last, in.timeout_ms};
  note_deadline(e);
  return true;
}

std::size_t member_directory::expire(std::int64_t now_ms) {
  // Every whoisalive page calls this; at 10,000 members a scan per page
  // was most of the rendezvous' own CPU.
  if (now_ms <= earliest_deadline_)
    return 0;
  earliest_deadline_ = std::numeric_limits<std::int64_t>::max();
  return std::erase_if(members_, [this, now_ms](const auto& kv) {
    auto deadline = kv.second.last_ms + kv.second.timeout_ms;
    if (deadline < now_ms)
      return true;
    earliest_deadline_ = std::min(earliest_deadline_, deadline);
    return false;
  });
}

page member_directory::page_at(const page_request& req, std::int64_t cap,
                               std::int64_t now_ms) const {
  auto it = members_.begin();
  if (req.after) {
    it = members_.find(*req.after);
    if (it == members_.end())
      throw protocol_error("item-not-found",
                           "no member '" + *req.after + "' to page after");
    ++it;
  }
  auto limit = std::max<std::int64_t>(0, std::min(req.max.value_or(cap), cap));
  page p;
  p.count = static_cast<std::int64_t>(members_.size());
  for (; it != members_.end()
         && static_cast<std::int64_t>(p.items.size()) < limit;
       ++it)
    p.items.push_back({it->first, it->second.cert, it->second.timeout_ms,
                       std::max<std::int64_t>(0, now_ms - it->second.last_ms)});
  if (!p.items.empty()) {
    p.first = p.items.front().id;
    p.last = p.items.back().id;
  }
  return p;
}

} // namespace fogbow::rdv
