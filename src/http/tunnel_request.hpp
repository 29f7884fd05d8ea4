// What the tunnel API reads from a request before it asks the allocator
// anything: the path, the credential and the manager's register body. Kept
// apart from the server (and free of actors and HTTP libraries) so that the
// handler, the unit tests and the fuzz target run the same code: every
// function here takes peer-controlled bytes and must hold for any input.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fogbow::tunnel_request {

/// The segments of `path` after its leading '/': "/token/a/1" is {"token",
/// "a", "1"}, "/" is {""}, "/a/" is {"a", ""}. A path without a leading
/// '/' loses its first byte, as the server never hands one over.
std::vector<std::string> path_segments(std::string_view path);

/// The secret a request carries: the `X-Auth-Token` header when present
/// (even empty), else the password of an HTTP Basic `Authorization`
/// header (`authorization` is its value, empty when absent); nullopt when
/// neither gives one.
std::optional<std::string>
credential(const std::optional<std::string>& x_auth_token,
           std::string_view authorization);

/// The port of `DELETE /token/{id}/{port}`: decimal digits only, 1..65535;
/// nullopt otherwise.
std::optional<int> port_segment(std::string_view segment);

/// Why a register body was refused (the text of the 400 answer).
struct body_error {
  std::string message;
};

/// The manager's `POST /token/{id}` body: empty, or a JSON object whose
/// only field is "secret" (a string). Returns the secret, empty when none.
std::variant<std::string, body_error> register_body(std::string_view body);

} // namespace fogbow::tunnel_request
