#include "domain/order.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace fogbow {

millis now_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// algorithm); avoids timegm and the process time zone.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yy + (m <= 2));
}

bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool expect_char(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

} // namespace

std::optional<millis> parse_iso8601(std::string_view s) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!read_digits(s, pos, 4, year) || !expect_char(s, pos, '-')
      || !read_digits(s, pos, 2, month) || !expect_char(s, pos, '-')
      || !read_digits(s, pos, 2, day))
    return std::nullopt;
  if (!(expect_char(s, pos, 'T') || expect_char(s, pos, 't')
        || expect_char(s, pos, ' ')))
    return std::nullopt;
  if (!read_digits(s, pos, 2, hour) || !expect_char(s, pos, ':')
      || !read_digits(s, pos, 2, minute))
    return std::nullopt;
  second = 0;
  if (expect_char(s, pos, ':') && !read_digits(s, pos, 2, second))
    return std::nullopt;
  int frac_ms = 0;
  if (expect_char(s, pos, '.')) {
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3)
        frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0)
      return std::nullopt;
    for (int i = digits; i < 3; ++i)
      frac_ms *= 10;
  }
  int offset_minutes = 0;
  if (expect_char(s, pos, 'Z') || expect_char(s, pos, 'z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '+' ? 1 : -1;
    ++pos;
    int oh, om = 0;
    if (!read_digits(s, pos, 2, oh))
      return std::nullopt;
    // Minutes are optional ("+05"), but a colon promises them ("+05:").
    if ((expect_char(s, pos, ':') || pos < s.size())
        && !read_digits(s, pos, 2, om))
      return std::nullopt;
    if (oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt; // no zone: ambiguous, refuse
  }
  if (pos != s.size())
    return std::nullopt;
  static constexpr std::array<int, 12> mdays{31, 29, 31, 30, 31, 30,
                                             31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1] || hour > 23
      || minute > 59 || second > 60)
    return std::nullopt;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap)
    return std::nullopt;
  std::int64_t days = days_from_civil(year, month, day);
  std::int64_t secs = days * 86400 + std::int64_t{hour} * 3600
                      + std::int64_t{minute} * 60 + second
                      - std::int64_t{offset_minutes} * 60;
  return secs * 1000 + frac_ms;
}

std::string format_iso8601(millis t) {
  std::int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
  int ms = static_cast<int>(t - secs * 1000);
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int rem = static_cast<int>(secs - days * 86400);
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  // Sized for any int the fields could hold, which keeps GCC's
  // -Wformat-truncation quiet in optimized builds.
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m,
                d, rem / 3600, rem / 60 % 60, rem % 60, ms);
  return buf;
}

namespace {

template <class Enum, size_t N>
std::optional<Enum>
parse_enum(std::string_view text,
           const std::array<std::pair<std::string_view, Enum>, N>& names) {
  for (auto& [name, value] : names)
    if (name == text)
      return value;
  return std::nullopt;
}

template <class Enum, size_t N>
std::string_view
enum_name(Enum x,
          const std::array<std::pair<std::string_view, Enum>, N>& names) {
  for (auto& [name, value] : names)
    if (value == x)
      return name;
  return "unknown";
}

constexpr std::array<std::pair<std::string_view, order_state>, 7> state_names{{
  {"open", order_state::open},
  {"spawning", order_state::spawning},
  {"pending", order_state::pending},
  {"fulfilled", order_state::fulfilled},
  {"failed", order_state::failed},
  {"closed", order_state::closed},
  {"deleted", order_state::deleted},
}};

constexpr std::array<std::pair<std::string_view, order_type>, 2> type_names{{
  {"one-time", order_type::one_time},
  {"persistent", order_type::persistent},
}};

constexpr std::array<std::pair<std::string_view, resource_kind>, 4> kind_names{{
  {"compute", resource_kind::compute},
  {"volume", resource_kind::volume},
  {"network", resource_kind::network},
  {"attachment", resource_kind::attachment},
}};

constexpr std::array<std::pair<std::string_view, instance_state>, 5>
  instance_state_names{{
    {"spawning", instance_state::spawning},
    {"running", instance_state::running},
    {"failed", instance_state::failed},
    {"lost", instance_state::lost},
    {"unknown", instance_state::unknown},
  }};

} // namespace

std::string_view to_string(order_state x) {
  return enum_name(x, state_names);
}
std::string_view to_string(order_type x) {
  return enum_name(x, type_names);
}
std::string_view to_string(resource_kind x) {
  return enum_name(x, kind_names);
}
std::string_view to_string(instance_state x) {
  return enum_name(x, instance_state_names);
}
std::optional<order_state> parse_order_state(std::string_view t) {
  return parse_enum(t, state_names);
}
std::optional<order_type> parse_order_type(std::string_view t) {
  return parse_enum(t, type_names);
}
std::optional<resource_kind> parse_resource_kind(std::string_view t) {
  return parse_enum(t, kind_names);
}
std::optional<instance_state> parse_instance_state(std::string_view t) {
  return parse_enum(t, instance_state_names);
}

bool is_terminal(order_state x) {
  return x == order_state::failed || x == order_state::closed;
}

bool is_valid_at(const order& o, millis now) {
  return (!o.valid_from || *o.valid_from <= now) && !is_expired_at(o, now);
}

bool is_expired_at(const order& o, millis now) {
  return o.valid_until && *o.valid_until <= now;
}

std::string global_instance_id(std::string_view local_id,
                               std::string_view member_id) {
  std::string out{local_id};
  out += '@';
  out += member_id;
  return out;
}

std::optional<std::pair<std::string, std::string>>
split_instance_id(std::string_view global_id) {
  // Member ids are bare JIDs (`site-a@xmpp.example.org`) and cloud ids
  // never hold an '@': the first one separates them.
  auto at = global_id.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == global_id.size())
    return std::nullopt;
  return std::pair{std::string{global_id.substr(0, at)},
                   std::string{global_id.substr(at + 1)}};
}

std::optional<std::string> local_instance_id(std::string_view global_id,
                                             std::string_view member_id) {
  if (member_id.empty() || global_id.size() < member_id.size() + 2
      || !global_id.ends_with(member_id))
    return std::nullopt;
  auto at = global_id.size() - member_id.size() - 1;
  if (global_id[at] != '@')
    return std::nullopt;
  return std::string{global_id.substr(0, at)};
}

std::string attachment_local_id(std::string_view server_id,
                                std::string_view volume_id) {
  return std::string{server_id} + ':' + std::string{volume_id};
}

std::optional<std::pair<std::string, std::string>>
split_attachment_id(std::string_view local_id) {
  auto colon = local_id.find(':');
  if (colon == std::string_view::npos || colon == 0
      || colon + 1 == local_id.size()
      || local_id.find(':', colon + 1) != std::string_view::npos)
    return std::nullopt;
  return std::pair{std::string{local_id.substr(0, colon)},
                   std::string{local_id.substr(colon + 1)}};
}

std::string make_uuid() {
  // A single 32-bit seed would leave only 2^32 distinct id sequences across
  // all threads and processes; seed the whole engine state instead.
  thread_local std::mt19937_64 rng = [] {
    std::random_device device;
    std::array<std::uint32_t, 8> entropy;
    for (auto& word : entropy)
      word = device();
    std::seed_seq seed(entropy.begin(), entropy.end());
    return std::mt19937_64{seed};
  }();
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[37];
  std::snprintf(
    buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
    static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
    static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
    static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

} // namespace fogbow
