#include "roles/startup.hpp"

#include <filesystem>

namespace fogbow {

void create_data_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("cannot create data directory " + dir + ": "
                             + ec.message());
}

} // namespace fogbow
