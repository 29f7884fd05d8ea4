#include "store/usage_store.hpp"

#include "metrics/metrics.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstring>

namespace fogbow {

namespace {

constexpr const char* schema = R"sql(
  CREATE TABLE IF NOT EXISTS usage (
    user TEXT NOT NULL,
    requesting TEXT NOT NULL,
    providing TEXT NOT NULL,
    vcpu_minutes REAL NOT NULL,
    memory_mb_minutes REAL NOT NULL,
    volume_gb_minutes REAL NOT NULL,
    PRIMARY KEY (user, requesting, providing)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS counted (
    order_id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL,
    user TEXT NOT NULL,
    requesting TEXT NOT NULL,
    providing TEXT NOT NULL,
    vcpu INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    volume_gb INTEGER NOT NULL,
    accounted_until INTEGER NOT NULL
  ) STRICT;
)sql";

void exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    throw store_error(text);
  }
}

/// A prepared statement, finalized when it goes out of scope.
class statement {
public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw store_error(sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  statement& real(int i, double x) {
    sqlite3_bind_double(stmt_, i, x);
    return *this;
  }
  statement& integer(int i, std::int64_t x) {
    sqlite3_bind_int64(stmt_, i, x);
    return *this;
  }
  /// Runs a statement that returns no rows, then makes it reusable.
  void run() {
    auto rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (rc != SQLITE_DONE)
      throw store_error(sqlite3_errmsg(db_));
  }
  /// Steps once: true while there is a row.
  bool row() {
    auto rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
      return true;
    if (rc != SQLITE_DONE)
      throw store_error(sqlite3_errmsg(db_));
    return false;
  }
  std::string text_at(int i) const {
    auto p = sqlite3_column_text(stmt_, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  double real_at(int i) const { return sqlite3_column_double(stmt_, i); }
  std::int64_t int_at(int i) const { return sqlite3_column_int64(stmt_, i); }

private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

} // namespace

void usage_store::db_closer::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

usage_store::usage_store(db_ptr db) : db_(std::move(db)) {}
usage_store::usage_store(usage_store&&) noexcept = default;
usage_store& usage_store::operator=(usage_store&&) noexcept = default;
usage_store::~usage_store() = default;

usage_store usage_store::open(const std::string& path) {
  sqlite3* raw = nullptr;
  auto rc = sqlite3_open_v2(
    path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db_ptr db{raw};
  try {
    if (rc != SQLITE_OK)
      throw store_error(raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_busy_timeout(raw, 5000);
    exec(raw, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    exec(raw, schema);
  } catch (const store_error& e) {
    throw store_error("cannot open usage store '" + path + "': " + e.what());
  }
  return usage_store{std::move(db)};
}

std::vector<usage_record> usage_store::totals() const {
  statement s{db_.get(), "SELECT user, requesting, providing, vcpu_minutes, "
                         "memory_mb_minutes, volume_gb_minutes FROM usage "
                         "ORDER BY user, requesting, providing"};
  std::vector<usage_record> out;
  while (s.row())
    out.push_back({s.text_at(0),
                   s.text_at(1),
                   s.text_at(2),
                   {s.real_at(3), s.real_at(4), s.real_at(5)}});
  return out;
}

std::vector<accounted_instance> usage_store::counted() const {
  statement s{db_.get(),
              "SELECT order_id, instance_id, user, requesting, providing, "
              "vcpu, memory_mb, volume_gb, accounted_until FROM counted "
              "ORDER BY order_id"};
  std::vector<accounted_instance> out;
  while (s.row())
    out.push_back({s.text_at(0), s.text_at(1), s.text_at(2), s.text_at(3),
                   s.text_at(4), static_cast<int>(s.int_at(5)),
                   static_cast<int>(s.int_at(6)), static_cast<int>(s.int_at(7)),
                   s.int_at(8)});
  return out;
}

void usage_store::commit(const usage_commit& c) {
  auto started = std::chrono::steady_clock::now();
  auto db = db_.get();
  exec(db, "BEGIN IMMEDIATE");
  try {
    statement add{db, R"sql(
      INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (user, requesting, providing) DO UPDATE SET
        vcpu_minutes = vcpu_minutes + excluded.vcpu_minutes,
        memory_mb_minutes = memory_mb_minutes + excluded.memory_mb_minutes,
        volume_gb_minutes = volume_gb_minutes + excluded.volume_gb_minutes
    )sql"};
    for (auto& r : c.added)
      add.text(1, r.user)
        .text(2, r.requesting)
        .text(3, r.providing)
        .real(4, r.amount.vcpu_minutes)
        .real(5, r.amount.memory_mb_minutes)
        .real(6, r.amount.volume_gb_minutes)
        .run();
    statement put{db, "INSERT OR REPLACE INTO counted VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?)"};
    for (auto& x : c.counted)
      put.text(1, x.order_id)
        .text(2, x.instance_id)
        .text(3, x.user)
        .text(4, x.requesting)
        .text(5, x.providing)
        .integer(6, x.vcpu)
        .integer(7, x.memory_mb)
        .integer(8, x.volume_gb)
        .integer(9, x.accounted_until)
        .run();
    statement end{db, "DELETE FROM counted WHERE order_id = ?"};
    for (auto& id : c.ended)
      end.text(1, id).run();
    exec(db, "COMMIT");
  } catch (const store_error&) {
    if (!sqlite3_get_autocommit(db))
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  metrics::observe_commit("usage", metrics::seconds_since(started));
}

} // namespace fogbow
