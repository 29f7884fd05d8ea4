// The cloud router on CAF's deterministic scheduler, in front of two
// instant drivers (one for servers, one for volumes and attachments) and
// no network driver.

#include "drivers/router/cloud_router.hpp"
#include "actors/errors.hpp"
#include "drivers/instant/instant_driver.hpp"
#include "support/deterministic_fixture.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

using namespace fogbow;

namespace {

struct router_fixture : test::deterministic_fixture {
  cloud_driver_actor servers;
  cloud_driver_actor storage;
  cloud_driver_actor aut;

  router_fixture() {
    cloud_resources room;
    room.vcpu_total = 8;
    room.memory_mb_total = 8192;
    room.instances_total = 4;
    std::vector<flavor> flavors{{"small", 1, 512, 10}};
    servers = sys.spawn(instant_driver, room, flavors);
    storage = sys.spawn(instant_driver, room, flavors);
    aut = sys.spawn(cloud_router, std::map<resource_kind, cloud_driver_actor>{
                                    {resource_kind::compute, servers},
                                    {resource_kind::volume, storage},
                                    {resource_kind::attachment, storage}});
    run();
  }

  ~router_fixture() {
    caf::anon_send_exit(aut, caf::exit_reason::user_shutdown);
    run();
  }

  instant_driver_state& state(const cloud_driver_actor& d) {
    return state_of<instant_driver_state>(d);
  }

  caf::expected<instance> create(instance_spec spec) {
    caf::expected<instance> result{caf::error{}};
    self->send(aut, atom::create_v, std::move(spec));
    run();
    self->receive([&](instance& x) { result = std::move(x); },
                  [&](caf::error& e) { result = std::move(e); });
    return result;
  }

  static instance_spec spec(resource_kind kind, std::string order_id) {
    instance_spec s;
    s.kind = kind;
    s.order_id = std::move(order_id);
    s.size_gb = 2;
    return s;
  }
};

} // namespace

TEST_CASE_FIXTURE(
  router_fixture,
  "each kind goes to its driver; a kind without one is unsupported") {
  auto vm = create(spec(resource_kind::compute, "o-vm"));
  REQUIRE(vm);
  CHECK(vm->kind == resource_kind::compute);
  auto vol = create(spec(resource_kind::volume, "o-vol"));
  REQUIRE(vol);
  CHECK(vol->kind == resource_kind::volume);
  CHECK(vol->size_gb == 2);
  CHECK(state(servers).instances.count(vm->id) == 1);
  CHECK(state(servers).instances.count(vol->id) == 0);
  CHECK(state(storage).instances.count(vol->id) == 1);
  auto net = create(spec(resource_kind::network, "o-net"));
  REQUIRE_FALSE(net);
  CHECK(code_of(net.error()) == errc::unsupported);
  CHECK(message_of(net.error()).find("network") != std::string::npos);
}

TEST_CASE_FIXTURE(
  router_fixture,
  "list merges every driver once and teaches the router each id's kind") {
  REQUIRE(create(spec(resource_kind::compute, "o-vm")));
  REQUIRE(create(spec(resource_kind::volume, "o-vol")));
  // A fresh router (as after a restart) learns the kinds from list.
  auto fresh =
    sys.spawn(cloud_router, std::map<resource_kind, cloud_driver_actor>{
                              {resource_kind::compute, servers},
                              {resource_kind::volume, storage},
                              {resource_kind::attachment, storage}});
  run();
  std::vector<instance> all;
  self->send(fresh, atom::list_v);
  run();
  self->receive([&](std::vector<instance>& xs) { all = std::move(xs); },
                [](caf::error& e) { FAIL(message_of(e)); });
  REQUIRE(all.size() == 2); // storage serves two kinds, listed once
  std::string vol_id;
  for (auto& x : all)
    if (x.kind == resource_kind::volume)
      vol_id = x.id;
  REQUIRE_FALSE(vol_id.empty());
  self->send(fresh, atom::erase_v, vol_id);
  run();
  self->receive([](atom::ok) {}, [](caf::error& e) { FAIL(message_of(e)); });
  CHECK(state(storage).instances.empty());
  CHECK(state(servers).instances.size() == 1);
  caf::anon_send_exit(fresh, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(
  router_fixture,
  "an unseen id of attachment form goes to the attachment driver") {
  // The servers driver has an instance with the same local id as a volume
  // would; the attachment id must not be taken for a server.
  auto vm = create(spec(resource_kind::compute, "o-vm"));
  REQUIRE(vm);
  self->send(aut, atom::get_v, attachment_local_id(vm->id, "v-9"));
  run();
  self->receive(
    [](instance&) { FAIL("found an attachment that does not exist"); },
    [](caf::error& e) { CHECK(code_of(e) == errc::not_found); });
  self->send(aut, atom::get_v, vm->id);
  run();
  self->receive([&](instance& x) { CHECK(x.id == vm->id); },
                [](caf::error& e) { FAIL(message_of(e)); });
}
