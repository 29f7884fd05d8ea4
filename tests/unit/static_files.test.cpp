// src/http/static_files.*: request paths to dashboard files, and nothing
// outside the dashboard directory.

#include "http/static_files.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using namespace fogbow;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream{p, std::ios::binary} << text;
}

// A throw-away tree: root/dashboard/{index.html,app.js,style.css,...} and,
// beside it, secrets the dashboard must never serve.
struct tree {
  fs::path root;
  fs::path dir;

  tree() {
    std::random_device rd;
    root = fs::temp_directory_path()
           / ("fogbow-static-" + std::to_string(rd()) + std::to_string(rd()));
    dir = root / "dashboard";
    write(dir / "index.html", "<!doctype html>");
    write(dir / "app.js", "export {};");
    write(dir / "style.css", "body{}");
    write(dir / "img" / "logo.svg", "<svg/>");
    write(dir / ".hidden.js", "secret");
    write(dir / "notes.txt", "not a known type");
    write(dir / "backup.js~", "editor file");
    write(root / "secret.js", "outside");
    write(root / "dashboard-evil" / "x.js", "sibling with a common prefix");
    fs::create_directories(dir / "sub.js");
    fs::create_symlink(root / "secret.js", dir / "link-out.js");
    fs::create_symlink(dir / "app.js", dir / "link-in.js");
    fs::create_directory_symlink(root, dir / "up");
  }

  ~tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }

  tree(const tree&) = delete;
  tree& operator=(const tree&) = delete;
};

std::string type_of(const tree& t, std::string_view path) {
  auto f = resolve_dashboard_file(t.dir, path);
  return f ? std::string{f->content_type} : std::string{"404"};
}

} // namespace

TEST_CASE("static files: the dashboard's paths") {
  CHECK(is_dashboard_path("/"));
  CHECK(is_dashboard_path("/dashboard"));
  CHECK(is_dashboard_path("/dashboard/"));
  CHECK(is_dashboard_path("/dashboard/app.js"));
  CHECK_FALSE(is_dashboard_path("/dashboards/app.js"));
  CHECK_FALSE(is_dashboard_path("/v1/orders"));
  CHECK_FALSE(is_dashboard_path(""));
  CHECK_FALSE(is_dashboard_path("/index.html"));
}

TEST_CASE("static files: index, scripts and styles with their types") {
  tree t;
  for (auto p : {"/", "/dashboard", "/dashboard/", "/dashboard/index.html"}) {
    INFO(p);
    auto f = resolve_dashboard_file(t.dir, p);
    REQUIRE(f);
    CHECK(f->file == fs::canonical(t.dir / "index.html"));
    CHECK(f->content_type == "text/html; charset=utf-8");
  }
  CHECK(type_of(t, "/dashboard/app.js") == "text/javascript; charset=utf-8");
  CHECK(type_of(t, "/dashboard/style.css") == "text/css; charset=utf-8");
  CHECK(type_of(t, "/dashboard/img/logo.svg") == "image/svg+xml");
  // A link that stays inside is fine.
  CHECK(type_of(t, "/dashboard/link-in.js")
        == "text/javascript; charset=utf-8");
}

TEST_CASE("static files: nothing outside the directory, nothing unexpected") {
  tree t;
  for (auto p :
       {// traversal (the server hands over decoded paths: %2e%2e is "..")
        "/dashboard/../secret.js", "/dashboard/img/../../secret.js",
        "/dashboard/./app.js", "/dashboard/..", "/dashboard/%2e%2e/secret.js",
        "/dashboard/..%2fsecret.js", "/dashboard/..\\secret.js",
        // absolute paths and empty segments
        "/dashboard//etc/passwd", "/dashboard//secret.js",
        "/dashboard/img//logo.svg",
        // symlinks out of the directory, to a file or through a directory
        "/dashboard/link-out.js", "/dashboard/up/secret.js",
        "/dashboard/up/dashboard-evil/x.js",
        // dot files, unknown types, directories, missing files, NUL
        "/dashboard/.hidden.js", "/dashboard/notes.txt",
        "/dashboard/backup.js~", "/dashboard/sub.js", "/dashboard/img",
        "/dashboard/missing.js", "/dashboard/app.js/", "/etc/passwd",
        "/v1/orders"}) {
    INFO(p);
    CHECK_FALSE(resolve_dashboard_file(t.dir, p));
  }
  CHECK_FALSE(
    resolve_dashboard_file(t.dir, std::string{"/dashboard/app.js\0.css", 22}));
  // No directory configured, or one that does not exist.
  CHECK_FALSE(resolve_dashboard_file("", "/"));
  CHECK_FALSE(resolve_dashboard_file(t.root / "nowhere", "/"));
}

TEST_CASE("static files: reading is bounded") {
  tree t;
  CHECK(read_static_file(t.dir / "app.js", 1024) == "export {};");
  CHECK_FALSE(read_static_file(t.dir / "app.js", 3));
  CHECK_FALSE(read_static_file(t.dir / "missing.js", 1024));
}

TEST_CASE("static files: security headers allow only this origin") {
  std::string csp, nosniff;
  for (auto& [name, value] : dashboard_security_headers()) {
    if (name == "Content-Security-Policy")
      csp = value;
    if (name == "X-Content-Type-Options")
      nosniff = value;
  }
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("script-src 'self';") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("unsafe-eval") == std::string::npos);
  CHECK(nosniff == "nosniff");
}

TEST_CASE("static files: the configured directory wins, else one is found") {
  tree t;
  CHECK(find_dashboard_dir(t.dir.string()) == t.dir);
  // The unit tests run from the build tree: the sources' dashboard/.
  auto found = find_dashboard_dir("");
  REQUIRE_FALSE(found.empty());
  CHECK(fs::is_regular_file(found / "index.html"));
  CHECK(fs::is_regular_file(found / "app.js"));
  CHECK(fs::is_regular_file(found / "style.css"));
}
