// Typed errors that travel between actors and reach users as 4xx/5xx.
// A caf::error with category "fogbow" carries one of the codes of
// domain/errors.hpp and a human-readable message as its context.
#pragma once

#include "domain/errors.hpp"

#include <caf/error.hpp>

#include <string>

namespace fogbow {

caf::error make_error(errc code, std::string message);

/// The fogbow code of `e`, or nullopt-like errc::none when `e` is not ours
/// (e.g. a CAF request timeout).
errc code_of(const caf::error& e);

/// The message a fogbow error carries, or CAF's rendering of others.
std::string message_of(const caf::error& e);

} // namespace fogbow
