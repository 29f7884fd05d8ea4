// Typed errors that travel between actors and reach users as 4xx/5xx.
// A caf::error with category "fogbow" carries one of these codes and a
// human-readable message as its context.
#pragma once

#include <caf/error.hpp>

#include <cstdint>
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
  // --- federation ---
  unavailable,        ///< a remote party is unreachable (XMPP down, gone)
  timeout,            ///< a remote party did not answer in time
};

std::string_view to_string(errc x);

caf::error make_error(errc code, std::string message);

/// The fogbow code of `e`, or nullopt-like errc::none when `e` is not ours
/// (e.g. a CAF request timeout).
errc code_of(const caf::error& e);

/// The message a fogbow error carries, or CAF's rendering of others.
std::string message_of(const caf::error& e);

} // namespace fogbow
