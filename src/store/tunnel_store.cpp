#include "store/tunnel_store.hpp"

#include "store/order_store.hpp" // store_error

#include <sqlite3.h>

namespace fogbow {

namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw store_error("tunnel store: " + what + ": "
                    + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw store_error(std::string{"tunnel store: "} + msg);
  }
}

struct stmt {
  sqlite3* db;
  sqlite3_stmt* s = nullptr;
  stmt(sqlite3* db, const char* sql) : db(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
      fail(db, "prepare");
  }
  ~stmt() { sqlite3_finalize(s); }
  void text(int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void integer(int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
  std::string col_text(int i) {
    auto p = sqlite3_column_text(s, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
};

} // namespace

tunnel_store::tunnel_store(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_FULLMUTEX,
                      nullptr)
      != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw store_error("tunnel store: cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec(db_, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
              "CREATE TABLE IF NOT EXISTS tunnel_tokens ("
              "  id TEXT PRIMARY KEY,"
              "  port INTEGER NOT NULL UNIQUE,"
              "  base TEXT NOT NULL,"
              "  secret_sha256 TEXT NOT NULL DEFAULT '',"
              "  public_key TEXT NOT NULL DEFAULT '',"
              "  created_at INTEGER NOT NULL,"
              "  last_active INTEGER NOT NULL)");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

tunnel_store::~tunnel_store() {
  sqlite3_close(db_);
}

void tunnel_store::put(const tunnel_token& t) {
  stmt s{db_, "INSERT OR REPLACE INTO tunnel_tokens (id, port, base, "
              "secret_sha256, public_key, created_at, last_active) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)"};
  s.text(1, t.id);
  s.integer(2, t.port);
  s.text(3, t.base);
  s.text(4, t.secret_sha256);
  s.text(5, t.public_key);
  s.integer(6, t.created_at);
  s.integer(7, t.last_active);
  if (sqlite3_step(s.s) != SQLITE_DONE)
    fail(db_, "cannot store token " + t.id);
}

void tunnel_store::erase(const std::vector<std::string>& ids) {
  exec(db_, "BEGIN");
  try {
    for (auto& id : ids) {
      stmt s{db_, "DELETE FROM tunnel_tokens WHERE id = ?"};
      s.text(1, id);
      if (sqlite3_step(s.s) != SQLITE_DONE)
        fail(db_, "cannot delete token " + id);
    }
    exec(db_, "COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<tunnel_token> tunnel_store::load() {
  stmt s{db_, "SELECT id, port, base, secret_sha256, public_key, created_at, "
              "last_active FROM tunnel_tokens ORDER BY port"};
  std::vector<tunnel_token> out;
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    tunnel_token t;
    t.id = s.col_text(0);
    t.port = sqlite3_column_int(s.s, 1);
    t.base = s.col_text(2);
    t.secret_sha256 = s.col_text(3);
    t.public_key = s.col_text(4);
    t.created_at = sqlite3_column_int64(s.s, 5);
    t.last_active = sqlite3_column_int64(s.s, 6);
    out.push_back(std::move(t));
  }
  if (rc != SQLITE_DONE)
    fail(db_, "cannot read tokens");
  return out;
}

} // namespace fogbow
