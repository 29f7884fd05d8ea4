#include "federation/member_policies.hpp"

#include <algorithm>

namespace fogbow::fed {

namespace {

class round_robin_picker final : public member_picker {
public:
  std::optional<std::string>
  pick(const std::vector<std::string>& candidates) override {
    if (candidates.empty())
      return std::nullopt;
    // The smallest candidate after the last pick, else the smallest of all:
    // no sorting or state beyond the last id, so membership may change
    // freely between picks.
    const std::string* after = nullptr;
    const std::string* first = nullptr;
    for (auto& c : candidates) {
      if (!first || c < *first)
        first = &c;
      if (last_ && c > *last_ && (!after || c < *after))
        after = &c;
    }
    last_ = after ? *after : *first;
    return last_;
  }

private:
  std::optional<std::string> last_;
};

class accept_any final : public member_validator {
public:
  bool can_donate_to(std::string_view) const override { return true; }
  bool can_receive_from(std::string_view) const override { return true; }
};

class whitelist final : public member_validator {
public:
  whitelist(std::set<std::string, std::less<>> donate_to,
            std::set<std::string, std::less<>> receive_from)
      : donate_to_(std::move(donate_to)),
        receive_from_(std::move(receive_from)) {}
  bool can_donate_to(std::string_view member) const override {
    return donate_to_.contains(member);
  }
  bool can_receive_from(std::string_view member) const override {
    return receive_from_.contains(member);
  }

private:
  std::set<std::string, std::less<>> donate_to_;
  std::set<std::string, std::less<>> receive_from_;
};

class unlimited final : public capacity_controller {
public:
  std::optional<int> max_donated(std::string_view) const override {
    return std::nullopt;
  }
};

class fixed final : public capacity_controller {
public:
  fixed(std::map<std::string, int, std::less<>> per_member, int default_cap)
      : per_member_(std::move(per_member)), default_cap_(default_cap) {}
  std::optional<int> max_donated(std::string_view member) const override {
    auto it = per_member_.find(member);
    return it == per_member_.end() ? default_cap_ : it->second;
  }

private:
  std::map<std::string, int, std::less<>> per_member_;
  int default_cap_;
};

} // namespace

std::unique_ptr<member_picker> make_round_robin_picker() {
  return std::make_unique<round_robin_picker>();
}

std::shared_ptr<const member_validator> make_accept_any_validator() {
  return std::make_shared<accept_any>();
}

std::shared_ptr<const member_validator>
make_whitelist_validator(std::set<std::string, std::less<>> donate_to,
                         std::set<std::string, std::less<>> receive_from) {
  return std::make_shared<whitelist>(std::move(donate_to),
                                     std::move(receive_from));
}

std::shared_ptr<capacity_controller> make_unlimited_capacity() {
  return std::make_shared<unlimited>();
}

std::shared_ptr<capacity_controller>
make_fixed_capacity(std::map<std::string, int, std::less<>> per_member,
                    int default_cap) {
  return std::make_shared<fixed>(std::move(per_member), default_cap);
}

} // namespace fogbow::fed
