#include "util/log_safe.hpp"

#include <algorithm>

namespace fogbow {

namespace {

/// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629:
/// no overlong forms, no surrogates, nothing above U+10FFFF), 0 if none.
std::size_t utf8_length(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](std::size_t i) {
    return i < s.size() && (b(i) & 0xC0) == 0x80;
  };
  unsigned char c = b(0);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2))
      return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F))
      return 0; // overlong, or a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3))
      return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F))
      return 0; // overlong, or above U+10FFFF
    return 4;
  }
  return 0;
}

/// Sequences that are well-formed but still break or fake lines: C1
/// controls (U+0080..U+009F) and the line/paragraph separators.
bool is_unsafe_sequence(std::string_view seq) {
  auto b0 = static_cast<unsigned char>(seq[0]);
  if (seq.size() == 1)
    return b0 < 0x20 || b0 == 0x7F || b0 == '\\';
  if (seq.size() == 2)
    return b0 == 0xC2 && static_cast<unsigned char>(seq[1]) < 0xA0;
  return seq == "\xE2\x80\xA8" || seq == "\xE2\x80\xA9";
}

void escape_into(std::string& out, std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 0x0F];
  }
}

} // namespace

std::string log_safe(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 4);
  std::size_t i = 0;
  while (i < text.size()) {
    auto len = utf8_length(text.substr(i));
    bool escaped = len == 0 || is_unsafe_sequence(text.substr(i, len));
    if (len == 0)
      len = 1; // one stray byte at a time
    std::size_t grows = escaped ? 4 * len : len;
    if (out.size() + grows > max_bytes)
      break;
    if (escaped)
      escape_into(out, text.substr(i, len));
    else
      out.append(text.substr(i, len));
    i += len;
  }
  if (i < text.size())
    out += "\xE2\x80\xA6"; // "…"
  return out;
}

} // namespace fogbow
