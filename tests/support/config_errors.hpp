// Helpers for tests of the configuration (roles/config.*): what
// parse_config says about a text.
#pragma once

#include "roles/config.hpp"

#include <stdexcept>
#include <string>

namespace fogbow::test {

/// The message parse_config throws for `text`; "" when the text loads.
inline std::string error_of(const std::string& text) {
  try {
    parse_config(text, "test.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

inline bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace fogbow::test
