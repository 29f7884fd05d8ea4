#include "store/order_store.hpp"

#include "support/temp_dir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace fogbow;
using namespace std::string_literals;

namespace {

using fogbow::test::temp_dir;

/// A second, independent connection, to look at or tamper with the file
/// behind the store's back.
struct raw_db {
  sqlite3* db = nullptr;
  explicit raw_db(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  }
  ~raw_db() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    auto rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
  }
  /// The first column of the first row, as text.
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr)
            == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    auto p = sqlite3_column_text(stmt, 0);
    std::string result = p ? reinterpret_cast<const char*>(p) : "NULL";
    sqlite3_finalize(stmt);
    return result;
  }
};

/// An order with every field away from its default.
order full_order(const std::string& id, millis created) {
  order o;
  o.id = id;
  o.batch_id = "batch-" + id;
  o.user_id = "user-1";
  o.user_name = "Ana Ñandú";
  o.kind = resource_kind::volume;
  o.type = order_type::persistent;
  o.state = order_state::fulfilled;
  o.vcpu = 3;
  o.memory_mb = 2048;
  o.disk_gb = 40;
  o.image = "ubuntu-22.04";
  o.requirements =
    R"(Glue2RAM >= 1024 && Glue2CloudComputeManagerID == "site-a")";
  o.public_key = "ssh-ed25519 AAAAC3Nza user@host";
  o.user_data = "#!/bin/sh\necho 'it''s'\n\0tail"s; // embedded NUL too
  o.size_gb = 7;
  o.network_cidr = "10.1.0.0/24";
  o.network_gateway = "10.1.0.1";
  o.network_allocation = "static";
  o.attach_compute = "compute-order-1";
  o.attach_volume = "vol-1@site-a";
  o.attach_device = "/dev/vdb";
  o.offered_to = {"site-b@xmpp.example.org", "site-c@xmpp.example.org"};
  o.valid_from = -86'400'000; // before the epoch: negative values survive
  o.valid_until = 4'102'444'800'123;
  o.instance_id = "vm-" + id + "@site-b";
  o.requesting_member = "site-a";
  o.providing_member = "site-b";
  o.created_at = created;
  o.updated_at = created + 5;
  o.fulfilled_at = created + 9;
  o.last_error = "quota exceeded at site-c";
  o.attempts = 4;
  return o;
}

/// The message of the store_error that opening `path` throws, or "" when
/// it opens.
std::string open_error(const std::string& path) {
  try {
    order_store::open(path);
  } catch (const store_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The version-1 schema exactly as it was released; a real old file looks
// like this, whatever later versions do.
constexpr const char* v1_schema = R"sql(
  CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL, batch_id TEXT NOT NULL,
    user_id TEXT NOT NULL, user_name TEXT NOT NULL, kind TEXT NOT NULL,
    type TEXT NOT NULL, state TEXT NOT NULL, vcpu INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL, disk_gb INTEGER NOT NULL, image TEXT NOT NULL,
    requirements TEXT NOT NULL, public_key TEXT NOT NULL,
    user_data TEXT NOT NULL, size_gb INTEGER NOT NULL,
    network_cidr TEXT NOT NULL, network_gateway TEXT NOT NULL,
    network_allocation TEXT NOT NULL, valid_from INTEGER,
    valid_until INTEGER, instance_id TEXT NOT NULL,
    requesting_member TEXT NOT NULL, providing_member TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    fulfilled_at INTEGER NOT NULL
  ) STRICT;
  PRAGMA user_version = 1;
)sql";

} // namespace

TEST_CASE("order_store: a new database is at the latest schema version") {
  temp_dir dir;
  auto path = dir.file("orders.db");
  auto store = order_store::open(path);
  CHECK(store.schema_version() == order_store::latest_version);
  CHECK(store.schema_version() == 4);
  CHECK(store.load_all().empty());
  raw_db raw{path};
  CHECK(raw.text("PRAGMA user_version") == "4");
}

TEST_CASE("order_store: every field of every enum value round-trips") {
  temp_dir dir;
  auto store = order_store::open(dir.file("orders.db"));
  // Seven orders walk through all states, kinds and types, and through
  // every combination of set and unset validity bounds.
  std::vector<order> orders;
  for (int i = 0; i < 7; ++i) {
    auto o = full_order("order-" + std::to_string(i), 1'000 * (i + 1));
    o.state = static_cast<order_state>(i);
    o.kind = static_cast<resource_kind>(i % 3);
    o.type = static_cast<order_type>(i % 2);
    if (i % 2 == 1)
      o.valid_from.reset();
    if (i % 3 == 1)
      o.valid_until.reset();
    orders.push_back(o);
  }
  store.put(orders);
  CHECK(store.load_all() == orders);
}

TEST_CASE("order_store: put replaces the order with the same id") {
  temp_dir dir;
  auto store = order_store::open(dir.file("orders.db"));
  auto o = full_order("a", 100);
  store.put({o});
  o.state = order_state::closed;
  o.valid_until.reset();
  o.last_error = "";
  o.attempts = 0;
  o.updated_at = 200;
  store.put({o});
  auto loaded = store.load_all();
  REQUIRE(loaded.size() == 1);
  CHECK(loaded.front() == o);
}

TEST_CASE("order_store: erase removes only that order") {
  temp_dir dir;
  auto store = order_store::open(dir.file("orders.db"));
  auto a = full_order("a", 100);
  auto b = full_order("b", 200);
  store.put({a, b});
  store.erase("a");
  CHECK(store.load_all() == std::vector<order>{b});
  store.erase("a"); // already gone: not an error
  store.erase("nope");
  CHECK(store.load_all() == std::vector<order>{b});
}

TEST_CASE("order_store: load_all returns oldest first, ties broken by id") {
  temp_dir dir;
  auto store = order_store::open(dir.file("orders.db"));
  auto a = full_order("a", 20);
  auto b = full_order("b", 10);
  auto c = full_order("c", 10);
  store.put({a, c});
  store.put({b});
  CHECK(store.load_all() == std::vector<order>{b, c, a});
}

TEST_CASE("order_store: orders survive closing and reopening the file") {
  temp_dir dir;
  auto path = dir.file("orders.db");
  std::vector<order> orders{full_order("a", 1), full_order("b", 2)};
  {
    auto store = order_store::open(path);
    store.put(orders);
    store.erase("b");
  }
  auto store = order_store::open(path);
  CHECK(store.schema_version() == 4);
  CHECK(store.load_all() == std::vector<order>{orders.front()});
}

TEST_CASE("order_store: the file is in WAL mode") {
  temp_dir dir;
  auto path = dir.file("orders.db");
  auto store = order_store::open(path);
  store.put({full_order("a", 1)});
  raw_db raw{path};
  CHECK(raw.text("PRAGMA journal_mode") == "wal");
  CHECK(std::filesystem::exists(path + "-wal"));
}

TEST_CASE("order_store: a batch is stored all or nothing") {
  temp_dir dir;
  auto path = dir.file("orders.db");
  auto store = order_store::open(path);
  {
    raw_db raw{path};
    raw.exec("CREATE TRIGGER refuse_bad BEFORE INSERT ON orders "
             "WHEN NEW.id = 'bad' BEGIN SELECT RAISE(ABORT, 'bad order'); END");
  }
  auto good = full_order("good", 1);
  try {
    store.put({good, full_order("bad", 2)});
    FAIL("put should have failed");
  } catch (const store_error& e) {
    CHECK(contains(e.what(), "bad order"));
  }
  CHECK(store.load_all().empty());
  // The failed transaction was rolled back, so the next one goes through.
  store.put({good});
  CHECK(store.load_all() == std::vector<order>{good});
}

TEST_CASE("order_store: a version-1 database is migrated to the latest") {
  temp_dir dir;
  auto path = dir.file("orders.db");
  {
    raw_db raw{path};
    raw.exec(v1_schema);
    raw.exec("INSERT INTO orders VALUES ('old', 'batch', 'user-1', 'Ana', "
             "'compute', 'one-time', 'open', 2, 512, 10, 'debian', '', "
             "'key', 'script', 0, '', '', '', NULL, 5000, '', 'site-a', '', "
             "1000, 1001, 0)");
  }
  auto store = order_store::open(path);
  CHECK(store.schema_version() == 4);
  order expected;
  expected.id = "old";
  expected.batch_id = "batch";
  expected.user_id = "user-1";
  expected.user_name = "Ana";
  expected.vcpu = 2;
  expected.memory_mb = 512;
  expected.disk_gb = 10;
  expected.image = "debian";
  expected.public_key = "key";
  expected.user_data = "script";
  expected.valid_until = 5000;
  expected.requesting_member = "site-a";
  expected.created_at = 1000;
  expected.updated_at = 1001;
  expected.last_error = ""; // the defaults of the new columns
  expected.attempts = 0;
  CHECK(store.load_all() == std::vector<order>{expected}); // attach_* empty
  raw_db raw{path};
  CHECK(raw.text("PRAGMA user_version") == "4");
  CHECK(raw.text("SELECT sql FROM sqlite_master WHERE name = 'orders_by_user'")
        == "CREATE INDEX orders_by_user ON orders (user_id, created_at)");
}

TEST_CASE("order_store: a database newer than this build is refused") {
  temp_dir dir;
  auto path = dir.file("orders.db");
  {
    raw_db raw{path};
    raw.exec("CREATE TABLE future (x INTEGER); PRAGMA user_version = 5");
  }
  auto msg = open_error(path);
  CHECK(contains(msg, path));
  CHECK(contains(msg, "schema version 5 is newer"));
  raw_db raw{path};
  CHECK(raw.text("PRAGMA user_version") == "5");
  CHECK(raw.text("PRAGMA journal_mode") == "delete"); // left untouched
}

TEST_CASE("order_store: an unknown enum text is reported as corruption") {
  temp_dir dir;
  auto path = dir.file("orders.db");
  auto store = order_store::open(path);
  store.put({full_order("a", 1), full_order("b", 2)});
  std::string column;
  SUBCASE("kind") {
    column = "kind";
  }
  SUBCASE("type") {
    column = "type";
  }
  SUBCASE("state") {
    column = "state";
  }
  {
    raw_db raw{path};
    raw.exec("UPDATE orders SET " + column + " = 'bogus' WHERE id = 'b'");
  }
  try {
    store.load_all();
    FAIL("load_all should have failed");
  } catch (const store_error& e) {
    CHECK(std::string{e.what()}
          == "corrupted order 'b': column '" + column
               + "' holds unknown value 'bogus'");
  }
}

TEST_CASE("order_store: a path in a missing directory is refused clearly") {
  temp_dir dir;
  auto path = (dir.path / "missing" / "orders.db").string();
  auto msg = open_error(path);
  CHECK(contains(msg, "cannot open order store '" + path + "'"));
  CHECK(contains(msg, "No such file or directory"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "missing"));
}

TEST_CASE("order_store: a file that is not a database is refused") {
  temp_dir dir;
  auto path = dir.file("orders.db");
  std::ofstream{path} << std::string(4096, 'x');
  auto msg = open_error(path);
  CHECK(contains(msg, path));
  CHECK(contains(msg, "file is not a database"));
}
