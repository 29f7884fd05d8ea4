// What a running fogbow counts, for Prometheus: one registry per process
// (every role of `--role=all` reports into it), scraped as text at
// `GET /metrics` on each role's HTTP port (docs/metrics.md lists every
// series). prometheus-cpp stays inside metrics.cpp.
//
// Every function is thread-safe and cheap enough for the paths that call it
// (a lock-free add on a cached series, or one label look-up); none throws.
// Label values come from fixed vocabularies (order kinds and states, error
// codes, XMPP namespaces we send), never from what a peer sends, so the
// number of series stays bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fogbow::metrics {

/// The text exposition format (version 0.0.4) of every series.
std::string scrape();
/// The Content-Type of scrape()'s text.
inline constexpr std::string_view content_type =
  "text/plain; version=0.0.4; charset=utf-8";

/// Seconds from `start` to now, for the histograms.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
    .count();
}

// --- manager -------------------------------------------------------------

/// How many orders of `kind` are in `state` now; set at each scrape.
struct order_count {
  std::string kind;
  std::string state;
  std::int64_t count = 0;
};
void set_orders(const std::vector<order_count>& counts);
/// Instances on this member's cloud (served ones included).
void set_instances(std::int64_t n);

/// Where an order was placed: on this member's cloud for its own user
/// (local), by another member (remote), or here for another member
/// (served).
enum class place { local, remote, served };
/// An order became fulfilled `seconds` after it was accepted.
void observe_placement(place where, double seconds);

/// A cloud driver call failed; `operation` is create/delete/..., `error`
/// the error code (no_capacity, cloud_error, timeout, ...).
void count_driver_error(std::string_view operation, std::string_view error);

/// One SQLite transaction of `store` (orders, usage, tunnels) committed.
void observe_commit(std::string_view store, double seconds);

/// Members the manager's rendezvous last reported alive.
void set_members_alive(std::size_t n);

// --- XMPP bridge ---------------------------------------------------------

/// Whether the bridge of `account` (a bare JID) is connected.
void set_xmpp_connected(std::string_view account, bool connected);
/// An IQ we sent in `ns` was answered (result or error) after `seconds`.
void observe_iq_round_trip(std::string_view ns, double seconds);
/// An IQ we sent in `ns` got no answer in time.
void count_iq_timeout(std::string_view ns);

// --- rendezvous ----------------------------------------------------------

/// One `iamalive` heartbeat accepted.
void count_heartbeat();
/// One `whoisalive` page served.
void count_whoisalive();
/// Members the rendezvous holds alive now.
void set_rendezvous_members(std::size_t n);

// --- tunnel --------------------------------------------------------------

/// An SSH session logged in (+1) or ended (-1).
void add_tunnel_sessions(std::int64_t delta);
/// Bytes carried by port forwarding, towards the instance or from it.
enum class direction { to_instance, from_instance };
void add_forwarded_bytes(direction d, std::uint64_t bytes);
/// Public ports held by tunnels, of `size` in the pool.
void set_port_pool(std::size_t in_use, std::size_t size);

// --- every HTTP server ---------------------------------------------------

/// One answer of `server` ("rest", "tunnel", "metrics") with `status`.
void count_http_response(std::string_view server, int status);

} // namespace fogbow::metrics
