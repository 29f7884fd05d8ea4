// bench/nof: a simulation of the Network of Favors, driven through the
// project's own plugins (federation/prioritization.hpp for who preempts
// whom, the NoF debt of federation/nof.hpp, the member pickers of
// federation/member_policies.hpp). It answers the papers' question: under
// contention, do members that donate get more of the federation than
// free-riders, and without contention is anybody penalised?
//
// The model (one period = one unit of time; an instance lives one period):
// every member has a cloud of `capacity` slots. Each period a member is
// either consuming (with its profile's probability: it fills its own cloud
// and asks the federation for `extra` more instances) or idle (its whole
// cloud is offered to the others; a free-rider offers nothing). Requests
// arrive in random order; a requester's picker chooses among the idle
// donors it has not tried yet; a donor with a free slot serves, a full one
// asks its prioritizer which running served instance (if any) the request
// takes the place of (the preempted request tries again elsewhere). Every
// instance served adds one to the donor's "donated" and the requester's
// "consumed" in their own ledgers, from which each member computes its
// debts as the manager does.
//
// Usage: nof_sim [--periods 400] [--seed 7]
#include "federation/member_policies.hpp"
#include "federation/nof.hpp"
#include "federation/prioritization.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace fogbow;

struct profile {
  const char* name;
  double consume_probability;
  bool donates;
};

// Collaborators consume half the time; heavy collaborators more often;
// free-riders as often as collaborators but never donate.
const std::vector<profile> profiles = {
  {"collaborator", 0.5, true},
  {"heavy collaborator", 0.75, true},
  {"free-rider", 0.5, false},
};

struct scenario {
  const char* name;
  int extra; ///< instances a consuming member asks of the federation
};

struct member {
  std::string id;
  std::size_t profile = 0;
  fed::exchange_table ledger; ///< by other member: consumed from, donated to
  std::shared_ptr<fed::exchange_board> board =
    std::make_shared<fed::exchange_board>();
  std::unique_ptr<fed::member_picker> picker;
};

struct placement {
  std::size_t requester;
  std::int64_t seq; ///< when it was placed: the prioritizer's "newest"
};

struct request {
  std::size_t requester;
  std::vector<std::string> tried;
};

struct tally {
  double asked = 0, served = 0;
};

class simulation {
public:
  simulation(int n, scenario sc, bool nof, unsigned seed)
      : scenario_(sc), rng_(seed),
        prioritizer_(
          nof ? fed::make_two_fold_prioritizer(fed::make_fcfs_prioritizer(),
                                               fed::make_nof_prioritizer(true))
              : fed::make_fcfs_prioritizer()) {
    for (int i = 0; i < n; ++i) {
      member m;
      m.id = "m" + std::to_string(1000 + i) + "@sim";
      // Shares of 50 %, 25 % and 25 % of the members.
      m.profile = i % 4 < 2 ? 0 : (i % 4 == 2 ? 1 : 2);
      m.picker =
        nof ? fed::make_nof_picker(m.board) : fed::make_round_robin_picker();
      members_.push_back(std::move(m));
    }
  }

  void run(int periods, int warmup) {
    for (int t = 0; t < periods; ++t)
      period(t >= warmup);
  }

  const std::vector<tally>& by_profile() const { return tallies_; }

private:
  static constexpr int capacity = 10;

  void period(bool counted) {
    std::vector<bool> consuming(members_.size());
    std::map<std::string, std::size_t> donors; // id -> index
    std::deque<request> queue;
    for (auto& m : members_)
      m.board->publish(m.ledger); // what each one's accounting knows now
    for (std::size_t i = 0; i < members_.size(); ++i) {
      auto& p = profiles[members_[i].profile];
      consuming[i] = std::bernoulli_distribution(p.consume_probability)(rng_);
      if (consuming[i])
        for (int k = 0; k < scenario_.extra; ++k)
          queue.push_back({i, {}});
      else if (p.donates)
        donors.emplace(members_[i].id, i);
    }
    std::shuffle(queue.begin(), queue.end(), rng_);
    if (counted)
      for (auto& r : queue)
        tallies_[members_[r.requester].profile].asked += 1;
    std::map<std::size_t, std::vector<placement>> running; // by donor
    std::int64_t seq = 0;
    while (!queue.empty()) {
      auto r = std::move(queue.front());
      queue.pop_front();
      if (auto displaced = place(r, donors, running, seq))
        queue.push_back(std::move(*displaced));
    }
    for (auto& [donor, placed] : running)
      for (auto& pl : placed) {
        members_[donor].ledger[members_[pl.requester].id].donated += 1;
        members_[pl.requester].ledger[members_[donor].id].consumed += 1;
        if (counted)
          tallies_[members_[pl.requester].profile].served += 1;
      }
  }

  /// Places one request at a donor its picker chooses; returns the request
  /// it preempted (to be placed again), if any.
  std::optional<request>
  place(request& r, const std::map<std::string, std::size_t>& donors,
        std::map<std::size_t, std::vector<placement>>& running,
        std::int64_t& seq) {
    auto& asker = members_[r.requester];
    while (true) {
      std::vector<std::string> candidates;
      for (auto& [id, index] : donors)
        if (std::find(r.tried.begin(), r.tried.end(), id) == r.tried.end())
          candidates.push_back(id);
      auto pick = asker.picker->pick(candidates);
      if (!pick)
        return std::nullopt; // nobody left: unserved this period
      r.tried.push_back(*pick);
      auto donor = donors.at(*pick);
      auto& placed = running[donor];
      if (static_cast<int>(placed.size()) < capacity) {
        placed.push_back({r.requester, ++seq});
        return std::nullopt;
      }
      if (auto victim = preempt(donor, r.requester, placed)) {
        auto displaced = placed[*victim].requester;
        placed[*victim] = {r.requester, ++seq};
        return request{displaced, {*pick}};
      }
    }
  }

  std::optional<std::size_t> preempt(std::size_t donor, std::size_t requester,
                                     const std::vector<placement>& placed) {
    std::vector<fed::running_order> candidates;
    for (std::size_t k = 0; k < placed.size(); ++k)
      candidates.push_back(
        {std::to_string(k), members_[placed[k].requester].id, placed[k].seq});
    auto victim = prioritizer_->take_from(members_[requester].id, candidates,
                                          debts_of(members_[donor]));
    if (!victim)
      return std::nullopt;
    return static_cast<std::size_t>(std::stoul(*victim));
  }

  static fed::debt_table debts_of(const member& m) {
    fed::debt_table out;
    for (auto& [id, x] : m.ledger)
      out.emplace(id, fed::nof_debt(x, fed::nof_settings{}));
    return out;
  }

  scenario scenario_;
  std::mt19937 rng_;
  std::unique_ptr<fed::prioritizer> prioritizer_;
  std::vector<member> members_;
  std::vector<tally> tallies_ = std::vector<tally>(profiles.size());
};

} // namespace

int main(int argc, char** argv) {
  int periods = 400;
  unsigned seed = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--periods")
      periods = std::atoi(argv[i + 1]);
    else if (flag == "--seed")
      seed = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: nof_sim [--periods N] [--seed S]\n");
      return 2;
    }
  }
  const std::vector<scenario> scenarios = {
    {"contention (ask 20 beyond own cloud)", 20},
    {"no contention (ask 2 beyond own cloud)", 2},
  };
  std::printf("Share of the demand beyond each member's own cloud that the "
              "federation served,\n%d periods (first %d not counted), "
              "seed %u; members: 50%% collaborators, 25%% heavy "
              "collaborators, 25%% free-riders.\n\n",
              periods, periods / 10, seed);
  std::printf("| scenario | N | policy |");
  for (auto& p : profiles)
    std::printf(" %s |", p.name);
  std::printf(" free-rider / collaborator |\n|---|---|---|");
  for (std::size_t i = 0; i < profiles.size(); ++i)
    std::printf("---|");
  std::printf("---|\n");
  for (auto& sc : scenarios)
    for (int n : {20, 50, 100})
      for (bool nof : {false, true}) {
        simulation sim{n, sc, nof, seed};
        sim.run(periods, periods / 10);
        auto& t = sim.by_profile();
        std::printf("| %s | %d | %s |", sc.name, n, nof ? "nof" : "fcfs");
        std::vector<double> share;
        for (auto& x : t) {
          share.push_back(x.asked > 0 ? x.served / x.asked : 0);
          std::printf(" %.1f %% |", 100 * share.back());
        }
        std::printf(" %.2f |\n", share[0] > 0 ? share[2] / share[0] : 0);
      }
  return 0;
}
