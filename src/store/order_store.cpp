#include "store/order_store.hpp"

#include "metrics/metrics.hpp"

#include <sqlite3.h>

#include <array>
#include <chrono>
#include <cstring>
#include <string_view>

namespace fogbow {

namespace {

// The schema history. A released step is never edited: a change is a new
// step appended at the end, so every existing file can be brought forward.
struct migration {
  int version;
  const char* sql;
};

constexpr std::array<migration, 4> migrations{{
  {1, R"sql(
    CREATE TABLE orders (
      id TEXT PRIMARY KEY NOT NULL,
      batch_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      user_name TEXT NOT NULL,
      kind TEXT NOT NULL,
      type TEXT NOT NULL,
      state TEXT NOT NULL,
      vcpu INTEGER NOT NULL,
      memory_mb INTEGER NOT NULL,
      disk_gb INTEGER NOT NULL,
      image TEXT NOT NULL,
      requirements TEXT NOT NULL,
      public_key TEXT NOT NULL,
      user_data TEXT NOT NULL,
      size_gb INTEGER NOT NULL,
      network_cidr TEXT NOT NULL,
      network_gateway TEXT NOT NULL,
      network_allocation TEXT NOT NULL,
      valid_from INTEGER,
      valid_until INTEGER,
      instance_id TEXT NOT NULL,
      requesting_member TEXT NOT NULL,
      providing_member TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      fulfilled_at INTEGER NOT NULL
    ) STRICT;
  )sql"},
  {2, R"sql(
    ALTER TABLE orders ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
    ALTER TABLE orders ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX orders_by_user ON orders (user_id, created_at);
  )sql"},
  {3, R"sql(
    ALTER TABLE orders ADD COLUMN attach_compute TEXT NOT NULL DEFAULT '';
    ALTER TABLE orders ADD COLUMN attach_volume TEXT NOT NULL DEFAULT '';
    ALTER TABLE orders ADD COLUMN attach_device TEXT NOT NULL DEFAULT '';
  )sql"},
  {4, R"sql(
    ALTER TABLE orders ADD COLUMN offered_to TEXT NOT NULL DEFAULT '';
  )sql"},
}};

static_assert(migrations.back().version == order_store::latest_version);

// The one list of columns: bind_order binds and read_order reads in exactly
// this order.
constexpr std::array<std::string_view, 32> columns{
  "id",
  "batch_id",
  "user_id",
  "user_name",
  "kind",
  "type",
  "state",
  "vcpu",
  "memory_mb",
  "disk_gb",
  "image",
  "requirements",
  "public_key",
  "user_data",
  "size_gb",
  "network_cidr",
  "network_gateway",
  "network_allocation",
  "valid_from",
  "valid_until",
  "instance_id",
  "requesting_member",
  "providing_member",
  "created_at",
  "updated_at",
  "fulfilled_at",
  "last_error",
  "attempts",
  "attach_compute",
  "attach_volume",
  "attach_device",
  "offered_to",
};

std::string column_list() {
  std::string out;
  for (auto c : columns) {
    if (!out.empty())
      out += ", ";
    out += c;
  }
  return out;
}

// A real upsert rather than INSERT OR REPLACE: REPLACE deletes the old row
// first, which would fire ON DELETE actions of any future child table.
std::string upsert_sql() {
  std::string params;
  std::string updates;
  for (size_t i = 0; i < columns.size(); ++i) {
    params += (i == 0 ? "?" : ", ?");
    if (columns[i] == "id")
      continue;
    if (!updates.empty())
      updates += ", ";
    updates +=
      std::string{columns[i]} + " = excluded." + std::string{columns[i]};
  }
  return "INSERT INTO orders (" + column_list() + ") VALUES (" + params
         + ") ON CONFLICT (id) DO UPDATE SET " + updates;
}

void exec(sqlite3* db, const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    throw store_error(text);
  }
}

// The first column of the first row of a one-row statement (a PRAGMA).
template <class T, class Read>
T query_one(sqlite3* db, const char* sql, Read read) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
    throw store_error(sqlite3_errmsg(db));
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    std::string text = sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    throw store_error(text);
  }
  T result = read(stmt);
  sqlite3_finalize(stmt);
  return result;
}

int user_version(sqlite3* db) {
  return query_one<int>(db, "PRAGMA user_version", [](sqlite3_stmt* s) {
    return sqlite3_column_int(s, 0);
  });
}

std::string journal_mode_wal(sqlite3* db) {
  return query_one<std::string>(
    db, "PRAGMA journal_mode = WAL", [](sqlite3_stmt* s) {
      auto p = sqlite3_column_text(s, 0);
      return std::string{p ? reinterpret_cast<const char*>(p) : ""};
    });
}

void refuse_newer(int version) {
  if (version > order_store::latest_version)
    throw store_error("schema version " + std::to_string(version)
                      + " is newer than the newest this build knows ("
                      + std::to_string(order_store::latest_version)
                      + "); refusing to open it rather than downgrade");
}

void migrate(sqlite3* db, int from) {
  for (const auto& m : migrations) {
    if (m.version <= from)
      continue;
    // IMMEDIATE takes the write lock first, and the version is read again
    // under it: another process may have migrated the file in the meantime.
    exec(db, "BEGIN IMMEDIATE");
    try {
      auto current = user_version(db);
      refuse_newer(current);
      if (current < m.version) {
        exec(db, m.sql);
        exec(db, "PRAGMA user_version = " + std::to_string(m.version));
      }
      exec(db, "COMMIT");
    } catch (const store_error& e) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw store_error("migration to schema version "
                        + std::to_string(m.version) + " failed: " + e.what());
    }
  }
}

// Leaves a statement ready for its next use however the current one ends.
struct reset_on_exit {
  sqlite3_stmt* stmt;
  ~reset_on_exit() { sqlite3_reset(stmt); }
};

void bind_text(sqlite3_stmt* s, int i, std::string_view x) {
  sqlite3_bind_text(s, i, x.data(), static_cast<int>(x.size()),
                    SQLITE_TRANSIENT);
}

void bind_optional(sqlite3_stmt* s, int i, const std::optional<millis>& x) {
  if (x)
    sqlite3_bind_int64(s, i, *x);
  else
    sqlite3_bind_null(s, i);
}

// Member ids are JIDs, which hold no spaces: one space separates them.
std::string join_members(const std::vector<std::string>& members) {
  std::string out;
  for (auto& m : members)
    out += (out.empty() ? "" : " ") + m;
  return out;
}

std::vector<std::string> split_members(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void bind_order(sqlite3_stmt* s, const order& o) {
  int i = 0;
  bind_text(s, ++i, o.id);
  bind_text(s, ++i, o.batch_id);
  bind_text(s, ++i, o.user_id);
  bind_text(s, ++i, o.user_name);
  bind_text(s, ++i, to_string(o.kind));
  bind_text(s, ++i, to_string(o.type));
  bind_text(s, ++i, to_string(o.state));
  sqlite3_bind_int(s, ++i, o.vcpu);
  sqlite3_bind_int(s, ++i, o.memory_mb);
  sqlite3_bind_int(s, ++i, o.disk_gb);
  bind_text(s, ++i, o.image);
  bind_text(s, ++i, o.requirements);
  bind_text(s, ++i, o.public_key);
  bind_text(s, ++i, o.user_data);
  sqlite3_bind_int(s, ++i, o.size_gb);
  bind_text(s, ++i, o.network_cidr);
  bind_text(s, ++i, o.network_gateway);
  bind_text(s, ++i, o.network_allocation);
  bind_optional(s, ++i, o.valid_from);
  bind_optional(s, ++i, o.valid_until);
  bind_text(s, ++i, o.instance_id);
  bind_text(s, ++i, o.requesting_member);
  bind_text(s, ++i, o.providing_member);
  sqlite3_bind_int64(s, ++i, o.created_at);
  sqlite3_bind_int64(s, ++i, o.updated_at);
  sqlite3_bind_int64(s, ++i, o.fulfilled_at);
  bind_text(s, ++i, o.last_error);
  sqlite3_bind_int(s, ++i, o.attempts);
  bind_text(s, ++i, o.attach_compute);
  bind_text(s, ++i, o.attach_volume);
  bind_text(s, ++i, o.attach_device);
  bind_text(s, ++i, join_members(o.offered_to));
}

std::string column_text(sqlite3_stmt* s, int i) {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string{};
}

std::optional<millis> column_optional(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL)
    return std::nullopt;
  return sqlite3_column_int64(s, i);
}

template <class Enum>
Enum column_enum(sqlite3_stmt* s, int i,
                 std::optional<Enum> (*parse)(std::string_view),
                 const std::string& id) {
  auto text = column_text(s, i);
  if (auto x = parse(text))
    return *x;
  throw store_error("corrupted order '" + id + "': column '"
                    + sqlite3_column_name(s, i) + "' holds unknown value '"
                    + text + "'");
}

order read_order(sqlite3_stmt* s) {
  order o;
  int i = 0;
  o.id = column_text(s, i++);
  o.batch_id = column_text(s, i++);
  o.user_id = column_text(s, i++);
  o.user_name = column_text(s, i++);
  o.kind = column_enum(s, i++, parse_resource_kind, o.id);
  o.type = column_enum(s, i++, parse_order_type, o.id);
  o.state = column_enum(s, i++, parse_order_state, o.id);
  o.vcpu = sqlite3_column_int(s, i++);
  o.memory_mb = sqlite3_column_int(s, i++);
  o.disk_gb = sqlite3_column_int(s, i++);
  o.image = column_text(s, i++);
  o.requirements = column_text(s, i++);
  o.public_key = column_text(s, i++);
  o.user_data = column_text(s, i++);
  o.size_gb = sqlite3_column_int(s, i++);
  o.network_cidr = column_text(s, i++);
  o.network_gateway = column_text(s, i++);
  o.network_allocation = column_text(s, i++);
  o.valid_from = column_optional(s, i++);
  o.valid_until = column_optional(s, i++);
  o.instance_id = column_text(s, i++);
  o.requesting_member = column_text(s, i++);
  o.providing_member = column_text(s, i++);
  o.created_at = sqlite3_column_int64(s, i++);
  o.updated_at = sqlite3_column_int64(s, i++);
  o.fulfilled_at = sqlite3_column_int64(s, i++);
  o.last_error = column_text(s, i++);
  o.attempts = sqlite3_column_int(s, i++);
  o.attach_compute = column_text(s, i++);
  o.attach_volume = column_text(s, i++);
  o.attach_device = column_text(s, i++);
  o.offered_to = split_members(column_text(s, i++));
  return o;
}

} // namespace

void order_store::db_closer::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

void order_store::stmt_finalizer::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

order_store order_store::open(const std::string& path) {
  sqlite3* raw = nullptr;
  auto rc = sqlite3_open_v2(
    path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db_ptr db{raw};
  auto fail = [&](const std::string& why) {
    return store_error("cannot open order store '" + path + "': " + why);
  };
  if (rc != SQLITE_OK) {
    std::string why = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    if (auto err = raw ? sqlite3_system_errno(raw) : 0)
      why += std::string{" ("} + std::strerror(err) + ")";
    throw fail(why);
  }
  try {
    sqlite3_busy_timeout(raw, 5000);
    // Checked before anything writes to the file, so a newer database is
    // left exactly as it was.
    auto version = user_version(raw);
    refuse_newer(version);
    auto mode = journal_mode_wal(raw);
    if (mode != "wal" && path != ":memory:")
      throw store_error("cannot switch to WAL (journal mode is '" + mode
                        + "')");
    exec(raw, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
    migrate(raw, version);
  } catch (const store_error& e) {
    throw fail(e.what());
  }
  return order_store{std::move(db), latest_version};
}

order_store::order_store(db_ptr db, int version)
    : db_(std::move(db)), version_(version) {
  begin_ = prepare("BEGIN IMMEDIATE");
  commit_ = prepare("COMMIT");
  rollback_ = prepare("ROLLBACK");
  upsert_ = prepare(upsert_sql().c_str());
  erase_ = prepare("DELETE FROM orders WHERE id = ?");
  select_all_ =
    prepare(("SELECT " + column_list() + " FROM orders ORDER BY created_at, id")
              .c_str());
}

order_store::order_store(order_store&&) noexcept = default;
order_store& order_store::operator=(order_store&&) noexcept = default;
order_store::~order_store() = default;

order_store::stmt_ptr order_store::prepare(const char* sql) const {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql, -1, &stmt, nullptr) != SQLITE_OK)
    throw store_error(sqlite3_errmsg(db_.get()));
  return stmt_ptr{stmt};
}

void order_store::step_done(sqlite3_stmt* stmt) const {
  reset_on_exit guard{stmt};
  if (sqlite3_step(stmt) != SQLITE_DONE)
    throw store_error(sqlite3_errmsg(db_.get()));
}

void order_store::put(const std::vector<order>& orders) {
  auto started = std::chrono::steady_clock::now();
  step_done(begin_.get());
  try {
    for (const auto& o : orders) {
      bind_order(upsert_.get(), o);
      step_done(upsert_.get());
    }
    step_done(commit_.get());
  } catch (const store_error&) {
    // A failed COMMIT may or may not have ended the transaction.
    if (!sqlite3_get_autocommit(db_.get())) {
      reset_on_exit guard{rollback_.get()};
      sqlite3_step(rollback_.get());
    }
    throw;
  }
  metrics::observe_commit("orders", metrics::seconds_since(started));
}

void order_store::erase(const std::string& id) {
  bind_text(erase_.get(), 1, id);
  step_done(erase_.get());
}

std::vector<order> order_store::load_all() {
  auto stmt = select_all_.get();
  reset_on_exit guard{stmt};
  std::vector<order> result;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    result.push_back(read_order(stmt));
  if (rc != SQLITE_DONE)
    throw store_error(sqlite3_errmsg(db_.get()));
  return result;
}

} // namespace fogbow
