#pragma once
// The process's log: one spdlog logger "fogbow" on stderr, which the
// components' named loggers clone (so they share its sink and format).

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace fogbow {

/// A formatter writing each record as one line holding one JSON object:
/// {"time": "2026-12-03T14:51:00.123Z" (UTC), "level": "info",
///  "logger": "fogbow", "message": "..."}. The message is JSON-escaped
/// (quotes, backslashes, control characters; bytes that are not UTF-8
/// become U+FFFD), so a record never spans two lines.
std::unique_ptr<spdlog::formatter> json_log_formatter();

/// Creates the default logger on stderr at `level` (trace ... off) in
/// `format`: "text" (timestamp, level, logger, message) or "json" (see
/// json_log_formatter). Call once, before any component clones it.
void setup_logging(const std::string& level, const std::string& format);

} // namespace fogbow
