// Small encoding helpers: hex digests, SHA-256, constant-time comparison,
// base64 (Nova user data, tunnel parts), percent-encoding of URL parts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fogbow {

/// Lower-case hex of `len` bytes.
std::string to_hex(const unsigned char* data, std::size_t len);

/// SHA-256 of `text`, lower-case hex (64 characters).
std::string sha256_hex(std::string_view text);

/// Compares two secrets (or digests of them) in time that depends only on
/// their length; false when the lengths differ or both are empty.
bool same_secret(std::string_view a, std::string_view b);

/// Base64 (RFC 4648, standard alphabet, with padding).
std::string base64_encode(std::string_view data);

/// What base64_decode does on a character outside the base64 alphabet.
enum class base64_other {
  stop, ///< ends the input there (a Basic-auth header)
  skip, ///< is passed over (MIME bodies' line breaks); '=' still ends it
};

/// Decodes base64 (standard alphabet, padding optional).
std::string base64_decode(std::string_view in,
                          base64_other other = base64_other::stop);

/// Percent-encodes `text` for a URL: RFC 3986 unreserved characters
/// (letters, digits, "-._~") and those in `also_safe` stay as they are,
/// every other byte becomes %XX (upper-case hex).
std::string percent_encode(std::string_view text,
                           std::string_view also_safe = {});

} // namespace fogbow
