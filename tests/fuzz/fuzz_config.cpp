// libFuzzer target: the TOML configuration. parse_config accepts a text or
// throws std::runtime_error naming what is wrong, and config_errors agrees
// with it. (An operator's file, but also `fogbow config check` on text
// from anywhere.)
#include "roles/config.hpp"

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  bool accepted = true;
  try {
    (void)fogbow::parse_config(text, "fuzz.toml");
  } catch (const std::runtime_error&) {
    accepted = false;
  }
  if (fogbow::config_errors(text, "fuzz.toml").empty() != accepted)
    std::abort();
  return 0;
}
