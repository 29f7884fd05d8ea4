#include "actors/tunnel_allocator.hpp"

#include "actors/errors.hpp"
#include "support/ask.hpp"
#include "support/deterministic_fixture.hpp"
#include "support/temp_dir.hpp"

#include <caf/exit_reason.hpp>
#include <caf/expected.hpp>
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace fogbow;

namespace {

const std::string secret_a = "secret-a-0123456789";
const std::string secret_b = "secret-b-0123456789";

struct allocator_fixture : test::deterministic_fixture {
  test::temp_dir dir{"fogbow-tun"};
  std::string path = (dir.path / "tunnel.db").string();
  std::shared_ptr<millis> clock = std::make_shared<millis>(1'000'000);
  std::shared_ptr<std::vector<int>> closed =
    std::make_shared<std::vector<int>>();
  tunnel_allocator_actor aut;
  int port_high = 103;
  int max_named = 16;

  tunnel_allocator_config config() {
    tunnel_allocator_config c;
    c.port_low = 100;
    c.port_high = port_high;
    c.max_named_tokens = max_named;
    c.idle_timeout_ms = 60'000;
    c.sweep_interval_ms = 10'000;
    auto clk = clock;
    c.clock = [clk] { return *clk; };
    auto cl = closed;
    c.close_port = [cl](int port) { cl->push_back(port); };
    return c;
  }

  allocator_fixture() { spawn(); }

  void spawn() {
    aut = sys.spawn(tunnel_allocator, path, config());
    run();
  }

  void restart() {
    self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
    spawn();
  }

  ~allocator_fixture() {
    self->send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  template <class T, class... Xs>
  caf::expected<T> ask(Xs... xs) {
    return test::ask<T>(*this, aut, std::move(xs)...);
  }

  int reg(const std::string& token, const std::string& secret) {
    auto p = ask<int>(atom::tunnel_register_v, token, secret);
    REQUIRE(p);
    return *p;
  }
};

} // namespace

TEST_CASE_FIXTURE(allocator_fixture,
                  "tunnel allocator: lowest free port, same token same port") {
  CHECK(reg("a", secret_a) == 100);
  CHECK(reg("b", secret_b) == 101);
  CHECK(reg("a", "") == 100);
  CHECK(reg("c", "secret-c-0123456789") == 102);
  REQUIRE(ask<atom::ok>(atom::erase_v, std::string{"b"}, 101));
  CHECK(*closed == std::vector<int>{101});
  CHECK(reg("d", "secret-d-0123456789") == 101); // lowest free again
  CHECK(reg("e", "secret-e-0123456789") == 103);
  auto full = ask<int>(atom::tunnel_register_v, std::string{"f"},
                       std::string{"secret-f-0123456789"});
  REQUIRE_FALSE(full);
  CHECK(code_of(full.error()) == errc::no_capacity);
  // Bad ids and short secrets are refused and change nothing.
  CHECK_FALSE(
    ask<int>(atom::tunnel_register_v, std::string{"a b"}, std::string{}));
  CHECK_FALSE(
    ask<int>(atom::tunnel_register_v, std::string{"x"}, std::string{"short"}));
  CHECK(ask<std::vector<tunnel_token_info>>(atom::list_v)->size() == 4);
}

TEST_CASE_FIXTURE(allocator_fixture,
                  "tunnel allocator: a token has at most max_named_tokens "
                  "named ports, whoever asks") {
  port_high = 150;
  max_named = 3;
  restart();
  reg("a", secret_a);
  reg("b", secret_b);
  auto allocate = [this](const std::string& token) {
    return ask<int>(atom::tunnel_allocate_v, token);
  };
  REQUIRE(allocate("a-p1"));
  REQUIRE(allocate("a-p2"));
  REQUIRE(allocate("a-p3"));
  // The instance asks for a fourth, then the manager does: both refused.
  auto over = allocate("a-p4");
  REQUIRE_FALSE(over);
  CHECK(code_of(over.error()) == errc::conflict);
  CHECK(message_of(over.error()).find("3 named ports") != std::string::npos);
  auto by_manager =
    ask<int>(atom::tunnel_register_v, std::string{"a-p4"}, std::string{});
  REQUIRE_FALSE(by_manager);
  CHECK(code_of(by_manager.error()) == errc::conflict);
  // What the family has stays usable, and another token is still served.
  CHECK(allocate("a-p1") == 102);
  CHECK(allocate("b-http"));
  // A freed name makes room again.
  REQUIRE(ask<atom::ok>(atom::erase_v, std::string{"a-p2"}, 103));
  CHECK(allocate("a-p4"));
  CHECK(ask<std::vector<tunnel_token_info>>(atom::list_v)->size() == 6);
}

TEST_CASE_FIXTURE(allocator_fixture,
                  "tunnel allocator: a port name is 1..32 of [A-Za-z0-9_-]") {
  port_high = 150;
  restart();
  reg("a", secret_a);
  for (const std::string& bad : std::vector<std::string>{
         "a-", "a-..", "a-x.y", "a-x@y", "a-" + std::string(33, 'n')}) {
    CAPTURE(bad);
    auto p = ask<int>(atom::tunnel_allocate_v, bad);
    REQUIRE_FALSE(p);
    CHECK(code_of(p.error()) == errc::invalid_argument);
  }
  CHECK(ask<int>(atom::tunnel_allocate_v, std::string{"a-Web_2-x"}));
  CHECK(ask<int>(atom::tunnel_allocate_v, "a-" + std::string(32, 'n')));
  CHECK(ask<std::vector<tunnel_token_info>>(atom::list_v)->size() == 3);
}

TEST_CASE_FIXTURE(allocator_fixture,
                  "tunnel allocator: ports and keys survive a restart") {
  reg("a", secret_a);
  reg("b", secret_b);
  REQUIRE(ask<int>(atom::tunnel_set_key_v, std::string{"a"},
                   std::string{"ssh-ed25519 AAAA"}));
  REQUIRE(ask<int>(atom::tunnel_allocate_v, std::string{"a-http"}) == 102);
  restart();
  CHECK(ask<int>(atom::get_v, std::string{"a"}) == 100);
  CHECK(ask<int>(atom::get_v, std::string{"a-http"}) == 102);
  CHECK(ask<std::string>(atom::tunnel_auth_key_v, std::string{"a-http"},
                         std::string{"ssh-ed25519 AAAA"})
        == std::string{"a"});
  CHECK(ask<std::string>(atom::tunnel_auth_v, std::string{"b"}, secret_b)
        == std::string{"b"});
  CHECK(reg("c", "secret-c-0123456789") == 103);
}

TEST_CASE_FIXTURE(allocator_fixture,
                  "tunnel allocator: credentials belong to one family") {
  reg("order-1", secret_a);
  reg("order-2", secret_b);
  CHECK(ask<std::string>(atom::tunnel_auth_v, std::string{"order-1"}, secret_a)
        == std::string{"order-1"});
  // A named token of the family shares the base's secret...
  CHECK(
    ask<std::string>(atom::tunnel_auth_v, std::string{"order-1-web"}, secret_a)
    == std::string{"order-1"});
  // ... but another family's secret, or no family at all, is refused.
  auto wrong =
    ask<std::string>(atom::tunnel_auth_v, std::string{"order-1"}, secret_b);
  REQUIRE_FALSE(wrong);
  CHECK(code_of(wrong.error()) == errc::unauthorized);
  CHECK_FALSE(
    ask<std::string>(atom::tunnel_auth_v, std::string{"nobody"}, secret_a));
  CHECK_FALSE(ask<int>(atom::tunnel_allocate_v, std::string{"nobody-web"}));
  // Without a registered key, no key logs in.
  CHECK_FALSE(ask<std::string>(atom::tunnel_auth_key_v, std::string{"order-1"},
                               std::string{}));
  // Forwards: only the family's own ports.
  int web = *ask<int>(atom::tunnel_allocate_v, std::string{"order-1-web"});
  CHECK(ask<bool>(atom::tunnel_forward_v, std::uint64_t{1},
                  std::string{"order-1"}, 100)
        == true);
  CHECK(ask<bool>(atom::tunnel_forward_v, std::uint64_t{1},
                  std::string{"order-1"}, web)
        == true);
  CHECK(ask<bool>(atom::tunnel_forward_v, std::uint64_t{1},
                  std::string{"order-1"}, 101)
        == false);
  CHECK(ask<bool>(atom::tunnel_forward_v, std::uint64_t{1},
                  std::string{"order-1"}, 103)
        == false);
  auto fam =
    ask<tunnel_family_ports>(atom::tunnel_family_v, std::string{"order-1"});
  REQUIRE(fam);
  CHECK(
    fam->ports
    == std::vector<std::pair<std::string, int>>{{"ssh", 100}, {"web", web}});
}

TEST_CASE_FIXTURE(allocator_fixture,
                  "tunnel allocator: deleting a base token takes its family") {
  reg("a", secret_a);
  int web = *ask<int>(atom::tunnel_allocate_v, std::string{"a-web"});
  // Only the owner of a port may delete it.
  CHECK_FALSE(ask<atom::ok>(atom::erase_v, std::string{"a"}, web));
  REQUIRE(ask<atom::ok>(atom::erase_v, std::string{"a"}, 100));
  CHECK_FALSE(ask<int>(atom::get_v, std::string{"a-web"}));
  CHECK(*closed == std::vector<int>{100, web});
}

TEST_CASE_FIXTURE(
  allocator_fixture,
  "tunnel allocator: a port is claimed only while it is granted") {
  // The SSH server's table: who holds which port.
  auto held = std::make_shared<std::map<int, std::uint64_t>>();
  auto can_open = std::make_shared<bool>(true);
  self->send_exit(aut, caf::exit_reason::user_shutdown);
  run();
  auto c = config();
  c.claim_port = [held, can_open](std::uint64_t sid, int port) {
    if (*can_open)
      (*held)[port] = sid;
    return *can_open;
  };
  c.close_port = [held](int port) { held->erase(port); };
  aut = sys.spawn(tunnel_allocator, path, c);
  run();
  reg("a", secret_a);
  int web = *ask<int>(atom::tunnel_allocate_v, std::string{"a-web"});
  // Granted: the port is the session's when the answer leaves.
  REQUIRE(
    ask<bool>(atom::tunnel_forward_v, std::uint64_t{1}, std::string{"a"}, web)
    == true);
  CHECK(*held == std::map<int, std::uint64_t>{{web, 1}});
  // Deleted right after: closed again.
  REQUIRE(ask<atom::ok>(atom::erase_v, std::string{"a-web"}, web));
  CHECK(held->empty());
  // Asked for after the deletion: refused, nothing claimed.
  CHECK(
    ask<bool>(atom::tunnel_forward_v, std::uint64_t{1}, std::string{"a"}, web)
    == false);
  CHECK(held->empty());
  // A port that cannot be opened is not granted (and the family not live).
  self->send(aut, atom::tunnel_closed_v, std::uint64_t{1}, std::string{"a"});
  run();
  *can_open = false;
  CHECK(
    ask<bool>(atom::tunnel_forward_v, std::uint64_t{2}, std::string{"a"}, 100)
    == false);
  auto tokens = ask<std::vector<tunnel_token_info>>(atom::list_v);
  REQUIRE(tokens);
  REQUIRE(tokens->size() == 1);
  CHECK_FALSE(tokens->front().active);
}

TEST_CASE_FIXTURE(
  allocator_fixture,
  "tunnel allocator: idle families expire, connected ones stay") {
  reg("idle", secret_a);
  reg("busy", secret_b);
  REQUIRE(ask<bool>(atom::tunnel_forward_v, std::uint64_t{7},
                    std::string{"busy"}, 101)
          == true);
  *clock += 61'000;
  advance(std::chrono::milliseconds{10'000});
  CHECK_FALSE(ask<int>(atom::get_v, std::string{"idle"}));
  CHECK(ask<int>(atom::get_v, std::string{"busy"}) == 101);
  // After its session ends, the busy family is idle from then on.
  self->send(aut, atom::tunnel_closed_v, std::uint64_t{7}, std::string{"busy"});
  run();
  *clock += 30'000;
  advance(std::chrono::milliseconds{10'000});
  CHECK(ask<int>(atom::get_v, std::string{"busy"}) == 101);
  *clock += 31'000;
  advance(std::chrono::milliseconds{10'000});
  CHECK_FALSE(ask<int>(atom::get_v, std::string{"busy"}));
}

TEST_CASE("tunnel family: the longest registered base before a dash") {
  std::map<std::string, tunnel_token> tokens;
  tokens["a-b"] = {"a-b", 1, "a-b", "h", "", 0, 0};
  tokens["a"] = {"a", 2, "a", "h", "", 0, 0};
  tokens["a-b-web"] = {"a-b-web", 3, "a-b", "", "", 0, 0};
  CHECK(tunnel_family_of(tokens, "a-b-web") == std::string{"a-b"});
  CHECK(tunnel_family_of(tokens, "a-b") == std::string{"a-b"});
  CHECK(tunnel_family_of(tokens, "a-x") == std::string{"a"});
  CHECK(tunnel_family_of(tokens, "b-x") == std::nullopt);
  CHECK(tunnel_family_of(tokens, "-") == std::nullopt);
}
