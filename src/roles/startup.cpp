#include "roles/startup.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>

#include <unistd.h>

namespace fogbow {

namespace {

std::atomic<bool> fatal_exit{false};

} // namespace

void request_fatal_exit() {
  if (!fatal_exit.exchange(true))
    kill(getpid(), SIGTERM);
}

bool fatal_exit_requested() {
  return fatal_exit.load();
}

void create_data_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("cannot create data directory " + dir + ": "
                             + ec.message());
}

} // namespace fogbow
