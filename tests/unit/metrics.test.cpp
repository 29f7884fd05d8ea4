// The process's Prometheus series: the text that GET /metrics serves, and
// what each recording function changes in it.

#include "metrics/metrics.hpp"
#include "http/metrics_endpoint.hpp"
#include "support/metrics_probe.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fogbow;
using fogbow::test::series_value;

TEST_CASE("metrics: every family is described in the text format") {
  auto text = metrics::scrape();
  // Families with a series from the start (a labelled family shows once
  // it has one: fogbow_orders after the manager's first scrape).
  for (std::string family :
       {"fogbow_instances", "fogbow_placement_seconds", "fogbow_members_alive",
        "fogbow_rendezvous_heartbeats_total", "fogbow_rendezvous_members",
        "fogbow_tunnel_sessions", "fogbow_tunnel_forwarded_bytes_total",
        "fogbow_tunnel_ports"}) {
    INFO(family);
    CHECK(text.find("# HELP " + family + " ") != std::string::npos);
    CHECK(text.find("# TYPE " + family + " ") != std::string::npos);
  }
}

TEST_CASE("metrics: counters move by what was counted") {
  auto heartbeats = series_value("fogbow_rendezvous_heartbeats_total");
  metrics::count_heartbeat();
  metrics::count_heartbeat();
  CHECK(series_value("fogbow_rendezvous_heartbeats_total") == heartbeats + 2);

  auto to = R"(fogbow_tunnel_forwarded_bytes_total{direction="to_instance"})";
  auto from =
    R"(fogbow_tunnel_forwarded_bytes_total{direction="from_instance"})";
  auto to_before = series_value(to);
  auto from_before = series_value(from);
  metrics::add_forwarded_bytes(metrics::direction::to_instance, 1000);
  CHECK(series_value(to) == to_before + 1000);
  CHECK(series_value(from) == from_before);

  auto errors =
    R"(fogbow_driver_errors_total{error="cloud_error",operation="create"})";
  auto errors_before = series_value(errors);
  metrics::count_driver_error("create", "cloud_error");
  CHECK(series_value(errors) == errors_before + 1);
}

TEST_CASE("metrics: gauges hold the last value set") {
  metrics::set_orders({{"volume", "open", 7}, {"volume", "fulfilled", 3}});
  auto text = metrics::scrape();
  CHECK(series_value(text, R"(fogbow_orders{kind="volume",state="open"})")
        == 7);
  CHECK(series_value(text, R"(fogbow_orders{kind="volume",state="fulfilled"})")
        == 3);
  metrics::set_port_pool(5, 100);
  text = metrics::scrape();
  CHECK(series_value(text, R"(fogbow_tunnel_ports{use="in_use"})") == 5);
  CHECK(series_value(text, R"(fogbow_tunnel_ports{use="size"})") == 100);
  auto sessions = series_value("fogbow_tunnel_sessions");
  metrics::add_tunnel_sessions(1);
  CHECK(series_value("fogbow_tunnel_sessions") == sessions + 1);
  metrics::add_tunnel_sessions(-1);
  CHECK(series_value("fogbow_tunnel_sessions") == sessions);
}

TEST_CASE("metrics: a placement lands in its place's buckets") {
  auto series = [](const char* place, const char* suffix,
                   const char* le = nullptr) {
    std::string s = std::string{"fogbow_placement_seconds_"} + suffix
                    + "{place=\"" + place + "\""
                    + (le ? std::string{",le=\""} + le + "\"" : "") + "}";
    return series_value(s);
  };
  auto count = series("remote", "count");
  auto le_2ms = series("remote", "bucket", "0.0025");
  auto le_5ms = series("remote", "bucket", "0.005");
  auto local = series("local", "count");
  metrics::observe_placement(metrics::place::remote, 0.003);
  CHECK(series("remote", "count") == count + 1);
  CHECK(series("remote", "bucket", "0.0025") == le_2ms);
  CHECK(series("remote", "bucket", "0.005") == le_5ms + 1);
  CHECK(series("local", "count") == local);
}

TEST_CASE("metrics: GET and HEAD get the text format, others 405") {
  auto res = metrics_response("GET");
  CHECK(res.status == 200);
  auto type = std::string{metrics::content_type};
  bool typed = false;
  for (auto& [name, value] : res.headers)
    typed = typed || (name == "Content-Type" && value == type);
  CHECK(typed);
  CHECK(res.body.find("# TYPE fogbow_instances gauge") != std::string::npos);
  CHECK(metrics_response("HEAD").status == 200);
  auto post = metrics_response("POST");
  CHECK(post.status == 405);
  bool allow = false;
  for (auto& [name, value] : post.headers)
    allow = allow || (name == "Allow" && value == "GET, HEAD");
  CHECK(allow);
}
