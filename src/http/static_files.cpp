#include "http/static_files.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <system_error>

#ifndef FOGBOW_SOURCE_DASHBOARD_DIR
#define FOGBOW_SOURCE_DASHBOARD_DIR ""
#endif

namespace fogbow {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view prefix = "/dashboard";

// Only what the dashboard ships; anything else is 404, so a stray file in
// the directory (a backup, an editor's swap file) is never served.
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> types{{
  {".html", "text/html; charset=utf-8"},
  {".js", "text/javascript; charset=utf-8"},
  {".css", "text/css; charset=utf-8"},
  {".png", "image/png"},
  {".svg", "image/svg+xml"},
  {".ico", "image/x-icon"},
  {".json", "application/json"},
}};

bool plain_segment(std::string_view s) {
  return !s.empty() && s.front() != '.'
         && s.find_first_of(std::string_view{"\\%\0", 3})
              == std::string_view::npos;
}

// Every segment of a relative name is plain: no way up, no absolute part.
bool plain_name(std::string_view name) {
  while (true) {
    auto slash = name.find('/');
    if (!plain_segment(name.substr(0, slash)))
      return false;
    if (slash == std::string_view::npos)
      return true;
    name.remove_prefix(slash + 1);
  }
}

std::optional<std::string_view> content_type_of(std::string_view name) {
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  auto ext = name.substr(dot);
  for (auto [e, type] : types)
    if (e == ext)
      return type;
  return std::nullopt;
}

// `inner` lies strictly below `outer`; both canonical.
bool is_below(const fs::path& outer, const fs::path& inner) {
  auto [o, i] =
    std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return o == outer.end() && i != inner.end();
}

bool has_index(const fs::path& dir) {
  std::error_code ec;
  return !dir.empty() && fs::is_regular_file(dir / "index.html", ec);
}

} // namespace

bool is_dashboard_path(std::string_view path) {
  if (path == "/" || path == prefix)
    return true;
  return path.starts_with(prefix) && path.size() > prefix.size()
         && path[prefix.size()] == '/';
}

std::optional<static_file> resolve_dashboard_file(const fs::path& root,
                                                  std::string_view path) {
  if (!is_dashboard_path(path) || root.empty())
    return std::nullopt;
  std::string_view name = "index.html";
  if (path.size() > prefix.size() + 1)
    name = path.substr(prefix.size() + 1);
  auto type = content_type_of(name);
  if (!plain_name(name) || !type)
    return std::nullopt;
  // Symlinks are resolved before the containment check, so a link that
  // points out of the directory is refused like a "..".
  std::error_code ec;
  auto base = fs::canonical(root, ec);
  if (ec)
    return std::nullopt;
  auto file = fs::canonical(base / fs::path{std::string{name}}, ec);
  if (ec || !is_below(base, file) || !fs::is_regular_file(file, ec))
    return std::nullopt;
  return static_file{std::move(file), *type};
}

std::optional<std::string> read_static_file(const fs::path& file,
                                            std::size_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec || size > max_bytes)
    return std::nullopt;
  std::ifstream in{file, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::string body{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  if (in.bad() || body.size() > max_bytes)
    return std::nullopt;
  return body;
}

const std::vector<std::pair<std::string, std::string>>&
dashboard_security_headers() {
  static const std::vector<std::pair<std::string, std::string>> headers{
    {"Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; "
     "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
     "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-cache"},
  };
  return headers;
}

fs::path find_dashboard_dir(const std::string& configured) {
  if (!configured.empty())
    return configured;
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed =
      exe.parent_path().parent_path() / "share" / "fogbow" / "dashboard";
    if (has_index(installed))
      return installed;
  }
  fs::path source{FOGBOW_SOURCE_DASHBOARD_DIR};
  if (has_index(source))
    return source;
  return {};
}

} // namespace fogbow
