// Small encoding helpers shared by the tunnel parts (allocator, API, client,
// agent): hex digests, constant-time comparison, base64 decoding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fogbow {

/// Lower-case hex of `len` bytes.
std::string to_hex(const unsigned char* data, std::size_t len);

/// Compares two secrets (or digests of them) in time that depends only on
/// their length; false when the lengths differ or both are empty.
bool same_secret(std::string_view a, std::string_view b);

/// What base64_decode does on a character outside the base64 alphabet.
enum class base64_other {
  stop, ///< ends the input there (a Basic-auth header)
  skip, ///< is passed over (MIME bodies' line breaks); '=' still ends it
};

/// Decodes base64 (standard alphabet, padding optional).
std::string base64_decode(std::string_view in,
                          base64_other other = base64_other::stop);

} // namespace fogbow
