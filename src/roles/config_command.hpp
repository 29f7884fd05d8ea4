// `fogbow config check FILE` and `fogbow config defaults`: the operator's
// view of the configuration's key table (roles/config.hpp).
#pragma once

#include <string_view>

namespace fogbow {

/// True when argv[1] names the config command.
bool is_config_command(std::string_view first_arg);

/// Runs `fogbow config ...`; returns the exit code: 0 ok, 1 the file has
/// errors (each printed on stderr), 2 usage error or unreadable file.
int run_config_command(int argc, char** argv);

} // namespace fogbow
