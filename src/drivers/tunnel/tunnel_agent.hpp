// The user data a compute order gets when its manager uses a tunnel: a
// cloud-init MIME multipart message (like the Java manager's) whose first
// part is the tunnel agent, a shell script that keeps `ssh -N -R` to the
// tunnel alive, and whose second part is the user's own user data.
#pragma once

#include "actors/actors.hpp"

#include <string>

namespace fogbow {

struct tunnel_agent_settings {
  std::string api_url;  ///< tunnel HTTP API as the instance reaches it
  std::string ssh_host; ///< tunnel SSH host as the instance reaches it
  int local_port = 22;  ///< the instance's port published as "ssh"
};

/// The agent script alone (POSIX sh; needs ssh, ssh-keygen and curl).
/// It keeps its files in ${HOME:-/root}/.fogbow-tunnel; there
/// `connect NAME PORT` publishes one more port as `<token>-NAME`.
std::string tunnel_agent_script(const tunnel_agent_settings& s,
                                const tunnel_access& access);

/// The MIME multipart user data: the agent, then `user_data` (if any) with
/// a content type guessed the way cloud-init does (#cloud-config,
/// #!..., else a shell script).
std::string tunnel_user_data(const tunnel_agent_settings& s,
                             const tunnel_access& access,
                             const std::string& user_data);

/// One part of a MIME multipart user data.
struct user_data_part {
  std::string content_type;
  std::string filename;
  std::string body;
};

/// Splits MIME multipart user data; returns no parts when `text` is not
/// multipart. Only 7bit/8bit and base64 transfer encodings are decoded.
std::vector<user_data_part> split_multipart(const std::string& text);

} // namespace fogbow
