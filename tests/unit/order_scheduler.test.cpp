// The order scheduler on CAF's deterministic scheduler, with an in-memory
// store and a scriptable cloud driver standing in for the real ones.

#include "support/metrics_probe.hpp"
#include "support/scheduler_fixture.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace fogbow;
using namespace fogbow::test;
using namespace std::chrono_literals;

TEST_CASE_FIXTURE(scheduler_fixture,
                  "an order is persisted, then fulfilled at once") {
  start();
  auto orders = create(compute_order());
  REQUIRE(orders.size() == 1);
  auto id = orders[0].id;
  CHECK(orders[0].state == order_state::open);
  CHECK(orders[0].requesting_member == "site-a");
  auto o = get(id);
  CHECK(o.state == order_state::fulfilled);
  CHECK(o.instance_id == "vm-1@site-a");
  CHECK(o.providing_member == "site-a");
  CHECK(store_rows().at(id).state == order_state::fulfilled);
  CHECK(driver_state().creates == 1);
}

TEST_CASE_FIXTURE(scheduler_fixture, "count makes one batch of orders") {
  start();
  auto orders = create(compute_order(), 3);
  REQUIRE(orders.size() == 3);
  CHECK(orders[0].batch_id == orders[2].batch_id);
  CHECK(orders[0].id != orders[1].id);
  CHECK(store_rows().size() == 3);
  CHECK(driver_state().instances.size() == 3);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "a failing store refuses the order and keeps nothing") {
  start();
  state_of<fake_store_state>(store).failing = true;
  auto err = create_error(compute_order());
  CHECK(code_of(err) == errc::storage_failure);
  CHECK(sched_state().orders.empty());
  CHECK(driver_state().creates == 0);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "quota exhaustion keeps orders open until capacity frees") {
  start();
  driver_state().max_instances = 1;
  auto first = create(compute_order())[0];
  auto second = create(compute_order())[0];
  CHECK(get(first.id).state == order_state::fulfilled);
  auto waiting = get(second.id);
  CHECK(waiting.state == order_state::open);
  CHECK(waiting.last_error.find("no room") != std::string::npos);
  CHECK(sched_state().blocked.count(resource_kind::compute) == 1);
  // Removing the first instance frees capacity: the driver says so and
  // the waiting order is served without waiting for the back-off timer.
  erase_instance(get(first.id).instance_id);
  CHECK(get(first.id).state == order_state::closed); // one-time
  CHECK(get(second.id).state == order_state::fulfilled);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "the back-off timer retries when no event comes") {
  start();
  driver_state().max_instances = 0;
  auto id = create(compute_order())[0].id;
  CHECK(get(id).state == order_state::open);
  auto creates_before = driver_state().creates;
  driver_state().max_instances = 1; // quota raised behind our back
  tick(500ms);
  CHECK(get(id).state == order_state::open);
  tick(600ms);
  CHECK(get(id).state == order_state::fulfilled);
  CHECK(driver_state().creates == creates_before + 1);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "placement latency and driver errors are counted") {
  using fogbow::test::series_value;
  const std::string placed = R"(fogbow_placement_seconds_count{place="local"})";
  const std::string within_1s =
    R"(fogbow_placement_seconds_bucket{place="local",le="1"})";
  const std::string within_2_5s =
    R"(fogbow_placement_seconds_bucket{place="local",le="2.5"})";
  const std::string no_room =
    R"(fogbow_driver_errors_total{error="no_capacity",operation="create"})";
  auto placed_before = series_value(placed);
  auto within_1s_before = series_value(within_1s);
  auto within_2_5s_before = series_value(within_2_5s);
  auto no_room_before = series_value(no_room);
  start();
  driver_state().max_instances = 0;
  auto id = create(compute_order())[0].id;
  driver_state().max_instances = 1;
  tick(1100ms); // the back-off retry, 1.1 s after the order came
  REQUIRE(get(id).state == order_state::fulfilled);
  CHECK(series_value(no_room) == no_room_before + 1);
  CHECK(series_value(placed) == placed_before + 1);
  CHECK(series_value(within_1s) == within_1s_before);
  CHECK(series_value(within_2_5s) == within_2_5s_before + 1);
}

TEST_CASE_FIXTURE(scheduler_fixture, "back-off doubles up to its ceiling") {
  start();
  driver_state().max_instances = 0;
  create(compute_order());
  CHECK(sched_state().backoff_ms == 1000);
  tick(1000ms);
  CHECK(sched_state().backoff_ms == 2000);
  tick(2000ms);
  CHECK(sched_state().backoff_ms == 4000);
  tick(4000ms);
  tick(8000ms);
  CHECK(sched_state().backoff_ms == 8000);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "a persistent order replaces a failed instance") {
  start();
  auto tmpl = compute_order();
  tmpl.type = order_type::persistent;
  auto id = create(tmpl)[0].id;
  auto before = get(id);
  REQUIRE(before.state == order_state::fulfilled);
  auto inst = driver_state().instances.begin()->second;
  inst.state = instance_state::failed;
  inst.fault = "process exited with status 1";
  self->send(aut, atom::instance_changed_v, inst);
  run();
  auto after = get(id);
  CHECK(after.state == order_state::fulfilled);
  CHECK(after.instance_id != before.instance_id);
  CHECK(driver_state().instances.size() == 1);
  CHECK(driver_state().erases == 1);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "a one-time order closes when its instance fails") {
  start();
  auto id = create(compute_order())[0].id;
  auto inst = driver_state().instances.begin()->second;
  inst.state = instance_state::failed;
  inst.fault = "killed by signal 9";
  self->send(aut, atom::instance_changed_v, inst);
  run();
  auto o = get(id);
  CHECK(o.state == order_state::closed);
  CHECK(o.instance_id.empty());
  CHECK(o.last_error.find("killed by signal 9") != std::string::npos);
  CHECK(driver_state().instances.empty());
  CHECK(store_rows().at(id).state == order_state::closed);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "an open order closes when its validity ends") {
  start();
  driver_state().max_instances = 0;
  auto tmpl = compute_order();
  tmpl.valid_until = fake_now + 5000;
  auto id = create(tmpl)[0].id;
  CHECK(get(id).state == order_state::open);
  tick(4000ms);
  CHECK(get(id).state == order_state::open);
  tick(1000ms);
  CHECK(get(id).state == order_state::closed);
  CHECK(store_rows().at(id).state == order_state::closed);
}

TEST_CASE_FIXTURE(scheduler_fixture, "an order waits for valid_from") {
  start();
  auto tmpl = compute_order();
  tmpl.valid_from = fake_now + 60000;
  auto id = create(tmpl)[0].id;
  CHECK(get(id).state == order_state::open);
  CHECK(driver_state().creates == 0);
  tick(59000ms);
  CHECK(driver_state().creates == 0);
  tick(1000ms);
  CHECK(get(id).state == order_state::fulfilled);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "deleting an order removes its instance and the order") {
  start();
  auto id = create(compute_order())[0].id;
  REQUIRE(driver_state().instances.size() == 1);
  self->send(aut, atom::erase_v, std::string{"alice"}, id);
  run();
  self->receive([](order& o) { CHECK(o.state == order_state::deleted); },
                [](caf::error& e) { FAIL(message_of(e)); });
  CHECK(driver_state().instances.empty());
  CHECK(store_rows().count(id) == 0);
  CHECK(get_error(id, "alice") == errc::not_found);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "a user never sees another user's orders") {
  start();
  auto id = create(compute_order("alice"))[0].id;
  CHECK(get_error(id, "bob") == errc::not_found);
  auto bobs = orders_page({}, "bob");
  REQUIRE(bobs);
  CHECK(bobs->items.empty());
  self->send(aut, atom::erase_instance_v, std::string{"bob"},
             get(id).instance_id);
  run();
  self->receive([](atom::ok) { FAIL("bob removed alice's instance"); },
                [](caf::error& e) { CHECK(code_of(e) == errc::not_found); });
  CHECK(driver_state().instances.size() == 1);
}

TEST_CASE_FIXTURE(
  scheduler_fixture,
  "a kind the driver does not serve stays open and is not retried") {
  start();
  driver_state().unsupported.insert(resource_kind::volume);
  auto id = create(volume_order())[0].id;
  auto o = get(id);
  CHECK(o.state == order_state::open);
  CHECK(o.last_error == "no driver for this kind");
  CHECK(store_rows().at(id).last_error == "no driver for this kind");
  CHECK(sched_state().parked.count(id) == 1);
  // Neither the back-off timer nor freed capacity tries it again.
  tick(60s);
  self->send(aut, atom::capacity_freed_v);
  run();
  CHECK(get(id).attempts == 1);
  CHECK(sched_state().ready.empty());
}

TEST_CASE_FIXTURE(
  scheduler_fixture,
  "volume and network orders reach the driver with their sizes") {
  start();
  auto v = create(volume_order(7))[0].id;
  auto n_tmpl = compute_order();
  n_tmpl.kind = resource_kind::network;
  n_tmpl.network_cidr = "10.9.0.0/24";
  n_tmpl.network_gateway = "10.9.0.1";
  n_tmpl.network_allocation = "static";
  auto n = create(n_tmpl)[0].id;
  CHECK(get(v).state == order_state::fulfilled);
  CHECK(get(n).state == order_state::fulfilled);
  auto& vs = driver_state().specs.at(v);
  CHECK(vs.kind == resource_kind::volume);
  CHECK(vs.size_gb == 7);
  CHECK(vs.requirements.empty());
  auto& ns = driver_state().specs.at(n);
  CHECK(ns.kind == resource_kind::network);
  CHECK(ns.network_cidr == "10.9.0.0/24");
  CHECK(ns.network_gateway == "10.9.0.1");
  CHECK(ns.network_allocation == "static");
  // Each kind is listed on its own.
  CHECK(instances_of(resource_kind::volume).size() == 1);
  CHECK(instances_of(resource_kind::network).size() == 1);
  CHECK(instances_of(resource_kind::compute).empty());
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "a full volume quota does not hold back compute orders") {
  start();
  driver_state().full.insert(resource_kind::volume);
  auto v = create(volume_order())[0].id;
  auto c = create(compute_order())[0].id;
  CHECK(get(v).state == order_state::open);
  CHECK(get(c).state == order_state::fulfilled);
  CHECK(sched_state().blocked.count(resource_kind::volume) == 1);
  // The quota grows: the cloud says so, and the volume is served.
  driver_state().full.clear();
  self->send(aut, atom::capacity_freed_v);
  run();
  CHECK(get(v).state == order_state::fulfilled);
}

TEST_CASE_FIXTURE(
  scheduler_fixture,
  "an attachment waits for its compute, then joins both local ids") {
  start();
  driver_state().max_instances = 1; // the volume takes the only place
  auto v = create(volume_order())[0];
  auto c = create(compute_order())[0];
  CHECK(get(c.id).state == order_state::open);
  // By order id for the compute, by instance id for the volume.
  auto att = create(attachment_order(c.id, get(v.id).instance_id))[0].id;
  auto waiting = get(att);
  CHECK(waiting.state == order_state::open);
  CHECK(waiting.last_error
        == "waiting for the compute " + c.id + " to be running");
  CHECK(sched_state().awaiting.count(att) == 1);
  driver_state().max_instances = 10;
  self->send(aut, atom::capacity_freed_v);
  run();
  CHECK(get(c.id).state == order_state::fulfilled);
  auto done = get(att);
  CHECK(done.state == order_state::fulfilled);
  auto& spec = driver_state().specs.at(att);
  CHECK(spec.server_id == split_instance_id(get(c.id).instance_id)->first);
  CHECK(spec.volume_id == split_instance_id(get(v.id).instance_id)->first);
  CHECK(spec.device == "/dev/vdb");
  // The user sees global ids only.
  auto views = instances_of(resource_kind::attachment);
  REQUIRE(views.size() == 1);
  CHECK(views[0].id == done.instance_id);
  CHECK(views[0].server_id == get(c.id).instance_id);
  CHECK(views[0].volume_id == get(v.id).instance_id);
}

TEST_CASE_FIXTURE(
  scheduler_fixture,
  "a volume in use by an attachment order is deleted only after it") {
  start();
  auto v = create(volume_order())[0].id;
  auto c = create(compute_order())[0].id;
  auto att = create(attachment_order(c, v))[0].id;
  REQUIRE(get(att).state == order_state::fulfilled);
  for (auto& target : {v, c}) {
    self->send(aut, atom::erase_v, std::string{"alice"}, target);
    run();
    self->receive([](order&) { FAIL("deleted while attached"); },
                  [&](caf::error& e) {
                    CHECK(code_of(e) == errc::conflict);
                    CHECK(message_of(e).find(att) != std::string::npos);
                  });
  }
  self->send(aut, atom::erase_instance_v, std::string{"alice"},
             get(v).instance_id);
  run();
  self->receive(
    [](atom::ok) { FAIL("volume instance removed while attached"); },
    [](caf::error& e) { CHECK(code_of(e) == errc::conflict); });
  CHECK(get(v).state == order_state::fulfilled);
  auto erases = driver_state().erases;
  // Detach first, then the volume goes.
  self->send(aut, atom::erase_v, std::string{"alice"}, att);
  run();
  self->receive([](order& o) { CHECK(o.state == order_state::deleted); },
                [](caf::error& e) { FAIL(message_of(e)); });
  CHECK(driver_state().erases == erases + 1);
  self->send(aut, atom::erase_v, std::string{"alice"}, v);
  run();
  self->receive([](order& o) { CHECK(o.state == order_state::deleted); },
                [](caf::error& e) { FAIL(message_of(e)); });
  CHECK(driver_state().erases == erases + 2);
}

TEST_CASE_FIXTURE(
  scheduler_fixture,
  "an attachment must name live orders of the same user and kind") {
  start();
  auto bobs_volume = create(volume_order(1, "bob"))[0].id;
  auto c = create(compute_order())[0].id;
  auto v = create(volume_order())[0].id;
  CHECK(code_of(create_error(attachment_order(c, bobs_volume)))
        == errc::invalid_argument);
  CHECK(code_of(create_error(attachment_order(v, c)))
        == errc::invalid_argument); // swapped
  CHECK(code_of(create_error(attachment_order(c, "nothing@site-a")))
        == errc::invalid_argument);
  // A target that ends before the attachment is placed fails it.
  driver_state().max_instances = 2; // compute and volume fill it
  auto short_lived = compute_order();
  short_lived.valid_until = fake_now + 10'000;
  auto c2 = create(short_lived)[0].id;
  auto att = create(attachment_order(c2, v))[0].id;
  CHECK(get(att).state == order_state::open);
  tick(11s); // c2 ends while still open
  CHECK(get(c2).state == order_state::closed);
  CHECK(get(att).state == order_state::failed);
  CHECK(get(att).last_error == "the compute " + c2 + " is closed");
  CHECK(code_of(create_error(attachment_order(c2, v)))
        == errc::invalid_argument);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "restart reconciles stored orders with the cloud") {
  auto make = [&](std::string id, order_state s, order_type t,
                  std::string instance_id = {}) {
    auto o = compute_order();
    o.id = std::move(id);
    o.state = s;
    o.type = t;
    o.instance_id = std::move(instance_id);
    o.created_at = fake_now;
    return o;
  };
  auto running = [](std::string id, std::string order_id) {
    instance i;
    i.id = std::move(id);
    i.order_id = std::move(order_id);
    i.state = instance_state::running;
    return i;
  };
  std::vector<order> stored{
    // created just before the crash, not yet marked: adopted, not duplicated
    make("o-spawning", order_state::spawning, order_type::one_time),
    // fulfilled and still running: kept as is
    make("o-kept", order_state::fulfilled, order_type::one_time, "vm-7@site-a"),
    // fulfilled but its instance vanished: persistent, so replaced
    make("o-lost", order_state::fulfilled, order_type::persistent,
         "vm-8@site-a"),
    // deleted by its user, instance not yet removed
    make("o-deleted", order_state::deleted, order_type::one_time,
         "vm-9@site-a"),
  };
  std::vector<instance> cloud{
    running("vm-6", "o-spawning"), running("vm-7", "o-kept"),
    running("vm-9", "o-deleted"), running("vm-leak", "o-unknown")};
  driver_state().next_id = 100;
  start(stored, cloud);
  CHECK(get("o-spawning").state == order_state::fulfilled);
  CHECK(get("o-spawning").instance_id == "vm-6@site-a");
  CHECK(get("o-kept").instance_id == "vm-7@site-a");
  auto lost = get("o-lost");
  CHECK(lost.state == order_state::fulfilled);
  CHECK(lost.instance_id == "vm-100@site-a");
  CHECK(get_error("o-deleted", "alice") == errc::not_found);
  CHECK(store_rows().count("o-deleted") == 0);
  auto& left = driver_state().instances;
  CHECK(left.count("vm-leak") == 0);
  CHECK(left.count("vm-9") == 0);
  CHECK(left.size() == 3);
  CHECK(driver_state().creates == 1);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "quota reports the cloud and the user's share") {
  start();
  create(compute_order("alice"), 2);
  create(compute_order("bob"), 1);
  self->send(aut, atom::quota_v, std::string{"alice"}, std::string{"site-a"});
  run();
  self->receive(
    [](quota_report& q) {
      CHECK(q.cloud.instances_used == 3);
      CHECK(q.user_instances == 2);
      CHECK(q.user_vcpu == 2);
      CHECK(q.user_memory_mb == 1024);
    },
    [](caf::error& e) { FAIL(message_of(e)); });
  self->send(aut, atom::quota_v, std::string{"alice"}, std::string{"site-z"});
  run();
  self->receive([](quota_report&) { FAIL("unknown member answered"); },
                [](caf::error& e) { CHECK(code_of(e) == errc::not_found); });
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "a failure reported before the create reply is not lost") {
  start();
  driver_state().die_on_create = true;
  auto id = create(compute_order())[0].id;
  auto o = get(id);
  CHECK(o.state == order_state::closed);
  CHECK(o.last_error.find("exited at once") != std::string::npos);
  CHECK(driver_state().instances.empty());
  CHECK(sched_state().early_failures.empty());
}
