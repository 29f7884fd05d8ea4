// Prioritization plugins, plain C++: when the cloud is full, which running
// instance (if any) a new order takes the place of. The Java Fogbow's
// PrioritizationPlugin (FCFS, NoF, TwoFold), written from its rules:
//   fcfs      never preempts;
//   nof       preempts for the member we owe most: the Network of Favors;
//   two-fold  one plugin over served instances, then one over local ones.
// Members are named by their id, the bare JID of their XMPP account; an
// empty requester is this member itself (a local order).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fogbow::fed {

/// A running instance that could be preempted.
struct running_order {
  std::string order_id;
  std::string requester;     ///< empty: a local order
  std::int64_t fulfilled_at; ///< ms since the epoch
};

/// What this member owes each other member (consumed from it − donated to
/// it, after the Network of Favors' adjustments). Members missing from the
/// table owe nothing and are owed nothing (0).
using debt_table = std::map<std::string, double, std::less<>>;

/// Chooses the instance a new order preempts. Not thread-safe (one actor
/// owns it).
class prioritizer {
public:
  virtual ~prioritizer() = default;
  /// The order id to preempt for a new order of `requester` (empty: local),
  /// among `running` (the candidates the caller allows); nullopt: none.
  virtual std::optional<std::string>
  take_from(const std::string& requester,
            const std::vector<running_order>& running,
            const debt_table& debts) const = 0;
};

/// "fcfs": first come, first served; never preempts.
std::unique_ptr<prioritizer> make_fcfs_prioritizer();

/// "nof": among the requesters of the served candidates, the one we owe
/// least; when we owe it strictly less than the new order's requester, its
/// most recently fulfilled instance is preempted. A local order counts as
/// owed +infinity with `prioritize_local` (it preempts any served
/// instance), else −1 (it preempts none). Local candidates are never chosen.
std::unique_ptr<prioritizer> make_nof_prioritizer(bool prioritize_local);

/// "two-fold": `remote` decides over the served candidates; when it takes
/// none, `local` decides over the local ones.
std::unique_ptr<prioritizer>
make_two_fold_prioritizer(std::unique_ptr<prioritizer> local,
                          std::unique_ptr<prioritizer> remote);

/// The plugin called `name` ("fcfs" or "nof"); nullptr for other names.
std::unique_ptr<prioritizer> make_prioritizer(const std::string& name,
                                              bool prioritize_local);

} // namespace fogbow::fed
