// What the accounting counts: resources used over time, per (user,
// requesting member, providing member). Plain values shared by the usage
// store, the accounting actor and the Network of Favors (federation/nof.hpp).
#pragma once

#include <string>

namespace fogbow {

/// Resources used over time.
struct usage_amount {
  double vcpu_minutes = 0;
  double memory_mb_minutes = 0;
  double volume_gb_minutes = 0;

  usage_amount& operator+=(const usage_amount& x) {
    vcpu_minutes += x.vcpu_minutes;
    memory_mb_minutes += x.memory_mb_minutes;
    volume_gb_minutes += x.volume_gb_minutes;
    return *this;
  }
  friend bool operator==(const usage_amount&, const usage_amount&) = default;
};

/// One row of the accounting: what `user` of member `requesting` used of
/// member `providing`'s cloud. requesting == providing: a local order.
struct usage_record {
  std::string user;
  std::string requesting;
  std::string providing;
  usage_amount amount;
  friend bool operator==(const usage_record&, const usage_record&) = default;
};

} // namespace fogbow
