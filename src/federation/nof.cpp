#include "federation/nof.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fogbow::fed {

exchange_table exchanges_of(const std::vector<usage_record>& usage,
                            std::string_view self) {
  exchange_table out;
  for (auto& r : usage) {
    if (r.requesting == r.providing)
      continue;
    if (r.requesting == self)
      out[r.providing].consumed += r.amount.vcpu_minutes;
    else if (r.providing == self)
      out[r.requesting].donated += r.amount.vcpu_minutes;
  }
  return out;
}

double nof_debt(const member_exchange& x, const nof_settings& s) {
  auto debt = x.consumed - x.donated;
  if (!s.trustworthy)
    debt = std::max(0.0, debt + std::sqrt(std::max(0.0, x.donated)));
  return debt;
}

double member_credit(const exchange_table& table, std::string_view self,
                     std::string_view member, const nof_settings& s) {
  if (member == self)
    return s.prioritize_local ? std::numeric_limits<double>::infinity() : -1.0;
  auto it = table.find(member);
  return nof_debt(it == table.end() ? member_exchange{} : it->second, s);
}

void exchange_board::publish(exchange_table t) {
  std::lock_guard guard{mtx_};
  table_ = std::move(t);
}

exchange_table exchange_board::snapshot() const {
  std::lock_guard guard{mtx_};
  return table_;
}

namespace {

class nof_picker final : public member_picker {
public:
  explicit nof_picker(std::shared_ptr<const exchange_board> board)
      : board_(std::move(board)), tie_breaker_(make_round_robin_picker()) {}

  std::optional<std::string>
  pick(const std::vector<std::string>& candidates) override {
    if (candidates.empty())
      return std::nullopt;
    auto table = board_ ? board_->snapshot() : exchange_table{};
    auto balance = [&](const std::string& m) {
      auto it = table.find(m);
      return it == table.end() ? 0.0 : it->second.balance();
    };
    auto lowest = balance(candidates.front());
    for (auto& c : candidates)
      lowest = std::min(lowest, balance(c));
    std::vector<std::string> tied;
    for (auto& c : candidates)
      if (balance(c) == lowest)
        tied.push_back(c);
    return tie_breaker_->pick(tied);
  }

private:
  std::shared_ptr<const exchange_board> board_;
  std::unique_ptr<member_picker> tie_breaker_;
};

} // namespace

std::unique_ptr<member_picker>
make_nof_picker(std::shared_ptr<const exchange_board> board) {
  return std::make_unique<nof_picker>(std::move(board));
}

} // namespace fogbow::fed
