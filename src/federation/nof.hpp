// The Network of Favors, plain C++: what each member gave this one and got
// from it (from the accounting), the debt formula of the Java Fogbow's
// NoFPrioritizationPlugin, and the `nof` member picker. Members are named by
// their id (bare JID). The amount NoF weighs is vCPU·minutes.
#pragma once

#include "domain/usage.hpp"
#include "federation/member_policies.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow::fed {

// The rows of the accounting (domain/usage.hpp), here by their short names.
using ::fogbow::usage_amount;
using ::fogbow::usage_record;

// member_exchange and exchange_table: federation/member_policies.hpp.

/// Sums `usage` per other member, seen from member `self`: rows requested
/// by `self` and provided by m count as consumed from m, rows provided by
/// `self` and requested by m as donated to m. Local rows (and rows that do
/// not involve `self`) are left out.
exchange_table exchanges_of(const std::vector<usage_record>& usage,
                            std::string_view self);

/// The switches of the reference's NoF.
struct nof_settings {
  /// false (the reference's default): a member's credit is never below
  /// zero (what it owes us is forgotten, as a newcomer's would be: ids are
  /// cheap), and each member gets √donated on top.
  bool trustworthy = false;
  /// true: this member's own (local) orders rank above every other
  /// member's; false: below all of them.
  bool prioritize_local = true;
};

/// The NoF debt of this member towards another one, the reference formula:
/// d = consumed − donated; untrustworthy: d = max(0, d + √donated).
/// Higher: that member has done more for us and is served first.
double nof_debt(const member_exchange& x, const nof_settings& s);

/// The credit of `member` at member `self`: nof_debt of its exchange in
/// `table` (a member with no history has consumed = donated = 0, so 0);
/// for `member == self`, +∞ if s.prioritize_local else −1 (as in the
/// reference). Higher credit: served first when capacity is short.
/// Pure and thread-safe; the prioritization plugins and GET /v1/members
/// call it with a table from exchanges_of() or an exchange_board.
double member_credit(const exchange_table& table, std::string_view self,
                     std::string_view member, const nof_settings& s);

/// The latest exchange table, shared between the accounting actor (the
/// only writer) and the policies that read it from other actors. Readers
/// get a copy, so they never see a half-written table. Thread-safe.
class exchange_board {
public:
  void publish(exchange_table t);
  exchange_table snapshot() const;

private:
  mutable std::mutex mtx_;
  exchange_table table_;
};

/// "nof": the candidate that owes us most, i.e. with the lowest balance
/// (consumed − donated) in `board`; ties (e.g. members with no history,
/// balance 0) are broken round-robin among the tied candidates, as
/// make_round_robin_picker() does. Uses the raw balance whatever
/// nof_trustworthy says: that switch only protects what we grant, while
/// here we choose whom to ask, and a member that owes us is the one to ask.
std::unique_ptr<member_picker>
make_nof_picker(std::shared_ptr<const exchange_board> board);

} // namespace fogbow::fed
