// The fairness-driven capacity controller, plain C++: how many instances
// this member lets each other member hold here, adjusted by hill climbing
// so that what we get back from the federation keeps pace with what we
// give. After the Java Fogbow's FairnessDriven controllers (Global,
// Pairwise, TwoFold) and the Network of Favors papers:
//
//   fairness   = consumed ÷ donated (what we got from a member over what we
//                gave it; unknown while we gave nothing);
//   each step  below `min_threshold`: shrink the cap; above
//              `max_threshold`: grow it; in between, keep the direction
//              while fairness improves, reverse it when it does not;
//              the cap moves by `delta` × the cloud's capacity, within
//              [0, capacity]; while fairness is unknown it does not move
//              (a newcomer starts with the whole cloud).
#pragma once

#include "federation/member_policies.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace fogbow::fed {

/// consumed ÷ donated; −1 (unknown) when nothing was donated.
double fairness_of(const member_exchange& b);

/// One hill climber: the cap of one member (pairwise) or of all (global).
class hill_climber {
public:
  hill_climber(double delta, double min_threshold, double max_threshold);
  /// One period: `fairness` is this period's value (−1 unknown),
  /// `capacity` the cloud's size in instances.
  void step(double fairness, double capacity);
  /// The current cap; −1 before the first step.
  double cap() const { return cap_; }
  double fairness() const { return current_; }

private:
  double delta_, min_threshold_, max_threshold_;
  double cap_ = -1, current_ = -1, last_ = -1;
  bool increasing_ = false;
};

struct fairness_settings {
  std::string mode = "two-fold"; ///< pairwise | global | two-fold
  double delta = 0.05;           ///< 0..1, share of the cloud per step
  double min_threshold = 0.75;   ///< ≥ 0
  double max_threshold = 0.95;   ///< ≥ min_threshold
};

/// "fairness": pairwise (a climber per member, on what passed between us
/// and it), global (one climber on the totals, the same cap for all), or
/// two-fold (pairwise once a member's fairness is known, global before).
/// Thread-safe: the federation server reads caps while the accounting's
/// period updates them.
class fairness_capacity final : public capacity_controller {
public:
  explicit fairness_capacity(fairness_settings s);
  std::optional<int> max_donated(std::string_view member) const override;
  void update(const exchange_table& balances, int cloud_instances) override;

private:
  hill_climber make_climber() const;
  std::optional<int> cap_of(const hill_climber& c) const;

  fairness_settings settings_;
  mutable std::mutex mutex_;
  std::map<std::string, hill_climber, std::less<>> pairwise_;
  hill_climber global_;
};

} // namespace fogbow::fed
