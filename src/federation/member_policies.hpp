// The federation's policy plugins, plain C++: which member an order is
// forwarded to (member_picker), which members this one serves and forwards
// to (member_validator), and how many instances a member may hold here
// (capacity_controller). The Java Fogbow's FederationMemberPickerPlugin,
// FederationMemberAuthorizationPlugin and CapacityControllerPlugin.
// Members are named by their id, the bare JID of their XMPP account.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow::fed {

/// Chooses the member an order is forwarded to. Not thread-safe (one actor
/// owns it).
class member_picker {
public:
  virtual ~member_picker() = default;
  /// `candidates`: alive members other than this one that may receive the
  /// order (already filtered). nullopt when empty.
  virtual std::optional<std::string>
  pick(const std::vector<std::string>& candidates) = 0;
};

/// "round-robin": candidates sorted lexicographically (byte order), the
/// first one after the last returned id (wraps); new candidates join in
/// order, and a last id that has left the candidates still marks the place.
std::unique_ptr<member_picker> make_round_robin_picker();

/// Which members this one deals with. Thread-safe (immutable).
class member_validator {
public:
  virtual ~member_validator() = default;
  /// May this member's orders be served here?
  virtual bool can_donate_to(std::string_view member) const = 0;
  /// May this member's orders be forwarded to `member`?
  virtual bool can_receive_from(std::string_view member) const = 0;
};

/// "accept-any": every member, both ways.
std::shared_ptr<const member_validator> make_accept_any_validator();
/// "whitelist": serves only the members in `donate_to`, forwards only to
/// those in `receive_from` (exact bare JIDs).
std::shared_ptr<const member_validator>
make_whitelist_validator(std::set<std::string, std::less<>> donate_to,
                         std::set<std::string, std::less<>> receive_from);

/// What this member and another one exchanged, in vCPU·minutes.
struct member_exchange {
  double consumed = 0; ///< used by our users on that member's cloud
  double donated = 0;  ///< used by its users on our cloud
  /// consumed − donated: what we owe it (negative: it owes us).
  double balance() const { return consumed - donated; }
  friend bool operator==(const member_exchange&,
                         const member_exchange&) = default;
};

/// Member id → exchange; members without any usage are absent.
using exchange_table = std::map<std::string, member_exchange, std::less<>>;

/// How many instances each member may hold here. Thread-safe.
class capacity_controller {
public:
  virtual ~capacity_controller() = default;
  /// Most instances this member may hold here at once; nullopt = unlimited.
  virtual std::optional<int> max_donated(std::string_view member) const = 0;
  /// A new accounting period: what passed between us and each member so
  /// far, and the cloud's size in instances. Controllers that do not learn
  /// ignore it.
  virtual void update(const exchange_table& /*balances*/,
                      int /*cloud_instances*/) {}
};

/// "unlimited": no cap (the Java default, SatisfactionDriven, did the same).
std::shared_ptr<capacity_controller> make_unlimited_capacity();
/// "fixed": the cap in `per_member`, `default_cap` for members not listed.
std::shared_ptr<capacity_controller>
make_fixed_capacity(std::map<std::string, int, std::less<>> per_member,
                    int default_cap);

} // namespace fogbow::fed
