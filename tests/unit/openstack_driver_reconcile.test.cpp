// The one reconcile loop of the openstack drivers, as plain C++: what a
// listing changes in the shared bookkeeping, and how failed deletes are
// retried with back-off until their resource is gone. (The drivers against
// a real cloud: openstack_resource_drivers.test.cpp and the integration
// tests.)
#include "drivers/openstack/reconcile.hpp"

#include <doctest/doctest.h>

using namespace fogbow;
using namespace fogbow::openstack_support;

namespace {

class test_policy : public reconcile_policy {
public:
  verdict judge(const std::string&, const instance* x) const override {
    return x ? verdict{verdict::ready} : verdict{verdict::failed};
  }
};

instance server(std::string id,
                instance_state state = instance_state::running) {
  instance x;
  x.id = std::move(id);
  x.order_id = "order-of-" + x.id;
  x.state = state;
  return x;
}

std::map<std::string, instance> listing(std::initializer_list<instance> xs) {
  std::map<std::string, instance> out;
  for (auto& x : xs)
    out.emplace(x.id, x);
  return out;
}

} // namespace

TEST_CASE(
  "reconcile: changes and losses become events, our deletes free silently") {
  reconcile_state st;
  st.known["a"] = server("a");
  st.known["b"] = server("b");
  st.known["c"] = server("c");
  st.deleting.insert("c");
  auto r = reconcile(st, listing({server("a", instance_state::failed)}), 100,
                     200, test_policy{});
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[0].id == "a");
  CHECK(r.events[0].state == instance_state::failed);
  CHECK(r.events[1].id == "b");
  CHECK(r.events[1].state == instance_state::lost);
  CHECK(r.gone.size() == 2);
  CHECK(r.freed);
  CHECK(st.known.count("a") == 1);
  CHECK(st.known.count("b") == 0);
  CHECK(st.known.count("c") == 0);
  CHECK(st.deleting.empty());
}

TEST_CASE(
  "reconcile: what we made after the listing began is not lost; the rest "
  "is adopted") {
  reconcile_state st;
  st.known["new"] = server("new");
  st.since["new"] = 150;
  auto r =
    reconcile(st, listing({server("stranger")}), 100, 200, test_policy{});
  CHECK(r.events.empty());
  CHECK_FALSE(r.freed);
  CHECK(st.known.count("new") == 1);
  CHECK(st.known.count("stranger") == 1);
}

TEST_CASE("reconcile: a discarded resource going away frees nothing") {
  reconcile_state st;
  st.deleting.insert("x");
  st.discarded.insert("x");
  auto r = reconcile(st, listing({server("x")}), 100, 200, test_policy{});
  CHECK(st.deleting.count("x") == 1);
  CHECK(st.known.count("x") == 0); // never adopted while being deleted
  r = reconcile(st, listing({}), 300, 400, test_policy{});
  CHECK_FALSE(r.freed);
  CHECK(st.deleting.empty());
  CHECK(st.discarded.empty());
}

TEST_CASE(
  "delete retries back off, run when due and end when the resource is gone") {
  reconcile_state st;
  st.timing.poll_interval_ms = 500;
  int calls = 0;
  auto remove = [&calls] { ++calls; };
  // The first back-off is at least a second, then it doubles up to a minute.
  CHECK(schedule_delete_retry(st, "s", "server", remove, 1000) == 1000);
  CHECK(st.deleting.count("s") == 1);
  auto seen = listing({server("s")});
  CHECK(due_delete_retries(st, seen, 1500, 1999).empty());
  auto due = due_delete_retries(st, seen, 1500, 2000);
  REQUIRE(due == std::vector<std::string>{"s"});
  CHECK(due_delete_retries(st, seen, 1500, 9999).empty()); // in flight
  CHECK(schedule_delete_retry(st, "s", "server", remove, 2100) == 2000);
  CHECK(schedule_delete_retry(st, "s", "server", remove, 5000) == 4000);
  for (int i = 0; i < 10; ++i)
    schedule_delete_retry(st, "s", "server", remove, 6000);
  CHECK(st.retrying["s"].backoff_ms == 60000);
  st.retrying["s"].remove();
  CHECK(calls == 1);
  // A listing that began before the last failure may show it still: kept.
  CHECK(due_delete_retries(st, listing({}), 5999, 6001).empty());
  CHECK(st.retrying.count("s") == 1);
  // One that began after it and does not show it: gone, retry dropped.
  CHECK(due_delete_retries(st, listing({}), 6001, 6002).empty());
  CHECK(st.retrying.empty());
  CHECK(st.busy()); // still being deleted until a listing no longer shows it
}

TEST_CASE("deletes are retried when the cloud failed, not when it refused") {
  CHECK(transient(make_error(errc::cloud_error, "HTTP 500")));
  CHECK(transient(make_error(errc::timeout, "no answer")));
  CHECK(transient(caf::error{caf::sec::request_timeout}));
  CHECK_FALSE(transient(make_error(errc::conflict, "attached")));
  CHECK_FALSE(transient(make_error(errc::not_found, "gone")));
}

TEST_CASE("a quota block ends when the policy sees room again") {
  reconcile_state st;
  st.quota_blocked = {"full", "freed"};
  std::map<std::string, int> blocked_limits; // the free room when blocked
  auto room_again = [](int now, const int* before) {
    return before && now > *before;
  };
  CHECK(end_quota_blocks(st, blocked_limits, {{"full", 0}, {"freed", 0}},
                         room_again)
          .empty());
  CHECK(blocked_limits.size() == 2);
  auto unblocked = end_quota_blocks(st, blocked_limits,
                                    {{"full", 0}, {"freed", 1}}, room_again);
  CHECK(unblocked == std::vector<std::string>{"freed"});
  CHECK(st.quota_blocked == std::set<std::string>{"full"});
  CHECK(blocked_limits.count("freed") == 0);
}
