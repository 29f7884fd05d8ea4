// Durable accounting of a manager in its own SQLite file: usage totals per
// (user, requesting member, providing member) and, for every instance being
// accounted, the time up to which it has been counted. Both change in one
// transaction, so after a crash every instance resumes exactly where its
// totals stopped: nothing is counted twice or lost. Plain C++ (no CAF); the
// accounting actor (actors/accounting.hpp) is its only user.
#pragma once

#include "domain/order.hpp"
#include "domain/usage.hpp"
#include "store/order_store.hpp"

#include <memory>
#include <string>
#include <vector>

struct sqlite3;

namespace fogbow {

/// An instance whose use is being counted: who uses it, where, how big it
/// is, and the time its use has been added to the totals up to.
struct accounted_instance {
  std::string order_id; ///< key: one instance per order at a time
  std::string instance_id;
  std::string user;
  std::string requesting;
  std::string providing;
  int vcpu = 0;
  int memory_mb = 0;
  int volume_gb = 0;
  millis accounted_until = 0;
  friend bool operator==(const accounted_instance&,
                         const accounted_instance&) = default;
};

/// One transaction's worth of changes.
struct usage_commit {
  std::vector<usage_record> added;         ///< added to the totals
  std::vector<accounted_instance> counted; ///< inserted or replaced
  std::vector<std::string> ended;          ///< order ids no longer counted
};

/// Owns one SQLite connection (WAL, synchronous=NORMAL: a commit survives
/// kill -9). Not thread-safe. Every method throws store_error when SQLite
/// fails; a failed commit() changes nothing.
class usage_store {
public:
  /// Opens (creating if needed) the file at `path`; ":memory:" works.
  static usage_store open(const std::string& path);

  usage_store(usage_store&&) noexcept;
  usage_store& operator=(usage_store&&) noexcept;
  ~usage_store();

  /// Every total, ordered by (user, requesting, providing).
  std::vector<usage_record> totals() const;
  /// Every instance being counted, ordered by order id.
  std::vector<accounted_instance> counted() const;
  /// Applies `c` in one transaction: all of it or nothing.
  void commit(const usage_commit& c);

private:
  struct db_closer {
    void operator()(sqlite3* db) const;
  };
  using db_ptr = std::unique_ptr<sqlite3, db_closer>;
  explicit usage_store(db_ptr db);
  db_ptr db_;
};

} // namespace fogbow
