#include "actors/store.hpp"

#include "actors/errors.hpp"
#include "support/ask.hpp"
#include "support/deterministic_fixture.hpp"
#include "support/temp_dir.hpp"

#include <caf/exit_reason.hpp>
#include <caf/expected.hpp>
#include <caf/system_messages.hpp>
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace fogbow;

namespace {

using fogbow::test::temp_dir;

order sample_order(const std::string& id, millis created) {
  order o;
  o.id = id;
  o.batch_id = "batch";
  o.user_id = "user-1";
  o.state = order_state::pending;
  o.valid_until = created + 60'000;
  o.created_at = created;
  o.last_error = "no room";
  o.attempts = 2;
  return o;
}

struct store_fixture : test::deterministic_fixture {
  temp_dir dir;
  std::string path = (dir.path / "orders.db").string();
  store_actor aut = sys.spawn(store, path);

  store_fixture() { run(); }

  ~store_fixture() {
    self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  /// Sends a request, runs the actor, and returns its reply or error.
  template <class T, class... Xs>
  caf::expected<T> ask(Xs... xs) {
    return test::ask<T>(*this, aut, std::move(xs)...);
  }
};

} // namespace

TEST_CASE_FIXTURE(store_fixture, "store actor: put, load and erase") {
  std::vector<order> orders{sample_order("b", 200), sample_order("a", 100)};
  REQUIRE(ask<atom::ok>(atom::put_v, orders));
  // Acknowledged means committed: a second connection already sees them.
  CHECK(order_store::open(path).load_all()
        == std::vector<order>{orders[1], orders[0]});
  auto loaded = ask<std::vector<order>>(atom::load_v);
  REQUIRE(loaded);
  CHECK(*loaded == std::vector<order>{orders[1], orders[0]});
  REQUIRE(ask<atom::ok>(atom::erase_v, std::string{"a"}));
  loaded = ask<std::vector<order>>(atom::load_v);
  REQUIRE(loaded);
  CHECK(*loaded == std::vector<order>{orders[0]});
}

TEST_CASE_FIXTURE(store_fixture,
                  "store actor: SQLite failures become storage_failure") {
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "DROP TABLE orders", nullptr, nullptr, nullptr)
            == SQLITE_OK);
    sqlite3_close(raw);
  }
  auto put =
    ask<atom::ok>(atom::put_v, std::vector<order>{sample_order("a", 1)});
  REQUIRE_FALSE(put);
  CHECK(code_of(put.error()) == errc::storage_failure);
  CHECK(message_of(put.error()).find("no such table: orders")
        != std::string::npos);
  auto erase = ask<atom::ok>(atom::erase_v, std::string{"a"});
  REQUIRE_FALSE(erase);
  CHECK(code_of(erase.error()) == errc::storage_failure);
  auto load = ask<std::vector<order>>(atom::load_v);
  REQUIRE_FALSE(load);
  CHECK(code_of(load.error()) == errc::storage_failure);
}

TEST_CASE_FIXTURE(
  test::deterministic_fixture,
  "store actor: quits with storage_failure when it cannot open") {
  temp_dir dir;
  auto path = (dir.path / "missing" / "orders.db").string();
  auto aut = sys.spawn(store, path);
  self->monitor(aut);
  run();
  bool down = false;
  self->receive([&](caf::down_msg& msg) {
    down = true;
    CHECK(msg.source == aut.address());
    CHECK(code_of(msg.reason) == errc::storage_failure);
    CHECK(message_of(msg.reason).find(path) != std::string::npos);
  });
  CHECK(down);
}
