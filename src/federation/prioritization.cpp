#include "federation/prioritization.hpp"

#include <limits>
#include <utility>

namespace fogbow::fed {

namespace {

class fcfs final : public prioritizer {
public:
  std::optional<std::string> take_from(const std::string&,
                                       const std::vector<running_order>&,
                                       const debt_table&) const override {
    return std::nullopt;
  }
};

double debt_to(const debt_table& debts, const std::string& member) {
  auto it = debts.find(member);
  return it == debts.end() ? 0.0 : it->second;
}

class nof final : public prioritizer {
public:
  explicit nof(bool prioritize_local) : prioritize_local_(prioritize_local) {}

  std::optional<std::string>
  take_from(const std::string& requester,
            const std::vector<running_order>& running,
            const debt_table& debts) const override {
    // The served requester we owe least (ties: the smallest id, so the
    // choice does not depend on the order of `running`).
    const std::string* least = nullptr;
    double least_debt = 0;
    for (auto& r : running) {
      if (r.requester.empty())
        continue;
      auto d = debt_to(debts, r.requester);
      if (!least || d < least_debt
          || (d == least_debt && r.requester < *least)) {
        least = &r.requester;
        least_debt = d;
      }
    }
    if (!least || !(least_debt < owed_to_new(requester, debts)))
      return std::nullopt;
    const running_order* newest = nullptr;
    for (auto& r : running)
      if (r.requester == *least
          && (!newest || r.fulfilled_at > newest->fulfilled_at
              || (r.fulfilled_at == newest->fulfilled_at
                  && r.order_id > newest->order_id)))
        newest = &r;
    return newest->order_id;
  }

private:
  double owed_to_new(const std::string& requester,
                     const debt_table& debts) const {
    if (!requester.empty())
      return debt_to(debts, requester);
    return prioritize_local_ ? std::numeric_limits<double>::infinity() : -1.0;
  }

  bool prioritize_local_;
};

class two_fold final : public prioritizer {
public:
  two_fold(std::unique_ptr<prioritizer> local,
           std::unique_ptr<prioritizer> remote)
      : local_(std::move(local)), remote_(std::move(remote)) {}

  std::optional<std::string>
  take_from(const std::string& requester,
            const std::vector<running_order>& running,
            const debt_table& debts) const override {
    std::vector<running_order> served, own;
    for (auto& r : running)
      (r.requester.empty() ? own : served).push_back(r);
    if (auto victim = remote_->take_from(requester, served, debts))
      return victim;
    return local_->take_from(requester, own, debts);
  }

private:
  std::unique_ptr<prioritizer> local_;
  std::unique_ptr<prioritizer> remote_;
};

} // namespace

std::unique_ptr<prioritizer> make_fcfs_prioritizer() {
  return std::make_unique<fcfs>();
}

std::unique_ptr<prioritizer> make_nof_prioritizer(bool prioritize_local) {
  return std::make_unique<nof>(prioritize_local);
}

std::unique_ptr<prioritizer>
make_two_fold_prioritizer(std::unique_ptr<prioritizer> local,
                          std::unique_ptr<prioritizer> remote) {
  return std::make_unique<two_fold>(std::move(local), std::move(remote));
}

std::unique_ptr<prioritizer> make_prioritizer(const std::string& name,
                                              bool prioritize_local) {
  if (name == "fcfs")
    return make_fcfs_prioritizer();
  if (name == "nof")
    return make_nof_prioritizer(prioritize_local);
  return nullptr;
}

} // namespace fogbow::fed
