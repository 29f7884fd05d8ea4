#include "roles/logging.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace fogbow {

namespace {

/// "YYYY-MM-DDTHH:MM:SS.mmmZ": UTC, so lines of hosts in different time
/// zones sort together in a log shipper.
std::string utc_time(spdlog::log_clock::time_point t) {
  using namespace std::chrono;
  auto since_epoch = t.time_since_epoch();
  auto secs = duration_cast<seconds>(since_epoch);
  auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
  std::time_t tt = secs.count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), buf,
                static_cast<int>(millis));
  return out;
}

class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json record;
    record["time"] = utc_time(msg.time);
    auto level = spdlog::level::to_string_view(msg.level);
    record["level"] = std::string(level.data(), level.size());
    record["logger"] =
      std::string(msg.logger_name.data(), msg.logger_name.size());
    record["message"] = std::string(msg.payload.data(), msg.payload.size());
    // replace: a message carrying bytes that are not UTF-8 (a peer's
    // garbage quoted in an error) must still give a valid line.
    auto line =
      record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

} // namespace

std::unique_ptr<spdlog::formatter> json_log_formatter() {
  return std::make_unique<json_formatter>();
}

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_color_mt("fogbow");
  spdlog::set_default_logger(logger);
  if (format == "json")
    spdlog::set_formatter(json_log_formatter());
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

} // namespace fogbow
