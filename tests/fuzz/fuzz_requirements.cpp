// libFuzzer target: the requirements language of an order (any user's
// text). parse must answer with an expression or a parse_error; a parsed
// expression must evaluate, and combining it with the sizes asked for
// (what drivers and peers receive) must parse again, unless the sizes take
// it over the length or nesting limit (the REST codec refuses such text:
// fuzz_json_codec checks that).
#include "domain/requirements.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace req = fogbow::requirements;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto parsed = req::parse(text);
  auto* e = std::get_if<req::expression>(&parsed);
  if (!e) {
    if (std::get<req::parse_error>(parsed).position > text.size())
      std::abort();
    return 0;
  }
  req::bindings b{2, 2048, 20, "site-a"};
  (void)req::evaluate(*e, b);
  (void)req::allows_member(*e, "site-a");
  std::vector<fogbow::flavor> flavors(2);
  flavors[0].vcpu = 1;
  flavors[0].memory_mb = 512;
  flavors[1].vcpu = 4;
  flavors[1].memory_mb = 8192;
  flavors[1].disk_gb = -1;
  (void)req::smallest_matching(flavors, *e, "site-a");
  auto combined = req::parse(req::combine(text, 2, 1024, 10));
  if (auto* err = std::get_if<req::parse_error>(&combined)) {
    bool limit = err->message.find("longer than") != std::string::npos
                 || err->message.find("deeper than") != std::string::npos;
    if (!limit)
      std::abort();
  }
  return 0;
}
