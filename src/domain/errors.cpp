#include "domain/errors.hpp"

namespace fogbow {

std::string_view to_string(errc x) {
  switch (x) {
  case errc::none:
    return "none";
  case errc::not_found:
    return "not_found";
  case errc::invalid_argument:
    return "invalid_argument";
  case errc::no_capacity:
    return "no_capacity";
  case errc::no_matching_flavor:
    return "no_matching_flavor";
  case errc::unsupported:
    return "unsupported";
  case errc::cloud_error:
    return "cloud_error";
  case errc::storage_failure:
    return "storage_failure";
  case errc::unauthorized:
    return "unauthorized";
  case errc::conflict:
    return "conflict";
  case errc::unavailable:
    return "unavailable";
  case errc::timeout:
    return "timeout";
  }
  return "unknown";
}

} // namespace fogbow
