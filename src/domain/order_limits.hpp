#pragma once
// Sizes an order's free-text fields may have, whichever way the order
// arrives (REST from a user, an order IQ from another member): one rule,
// so that a member cannot send what a user could not.

#include <cstddef>

namespace fogbow {

/// User data (decoded), at most.
inline constexpr std::size_t max_user_data_bytes = std::size_t{64} * 1024;
/// An SSH public key, at most.
inline constexpr std::size_t max_public_key_bytes = std::size_t{16} * 1024;
/// A requirements expression, at most.
inline constexpr std::size_t max_requirements_bytes = 4096;

} // namespace fogbow
