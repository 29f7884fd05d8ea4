#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <memory>

namespace fogbow::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Seconds from 1 ms to 5 min: a local order takes milliseconds, one on a
// real cloud (or one that waited for room) minutes.
const Histogram::BucketBoundaries placement_buckets{
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
  1,     2.5,    5,     10,   30,    60,   120, 300};
// SQLite commits: tens of microseconds with WAL, up to a disk's fsync.
const Histogram::BucketBoundaries commit_buckets{
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
  0.01,    0.025,  0.05,    0.1,    0.25,  1};
// IQ round trips: a loopback server answers in a fraction of a
// millisecond, a far member in tens; timeouts are counted apart.
const Histogram::BucketBoundaries iq_buckets{
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
  0.1,     0.25,   0.5,   1,      2.5,   5,    10};

struct instruments {
  std::shared_ptr<prometheus::Registry> registry =
    std::make_shared<prometheus::Registry>();

  Family<Gauge>& orders = BuildGauge()
                            .Name("fogbow_orders")
                            .Help("Orders by kind and state (manager)")
                            .Register(*registry);
  Gauge& instances =
    BuildGauge()
      .Name("fogbow_instances")
      .Help("Instances on this member's cloud, served ones included")
      .Register(*registry)
      .Add({});
  Family<Histogram>& placement =
    BuildHistogram()
      .Name("fogbow_placement_seconds")
      .Help("From an order's acceptance to its instance (place: local, "
            "remote = by another member, served = here for another member)")
      .Register(*registry);
  std::array<Histogram*, 3> placement_by_place{
    &placement.Add({{"place", "local"}}, placement_buckets),
    &placement.Add({{"place", "remote"}}, placement_buckets),
    &placement.Add({{"place", "served"}}, placement_buckets)};
  Family<Counter>& driver_errors =
    BuildCounter()
      .Name("fogbow_driver_errors_total")
      .Help("Failed cloud driver calls by operation and error")
      .Register(*registry);
  Family<Histogram>& commits =
    BuildHistogram()
      .Name("fogbow_store_commit_seconds")
      .Help("SQLite transaction commit latency by store")
      .Register(*registry);
  Gauge& members_alive =
    BuildGauge()
      .Name("fogbow_members_alive")
      .Help("Federation members the rendezvous last reported alive")
      .Register(*registry)
      .Add({});

  Family<Gauge>& xmpp_connected =
    BuildGauge()
      .Name("fogbow_xmpp_connected")
      .Help("1 while the XMPP account is connected to its server")
      .Register(*registry);
  Family<Histogram>& iq_round_trip =
    BuildHistogram()
      .Name("fogbow_xmpp_iq_round_trip_seconds")
      .Help("Round trip of the IQs we send, by payload namespace")
      .Register(*registry);
  Family<Counter>& iq_timeouts =
    BuildCounter()
      .Name("fogbow_xmpp_iq_timeouts_total")
      .Help("IQs we sent that got no answer in time, by payload namespace")
      .Register(*registry);

  Counter& heartbeats =
    BuildCounter()
      .Name("fogbow_rendezvous_heartbeats_total")
      .Help("iamalive heartbeats accepted by the rendezvous")
      .Register(*registry)
      .Add({});
  Counter& whoisalive = BuildCounter()
                          .Name("fogbow_rendezvous_whoisalive_total")
                          .Help("whoisalive pages served by the rendezvous")
                          .Register(*registry)
                          .Add({});
  Gauge& rendezvous_members = BuildGauge()
                                .Name("fogbow_rendezvous_members")
                                .Help("Members the rendezvous holds alive")
                                .Register(*registry)
                                .Add({});

  Gauge& tunnel_sessions = BuildGauge()
                             .Name("fogbow_tunnel_sessions")
                             .Help("Logged-in SSH sessions of the tunnel")
                             .Register(*registry)
                             .Add({});
  Family<Counter>& forwarded =
    BuildCounter()
      .Name("fogbow_tunnel_forwarded_bytes_total")
      .Help("Bytes carried by the tunnel's port forwarding, by direction")
      .Register(*registry);
  Counter& to_instance = forwarded.Add({{"direction", "to_instance"}});
  Counter& from_instance = forwarded.Add({{"direction", "from_instance"}});
  Family<Gauge>& ports = BuildGauge()
                           .Name("fogbow_tunnel_ports")
                           .Help("Public ports of the tunnel's pool")
                           .Register(*registry);
  Gauge& ports_in_use = ports.Add({{"use", "in_use"}});
  Gauge& ports_size = ports.Add({{"use", "size"}});

  Family<Counter>& http_responses =
    BuildCounter()
      .Name("fogbow_http_responses_total")
      .Help("HTTP answers by server and status code")
      .Register(*registry);
};

instruments& the() {
  static instruments i;
  return i;
}

} // namespace

std::string scrape() {
  return prometheus::TextSerializer{}.Serialize(the().registry->Collect());
}

void set_orders(const std::vector<order_count>& counts) {
  auto& family = the().orders;
  for (auto& c : counts)
    family.Add({{"kind", c.kind}, {"state", c.state}})
      .Set(static_cast<double>(c.count));
}

void set_instances(std::int64_t n) {
  the().instances.Set(static_cast<double>(n));
}

void observe_placement(place where, double seconds) {
  the()
    .placement_by_place.at(static_cast<std::size_t>(where))
    ->Observe(seconds);
}

void count_driver_error(std::string_view operation, std::string_view error) {
  the()
    .driver_errors
    .Add({{"operation", std::string{operation}}, {"error", std::string{error}}})
    .Increment();
}

void observe_commit(std::string_view store, double seconds) {
  the()
    .commits.Add({{"store", std::string{store}}}, commit_buckets)
    .Observe(seconds);
}

void set_members_alive(std::size_t n) {
  the().members_alive.Set(static_cast<double>(n));
}

void set_xmpp_connected(std::string_view account, bool connected) {
  the()
    .xmpp_connected.Add({{"account", std::string{account}}})
    .Set(connected ? 1 : 0);
}

void observe_iq_round_trip(std::string_view ns, double seconds) {
  the()
    .iq_round_trip.Add({{"namespace", std::string{ns}}}, iq_buckets)
    .Observe(seconds);
}

void count_iq_timeout(std::string_view ns) {
  the().iq_timeouts.Add({{"namespace", std::string{ns}}}).Increment();
}

void count_heartbeat() {
  the().heartbeats.Increment();
}

void count_whoisalive() {
  the().whoisalive.Increment();
}

void set_rendezvous_members(std::size_t n) {
  the().rendezvous_members.Set(static_cast<double>(n));
}

void add_tunnel_sessions(std::int64_t delta) {
  the().tunnel_sessions.Increment(static_cast<double>(delta));
}

void add_forwarded_bytes(direction d, std::uint64_t bytes) {
  auto& i = the();
  (d == direction::to_instance ? i.to_instance : i.from_instance)
    .Increment(static_cast<double>(bytes));
}

void set_port_pool(std::size_t in_use, std::size_t size) {
  auto& i = the();
  i.ports_in_use.Set(static_cast<double>(in_use));
  i.ports_size.Set(static_cast<double>(size));
}

void count_http_response(std::string_view server, int status) {
  the()
    .http_responses
    .Add({{"server", std::string{server}}, {"code", std::to_string(status)}})
    .Increment();
}

} // namespace fogbow::metrics
