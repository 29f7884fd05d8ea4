// The paging of lists (domain/paging.hpp) and the REST API's list query
// parameters and next-page links (http/paging_params.hpp).

#include "http/paging_params.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

using namespace fogbow;

namespace {

struct item {
  std::string id;
  bool even = false;
};

std::vector<item> items(int n) {
  std::vector<item> out;
  for (int i = 0; i < n; ++i)
    out.push_back({"i" + std::to_string(i), i % 2 == 0});
  return out;
}

std::vector<const item*> pointers(const std::vector<item>& xs) {
  std::vector<const item*> out;
  for (auto& x : xs)
    out.push_back(&x);
  return out;
}

std::string joined(const page<item>& p) {
  std::string out;
  for (auto& x : p.items)
    out += x.id + " ";
  return out;
}

auto all = [](const item&) { return true; };
auto even = [](const item& x) { return x.even; };
auto id_of = [](const item& x) { return x.id; };

page_query q(std::int32_t limit, std::string marker = {}) {
  page_query out;
  out.limit = limit;
  out.marker = std::move(marker);
  return out;
}

query_lookup lookup(std::map<std::string, std::string> params) {
  return [params](std::string_view name) -> std::optional<std::string> {
    auto it = params.find(std::string{name});
    if (it == params.end())
      return std::nullopt;
    return it->second;
  };
}

std::string error_of(const std::variant<page_query, api_error>& r) {
  auto e = std::get_if<api_error>(&r);
  return e ? std::to_string(e->http_status) + " " + e->code : "ok";
}

} // namespace

TEST_CASE("take_page: limit, marker and whether more follow") {
  auto xs = items(5);
  auto ps = pointers(xs);
  CHECK(joined(*take_page(ps, q(2), all, id_of)) == "i0 i1 ");
  CHECK(take_page(ps, q(2), all, id_of)->more);
  CHECK(joined(*take_page(ps, q(2, "i1"), all, id_of)) == "i2 i3 ");
  auto last = take_page(ps, q(2, "i3"), all, id_of);
  CHECK(joined(*last) == "i4 ");
  CHECK_FALSE(last->more);
  CHECK_FALSE(take_page(ps, q(5), all, id_of)->more);
  CHECK(take_page(ps, q(2, "i4"), all, id_of)->items.empty());
  CHECK_FALSE(take_page(ps, q(2, "nope"), all, id_of));
}

TEST_CASE("take_page: the filter applies after the marker, which it need "
          "not pass") {
  auto xs = items(7);
  auto ps = pointers(xs);
  auto first = take_page(ps, q(2), even, id_of);
  CHECK(joined(*first) == "i0 i2 ");
  CHECK(first->more);
  CHECK(joined(*take_page(ps, q(2, "i1"), even, id_of)) == "i2 i4 ");
  auto last = take_page(ps, q(2, "i4"), even, id_of);
  CHECK(joined(*last) == "i6 ");
  CHECK_FALSE(last->more);
}

TEST_CASE("parse_page_query: defaults, bounds and bad values") {
  auto none = parse_page_query(lookup({}), list_filters::orders, 1000);
  REQUIRE(std::holds_alternative<page_query>(none));
  CHECK(std::get<page_query>(none).limit == 1000);
  CHECK(std::get<page_query>(none).marker.empty());
  // A configured maximum below the default is also the default.
  CHECK(
    std::get<page_query>(parse_page_query(lookup({}), list_filters::orders, 50))
      .limit
    == 50);
  auto ok = parse_page_query(lookup({{"limit", "7"},
                                     {"marker", "abc"},
                                     {"state", "open"},
                                     {"kind", "volume"},
                                     {"other", "ignored"}}),
                             list_filters::orders, 1000);
  REQUIRE(std::holds_alternative<page_query>(ok));
  auto& pq = std::get<page_query>(ok);
  CHECK(pq.limit == 7);
  CHECK(pq.marker == "abc");
  CHECK(pq.state == order_state::open);
  CHECK(pq.kind == resource_kind::volume);
  for (const char* bad :
       {"0", "-1", "1001", "", "abc", "5x", "+5", " 5", "99999999999"})
    CHECK(error_of(parse_page_query(lookup({{"limit", bad}}),
                                    list_filters::orders, 1000))
          == "400 invalid_argument");
  CHECK(error_of(parse_page_query(lookup({{"marker", ""}}),
                                  list_filters::orders, 1000))
        == "400 invalid_argument");
  CHECK(error_of(parse_page_query(lookup({{"marker", std::string(257, 'x')}}),
                                  list_filters::orders, 1000))
        == "400 invalid_argument");
  CHECK(error_of(parse_page_query(lookup({{"state", "running"}}),
                                  list_filters::orders, 1000))
        == "400 invalid_argument");
  CHECK(error_of(parse_page_query(lookup({{"kind", "disk"}}),
                                  list_filters::orders, 1000))
        == "400 invalid_argument");
}

TEST_CASE("parse_page_query: instance states, ready meaning running") {
  auto r = parse_page_query(lookup({{"state", "ready"}}),
                            list_filters::instances, 1000);
  REQUIRE(std::holds_alternative<page_query>(r));
  CHECK(std::get<page_query>(r).status == instance_state::running);
  CHECK(error_of(parse_page_query(lookup({{"state", "open"}}),
                                  list_filters::instances, 1000))
        == "400 invalid_argument");
  // Members have no filters: state and kind are ignored like any other.
  CHECK(error_of(parse_page_query(lookup({{"state", "whatever"}}),
                                  list_filters::none, 1000))
        == "ok");
}

TEST_CASE("next_page_href keeps limit and filters and encodes the marker") {
  page_query pq;
  pq.limit = 3;
  pq.state = order_state::fulfilled;
  pq.kind = resource_kind::compute;
  CHECK(next_page_href("/v1/orders", pq, "a b&c")
        == "/v1/orders?limit=3&marker=a%20b%26c&state=fulfilled&kind=compute");
  page_query iq;
  iq.limit = 2;
  iq.status = instance_state::running;
  CHECK(next_page_href("/v1/computes", iq, "vm-1@site-a")
        == "/v1/computes?limit=2&marker=vm-1@site-a&state=running");
  CHECK(page_links("/v1/orders", pq, false, "x").empty());
  CHECK(page_links("/v1/orders", pq, true, "x")[0]["rel"] == "next");
}
