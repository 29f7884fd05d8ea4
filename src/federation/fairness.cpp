#include "federation/fairness.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fogbow::fed {

double fairness_of(const member_exchange& b) {
  return b.donated > 0 ? b.consumed / b.donated : -1.0;
}

hill_climber::hill_climber(double delta, double min_threshold,
                           double max_threshold)
    : delta_(delta), min_threshold_(min_threshold),
      max_threshold_(max_threshold) {
  if (!(delta >= 0 && delta <= 1) || !(min_threshold >= 0)
      || !(max_threshold >= min_threshold))
    throw std::invalid_argument(
      "fairness: need 0 <= delta <= 1 and 0 <= min_threshold <= "
      "max_threshold");
}

void hill_climber::step(double fairness, double capacity) {
  last_ = current_;
  current_ = fairness;
  if (cap_ < 0)
    cap_ = capacity;
  if (current_ < 0 || last_ < 0)
    return;
  if (current_ < min_threshold_)
    increasing_ = false;
  else if (current_ > max_threshold_)
    increasing_ = true;
  else if (current_ <= last_)
    increasing_ = !increasing_;
  auto move = delta_ * capacity;
  cap_ =
    increasing_ ? std::min(capacity, cap_ + move) : std::max(0.0, cap_ - move);
}

fairness_capacity::fairness_capacity(fairness_settings s)
    : settings_(std::move(s)), global_(make_climber()) {
  if (settings_.mode != "pairwise" && settings_.mode != "global"
      && settings_.mode != "two-fold")
    throw std::invalid_argument("fairness: unknown mode " + settings_.mode);
}

hill_climber fairness_capacity::make_climber() const {
  return {settings_.delta, settings_.min_threshold, settings_.max_threshold};
}

std::optional<int> fairness_capacity::cap_of(const hill_climber& c) const {
  // Before the first period nothing is known: no cap yet.
  if (c.cap() < 0)
    return std::nullopt;
  return static_cast<int>(std::floor(c.cap()));
}

std::optional<int>
fairness_capacity::max_donated(std::string_view member) const {
  std::lock_guard lock{mutex_};
  if (settings_.mode == "global")
    return cap_of(global_);
  auto it = pairwise_.find(member);
  bool known = it != pairwise_.end() && it->second.fairness() >= 0;
  if (settings_.mode == "pairwise")
    return it == pairwise_.end() ? std::nullopt : cap_of(it->second);
  return known ? cap_of(it->second) : cap_of(global_);
}

void fairness_capacity::update(const exchange_table& balances,
                               int cloud_instances) {
  std::lock_guard lock{mutex_};
  auto capacity = static_cast<double>(std::max(cloud_instances, 0));
  member_exchange total;
  for (auto& [member, b] : balances) {
    total.consumed += b.consumed;
    total.donated += b.donated;
    auto it = pairwise_.find(member);
    if (it == pairwise_.end())
      it = pairwise_.emplace(member, make_climber()).first;
    it->second.step(fairness_of(b), capacity);
  }
  global_.step(fairness_of(total), capacity);
}

} // namespace fogbow::fed
