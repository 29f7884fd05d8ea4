// The web dashboard's static files: which request path names which file of
// the dashboard directory, with which Content-Type and security headers.
// Plain C++ (no HTTP library): the REST server asks, then answers.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fogbow {

struct static_file {
  std::filesystem::path file;    ///< canonical, inside the directory
  std::string_view content_type; ///< with charset for text types
};

/// True for the paths the dashboard owns: "/", "/dashboard",
/// "/dashboard/..." (whether or not such a file exists).
bool is_dashboard_path(std::string_view path);

/// The file that the (already percent-decoded) request `path` names under
/// `root`: "/", "/dashboard" and "/dashboard/" name index.html,
/// "/dashboard/NAME" names root/NAME. Nullopt (answer 404) unless every
/// segment of NAME is a plain name (no "", ".", "..", dot files,
/// backslashes, '%', NUL), its extension is one of the known types, and
/// the file, symlinks resolved, is a regular file inside root's canonical
/// path: nothing outside the directory can be reached.
std::optional<static_file>
resolve_dashboard_file(const std::filesystem::path& root,
                       std::string_view path);

/// The whole file when it is at most `max_bytes` long; nullopt otherwise
/// or when it cannot be read.
std::optional<std::string> read_static_file(const std::filesystem::path& file,
                                            std::size_t max_bytes);

/// Headers for every dashboard file: a Content-Security-Policy allowing
/// only this origin (no inline script or style, no framing), nosniff, no
/// referrer, and revalidation so an upgraded binary's files are seen.
const std::vector<std::pair<std::string, std::string>>&
dashboard_security_headers();

/// The dashboard directory to serve: `configured` when not empty;
/// otherwise the installed one (share/fogbow/dashboard beside the
/// executable's bin/), else the source tree's dashboard/ (a build tree).
/// Empty when none has an index.html.
std::filesystem::path find_dashboard_dir(const std::string& configured);

} // namespace fogbow
