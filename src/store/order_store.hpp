// Durable storage of a manager's orders in one SQLite file. Plain C++ (no
// CAF), so it can be tested and benchmarked without an actor system; the
// store actor (actors/store.hpp) is its only user in a running manager.
#pragma once

#include "domain/order.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace fogbow {

/// Any failure of the store: SQLite errors (with SQLite's message), a
/// database newer than this build, or a corrupted row.
class store_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Owns one SQLite connection. Not thread-safe: one owner at a time.
///
/// Settings: WAL journal, synchronous=NORMAL (a committed transaction
/// survives a crash of the process, kill -9 included; only a power loss may
/// roll back the last commits), foreign_keys=ON, busy timeout 5 s.
class order_store {
public:
  /// The schema version this build creates and understands.
  static constexpr int latest_version = 4;

  /// Opens (creating if needed) the database at `path` and migrates it to
  /// `latest_version`, one transaction per migration step. `":memory:"`
  /// gives a private in-memory database. Throws store_error when the file
  /// cannot be opened, is not a database, or has a schema version newer than
  /// `latest_version` (it is never downgraded).
  static order_store open(const std::string& path);

  order_store(order_store&&) noexcept;
  order_store& operator=(order_store&&) noexcept;
  ~order_store();

  /// Inserts or replaces (by id) all of `orders` in one transaction: either
  /// all are stored or, on a store_error, none.
  void put(const std::vector<order>& orders);

  /// Removes the order with this id; no error if there is none.
  void erase(const std::string& id);

  /// Every order, oldest first (by created_at, then id). Throws store_error
  /// naming the row and column when a row holds an unknown enum value.
  std::vector<order> load_all();

  /// The schema version of the open database (`PRAGMA user_version`).
  int schema_version() const { return version_; }

private:
  struct db_closer {
    void operator()(sqlite3* db) const;
  };
  struct stmt_finalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using db_ptr = std::unique_ptr<sqlite3, db_closer>;
  using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

  explicit order_store(db_ptr db, int version);

  stmt_ptr prepare(const char* sql) const;
  void step_done(sqlite3_stmt* stmt) const;

  // Declared first, so it is destroyed after the statements that use it.
  db_ptr db_;
  int version_;
  stmt_ptr begin_;
  stmt_ptr commit_;
  stmt_ptr rollback_;
  stmt_ptr upsert_;
  stmt_ptr erase_;
  stmt_ptr select_all_;
};

} // namespace fogbow
