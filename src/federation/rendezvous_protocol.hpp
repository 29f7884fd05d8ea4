// The rendezvous protocol of the Java Fogbow (iamalive, whoisalive, synch/
// whoisalive) as plain C++: payload codecs over xml::element and the member
// directory with expiry, RSM paging and last-heartbeat-wins merging.
// Differences from the Java one are listed in docs/protocol.md.
//
// Decoders take untrusted input: anything malformed throws protocol_error
// with the XMPP error condition to answer with; nothing else is thrown.
#pragma once

#include "federation/xml.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow::rdv {

inline constexpr std::string_view ns_iamalive =
  "http://fogbowcloud.org/rendezvous/iamalive";
inline constexpr std::string_view ns_whoisalive =
  "http://fogbowcloud.org/rendezvous/whoisalive";
inline constexpr std::string_view ns_sync =
  "http://fogbowcloud.org/rendezvous/synch/whoisalive";
inline constexpr std::string_view ns_rsm = "http://jabber.org/protocol/rsm";

/// Longest member id (a JID: RFC 7622 allows 3 × 1023 bytes).
inline constexpr std::size_t max_id_bytes = 3071;
/// Longest certificate text kept per member.
inline constexpr std::size_t max_cert_bytes = 16384;
/// Most items a decoded reply page may hold.
inline constexpr std::size_t max_page_items = 10000;

/// A malformed or refused request; `condition` is the XMPP stanza error
/// condition (RFC 6120 §8.3.3), e.g. "bad-request", "item-not-found",
/// "not-authorized".
class protocol_error : public std::runtime_error {
public:
  protocol_error(std::string condition, const std::string& text)
      : std::runtime_error(text), condition_(std::move(condition)) {}
  const std::string& condition() const noexcept { return condition_; }

private:
  std::string condition_;
};

/// RSM paging request (`<set><max/><after/></set>`).
struct page_request {
  std::optional<std::int64_t> max; ///< absent: the server's page cap
  std::optional<std::string> after;
  friend bool operator==(const page_request&, const page_request&) = default;
};

/// One member as listed by whoisalive (id, cert) or sync (all fields).
struct member_entry {
  std::string id;
  std::optional<std::string> cert;
  std::int64_t timeout_ms = 0;   ///< sync only
  std::int64_t quiet_for_ms = 0; ///< sync only: time since last heartbeat
  friend bool operator==(const member_entry&, const member_entry&) = default;
};

/// One page of members plus the RSM summary.
struct page {
  std::vector<member_entry> items;
  std::optional<std::string> first, last;
  std::int64_t count = 0; ///< total members (XEP-0059), not the page size
  friend bool operator==(const page&, const page&) = default;
};

// --- iamalive ---------------------------------------------------------------
/// Decodes a heartbeat query; returns the optional certificate.
std::optional<std::string> decode_iamalive(const xml::element& query);
xml::element encode_iamalive(const std::optional<std::string>& cert = {});
xml::element encode_iamalive_reply(std::int64_t period_ms);
/// The period the rendezvous asks for, if it names one.
std::optional<std::int64_t> decode_iamalive_reply(const xml::element& query);

// --- whoisalive -------------------------------------------------------------
page_request decode_whoisalive(const xml::element& query);
xml::element encode_whoisalive(const page_request& req);
xml::element encode_whoisalive_reply(const page& p);
page decode_whoisalive_reply(const xml::element& query);

// --- synch/whoisalive (neighbour sync)
// ----------------------------------------
page_request decode_sync(const xml::element& query);
xml::element encode_sync(const page_request& req);
xml::element encode_sync_reply(const page& p);
page decode_sync_reply(const xml::element& query);

/// The member directory of a rendezvous. Ids sort by byte order, which is
/// Java's String order for the ASCII ids JIDs use.
class member_directory {
public:
  struct entry {
    std::optional<std::string> cert;
    std::int64_t last_ms = 0;    ///< local time of the last heartbeat
    std::int64_t timeout_ms = 0; ///< dropped when last + timeout < now
  };

  /// Inserts or refreshes a member that just sent a heartbeat.
  void heartbeat(const std::string& id, std::optional<std::string> cert,
                 std::int64_t now_ms, std::int64_t timeout_ms);

  /// Merges an entry learned from a neighbour (its age is relative:
  /// last = now − quiet_for). A local entry with a more recent heartbeat
  /// wins; otherwise the incoming one replaces it. Returns true if taken.
  bool merge(const member_entry& e, std::int64_t now_ms);

  /// Drops members whose last heartbeat is older than their timeout;
  /// returns how many. Cheap (no scan) while no member can have expired.
  std::size_t expire(std::int64_t now_ms);

  /// One page in id order: at most min(req.max, cap) members after
  /// `req.after`. Throws protocol_error("item-not-found") when `after`
  /// names no member. Entries carry timeout and quiet-for.
  page page_at(const page_request& req, std::int64_t cap,
               std::int64_t now_ms) const;

  std::size_t size() const { return members_.size(); }
  const std::map<std::string, entry>& members() const { return members_; }

private:
  void note_deadline(const entry& e);

  std::map<std::string, entry> members_;
  /// No member expires before this (a lower bound: heartbeats only push
  /// deadlines later), so that listing pages need not scan every member.
  std::int64_t earliest_deadline_ = std::numeric_limits<std::int64_t>::max();
};

} // namespace fogbow::rdv
