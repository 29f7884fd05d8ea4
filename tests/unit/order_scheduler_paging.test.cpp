// Pages of the order scheduler's lists (GET /v1/orders, /v1/computes, ...):
// limit, marker, filters and a stable order, on CAF's deterministic
// scheduler.

#include "support/scheduler_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace fogbow;
using namespace fogbow::test;
using namespace std::chrono_literals;

namespace {

page_query query(std::int32_t limit, std::string marker = {}) {
  page_query q;
  q.limit = limit;
  q.marker = std::move(marker);
  return q;
}

template <class T>
std::vector<std::string> ids(const std::vector<T>& xs) {
  std::vector<std::string> out;
  for (auto& x : xs)
    out.push_back(x.id);
  return out;
}

} // namespace

TEST_CASE_FIXTURE(scheduler_fixture,
                  "orders come page by page, oldest first, without overlap") {
  start();
  std::vector<std::string> created;
  // Two batches: within a batch the creation times are equal and the id
  // decides, across batches the time does.
  for (int batch = 0; batch < 2; ++batch) {
    auto os = create(compute_order(), 3);
    std::vector<std::string> batch_ids = ids(os);
    std::sort(batch_ids.begin(), batch_ids.end());
    created.insert(created.end(), batch_ids.begin(), batch_ids.end());
    tick(1s);
  }
  std::vector<std::string> walked;
  std::vector<bool> more;
  std::string marker;
  for (int i = 0; i < 4; ++i) {
    auto p = orders_page(query(4, marker));
    REQUIRE(p);
    auto page_ids = ids(p->items);
    walked.insert(walked.end(), page_ids.begin(), page_ids.end());
    more.push_back(p->more);
    if (!p->more)
      break;
    marker = p->items.back().id;
  }
  CHECK(walked == created);
  CHECK(more == std::vector<bool>{true, false});
}

TEST_CASE_FIXTURE(scheduler_fixture, "a page exactly at the end has no more") {
  start();
  create(compute_order(), 2);
  auto p = orders_page(query(2));
  REQUIRE(p);
  CHECK(p->items.size() == 2);
  CHECK_FALSE(p->more);
  auto after = orders_page(query(2, p->items.back().id));
  REQUIRE(after);
  CHECK(after->items.empty());
  CHECK_FALSE(after->more);
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "a marker that is not one of the user's orders is refused") {
  start();
  auto alices = create(compute_order("alice"))[0].id;
  create(compute_order("bob"));
  for (const auto& marker : {std::string{"no-such-order"}, alices}) {
    auto p = orders_page(query(10, marker), "bob");
    REQUIRE_FALSE(p);
    CHECK(code_of(p.error()) == errc::invalid_argument);
  }
}

TEST_CASE_FIXTURE(scheduler_fixture, "orders filter by state and by kind") {
  start();
  driver_state().max_instances = 1;
  auto running = create(compute_order())[0].id;
  tick(1s);
  auto waiting = create(compute_order())[0].id;
  tick(1s);
  auto volume = create(volume_order())[0].id;
  auto q = query(10);
  q.state = order_state::open;
  auto open = orders_page(q);
  REQUIRE(open);
  CHECK(ids(open->items) == std::vector<std::string>{waiting, volume});
  q.kind = resource_kind::compute;
  auto open_computes = orders_page(q);
  REQUIRE(open_computes);
  CHECK(ids(open_computes->items) == std::vector<std::string>{waiting});
  // The marker's own order need not pass the filter: a client paging
  // through open orders goes on when its last one got fulfilled.
  q = query(10, running);
  q.state = order_state::open;
  auto after = orders_page(q);
  REQUIRE(after);
  CHECK(ids(after->items) == std::vector<std::string>{waiting, volume});
}

TEST_CASE_FIXTURE(scheduler_fixture,
                  "instances come page by page with their global id as "
                  "marker") {
  start();
  for (int i = 0; i < 3; ++i) {
    create(compute_order());
    tick(1s);
  }
  create(volume_order());
  auto first = instances_page(resource_kind::compute, query(2));
  REQUIRE(first);
  CHECK(first->items.size() == 2);
  CHECK(first->more);
  auto second =
    instances_page(resource_kind::compute, query(2, first->items.back().id));
  REQUIRE(second);
  CHECK(second->items.size() == 1);
  CHECK_FALSE(second->more);
  auto all = instances_of(resource_kind::compute);
  REQUIRE(all.size() == 3);
  CHECK(ids(all)
        == std::vector<std::string>{first->items[0].id, first->items[1].id,
                                    second->items[0].id});
  auto unknown =
    instances_page(resource_kind::volume, query(2, first->items[0].id));
  REQUIRE_FALSE(unknown);
  CHECK(code_of(unknown.error()) == errc::invalid_argument);
  auto q = query(10);
  q.status = instance_state::failed;
  auto failed = instances_page(resource_kind::compute, q);
  REQUIRE(failed);
  CHECK(failed->items.empty());
}
