// The OpenAPI 3 document of the REST API: docs/openapi.yaml converted to
// JSON at build time (scripts/openapi_to_cpp.py) and compiled in, so a
// manager serves it (GET /v1/openapi.json) without any data file.
#pragma once

#include <string_view>

namespace fogbow {

/// The document as compact JSON; valid for the life of the program.
std::string_view openapi_json();

} // namespace fogbow
