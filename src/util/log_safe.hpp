// Text from peers (SSH login names, token names, HTTP paths and headers,
// XMPP JIDs and payload text, error messages of remote members) made safe
// to write into a log line. Every log call that formats such text passes
// it through log_safe, so that a peer can neither forge log lines nor
// write huge ones.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fogbow {

/// Default cap of log_safe, in bytes of output (before the ellipsis).
inline constexpr std::size_t log_safe_max_bytes = 128;

/// `text` for a log line: well-formed printable UTF-8 stays as it is;
/// control characters (C0, DEL, C1, U+2028/U+2029), backslashes and bytes
/// that are not well-formed UTF-8 become `\xNN`, one per byte. The result
/// has at most `max_bytes` bytes, then "…" when `text` was cut; a cut
/// never splits an escape or a UTF-8 sequence.
std::string log_safe(std::string_view text,
                     std::size_t max_bytes = log_safe_max_bytes);

} // namespace fogbow
