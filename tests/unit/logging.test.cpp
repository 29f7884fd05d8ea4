// The JSON log format: every record is one line holding one JSON object
// with the time, level, logger and message, whatever the message holds.

#include "roles/logging.hpp"
#include "roles/config.hpp"
#include "support/config_errors.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>

#include <regex>
#include <string>

using namespace fogbow;
using fogbow::test::error_of;
using fogbow::test::mentions;

namespace {

std::string format_json(const std::string& logger, spdlog::level::level_enum l,
                        const std::string& message) {
  spdlog::details::log_msg msg{logger, l, message};
  spdlog::memory_buf_t out;
  json_log_formatter()->format(msg, out);
  return {out.data(), out.size()};
}

} // namespace

TEST_CASE("a JSON log record is one line with time, level, logger, message") {
  auto line = format_json("scheduler", spdlog::level::warn, "order o1 failed");
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  auto record = nlohmann::json::parse(line);
  CHECK(record.size() == 4);
  CHECK(record["level"] == "warning");
  CHECK(record["logger"] == "scheduler");
  CHECK(record["message"] == "order o1 failed");
  static const std::regex utc{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"};
  CHECK(std::regex_match(record["time"].get<std::string>(), utc));
}

TEST_CASE("a JSON log record escapes quotes, newlines and control bytes") {
  std::string nasty = "say \"hi\"\\ \nsecond line\r\t\x01 end";
  auto line = format_json("http", spdlog::level::info, nasty);
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(nlohmann::json::parse(line)["message"] == nasty);
}

TEST_CASE("a JSON log record stays valid when the message is not UTF-8") {
  auto line = format_json("fogbow", spdlog::level::err, "peer sent \xff\xfe!");
  auto record = nlohmann::json::parse(line);
  CHECK(record["level"] == "error");
  CHECK(record["message"] == "peer sent \xef\xbf\xbd\xef\xbf\xbd!");
}

TEST_CASE("[log] format is text or json") {
  CHECK(parse_config("", "empty").log.format == "text");
  CHECK(parse_config("[log]\nformat = \"json\"\n", "json").log.format
        == "json");
  CHECK(mentions(error_of("[log]\nformat = \"xml\"\n"), "format"));
}
