// The error vocabulary every layer shares: what went wrong (errc) and the
// exception the plain-C++ cores throw (cloud_failure). It lives here, at the
// bottom, because the placement rules, the cloud API libraries and the
// drivers' cores all throw it and none of them may see CAF; actors/errors.hpp
// maps it onto caf::error at the actor edge.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fogbow {

enum class errc : std::uint8_t {
  none = 0,
  not_found,          ///< no such order/instance (or not the caller's)
  invalid_argument,   ///< the request is malformed or out of range
  no_capacity,        ///< the cloud has no room now; retry later
  no_matching_flavor, ///< no flavor of this cloud satisfies the requirements
  unsupported,        ///< this driver cannot do that (e.g. volumes)
  cloud_error,        ///< the cloud refused or failed, message says why
  storage_failure,    ///< SQLite failed; nothing was acknowledged
  unauthorized,       ///< credentials missing or wrong
  conflict,           ///< the resource is in a state that forbids it
  unavailable,        ///< a remote party is unreachable (XMPP down, gone)
  timeout,            ///< a remote party did not answer in time
};

std::string_view to_string(errc x);

/// What a cloud core (local processes, an OpenStack API call, the placement
/// rules) throws; the driver actor answers make_error(code, what()).
struct cloud_failure : std::runtime_error {
  cloud_failure(errc code, const std::string& message)
      : std::runtime_error(message), code(code) {}
  errc code;
};

} // namespace fogbow
