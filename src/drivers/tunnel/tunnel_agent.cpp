#include "drivers/tunnel/tunnel_agent.hpp"

#include "util/encoding.hpp"

#include <algorithm>
#include <cctype>
#include <random>

namespace fogbow {

namespace {

/// Single-quoted for sh.
std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The part of the agent that does not depend on the order. `connect NAME
// LOCALPORT` registers the instance's key (and, for NAME != ssh, the named
// token), trusts the tunnel's host key from /hostkey, and runs ssh -N -R,
// again and again: a killed or dropped ssh is back within seconds, and the
// tunnel hands the port to the new session at once.
constexpr const char* connect_script = R"SH(#!/bin/sh
# fogbow tunnel agent: connect NAME LOCALPORT  (NAME "ssh": the main port)
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/env"
name=${1:-ssh}; lport=${2:-$FOGBOW_TUNNEL_LOCAL_PORT}
base=$FOGBOW_TUNNEL_TOKEN; token=$base
[ "$name" = ssh ] || token="$base-$name"
auth="$base:$FOGBOW_TUNNEL_SECRET"
[ -f "$dir/key" ] || ssh-keygen -q -t ed25519 -N '' -C "fogbow-$base" -f "$dir/key" || exit 1
while :; do
  reply=$(curl -fsS -m 10 -X POST -u "$auth" --data-binary "@$dir/key.pub" \
          "$FOGBOW_TUNNEL_API/token/$base/key") || { sleep 3; continue; }
  if [ "$name" != ssh ]; then
    reply=$(curl -fsS -m 10 -X POST -u "$auth" "$FOGBOW_TUNNEL_API/token/$token") \
      || { sleep 3; continue; }
  fi
  port=${reply%%:*}; sshport=${reply##*:}
  hostkey=$(curl -fsS -m 10 "$FOGBOW_TUNNEL_API/hostkey") || { sleep 3; continue; }
  if [ "$sshport" = 22 ]; then h=$FOGBOW_TUNNEL_SSH_HOST; else h="[$FOGBOW_TUNNEL_SSH_HOST]:$sshport"; fi
  echo "$h ssh-ed25519 $hostkey" > "$dir/known_hosts"
  echo "$(date -u +%FT%TZ) forwarding $token port $port to 127.0.0.1:$lport"
  ssh -N -F /dev/null -i "$dir/key" -o IdentitiesOnly=yes -o BatchMode=yes \
      -o ExitOnForwardFailure=yes -o ServerAliveInterval=10 -o ServerAliveCountMax=3 \
      -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$dir/known_hosts" \
      -p "$sshport" -R "0.0.0.0:$port:127.0.0.1:$lport" \
      -l "$token" "$FOGBOW_TUNNEL_SSH_HOST"
  echo "$(date -u +%FT%TZ) ssh exited with $?, reconnecting"
  sleep 1
done
)SH";

} // namespace

std::string tunnel_agent_script(const tunnel_agent_settings& s,
                                const tunnel_access& a) {
  std::string env =
    "FOGBOW_TUNNEL_TOKEN=" + q(a.token) + "\n" + "FOGBOW_TUNNEL_SECRET="
    + q(a.secret) + "\n" + "FOGBOW_TUNNEL_API=" + q(s.api_url) + "\n"
    + "FOGBOW_TUNNEL_SSH_HOST=" + q(s.ssh_host) + "\n"
    + "FOGBOW_TUNNEL_LOCAL_PORT=" + q(std::to_string(s.local_port)) + "\n";
  return "#!/bin/sh\n"
         "# Fogbow tunnel agent: publishes this instance's port "
         + std::to_string(s.local_port)
         + " through the tunnel.\n"
           "D=\"${HOME:-/root}/.fogbow-tunnel\"\n"
           "umask 077\n"
           "mkdir -p \"$D\" || exit 1\n"
           "cat > \"$D/env\" <<'FOGBOW_ENV'\n"
         + env
         + "FOGBOW_ENV\n"
           "cat > \"$D/connect\" <<'FOGBOW_CONNECT'\n"
         + connect_script
         + "FOGBOW_CONNECT\n"
           "chmod 700 \"$D/connect\"\n"
           "[ -f \"$D/key\" ] || ssh-keygen -q -t ed25519 -N '' -C "
           "fogbow-tunnel -f \"$D/key\" || exit 1\n"
           "nohup \"$D/connect\" ssh >> \"$D/agent.log\" 2>&1 &\n";
}

std::string tunnel_user_data(const tunnel_agent_settings& s,
                             const tunnel_access& a,
                             const std::string& user_data) {
  std::mt19937_64 rng{std::random_device{}()};
  std::string boundary = "==fogbow-" + std::to_string(rng()) + "==";
  while (user_data.find(boundary) != std::string::npos)
    boundary = "==fogbow-" + std::to_string(rng()) + "==";
  std::string out = "Content-Type: multipart/mixed; boundary=\"" + boundary
                    + "\"\nMIME-Version: 1.0\n\n";
  auto part = [&](const std::string& type, const std::string& name,
                  const std::string& body) {
    out += "--" + boundary + "\n";
    out += "Content-Type: " + type + "; charset=\"us-ascii\"\n";
    out += "MIME-Version: 1.0\nContent-Transfer-Encoding: 7bit\n";
    out += "Content-Disposition: attachment; filename=\"" + name + "\"\n\n";
    out += body;
    if (!body.empty() && body.back() != '\n')
      out += "\n";
  };
  part("text/x-shellscript", "fogbow-tunnel-agent.sh",
       tunnel_agent_script(s, a));
  if (!user_data.empty()) {
    if (user_data.starts_with("#cloud-config"))
      part("text/cloud-config", "user-cloud-config.txt", user_data);
    else
      part("text/x-shellscript", "user-data.sh", user_data);
  }
  out += "--" + boundary + "--\n";
  return out;
}

std::vector<user_data_part> split_multipart(const std::string& text) {
  std::vector<user_data_part> parts;
  auto header_end = text.find("\n\n");
  if (header_end == std::string::npos)
    return parts;
  auto headers = text.substr(0, header_end);
  auto lh = lower(headers);
  if (!lh.starts_with("content-type: multipart/")
      && lh.find("\ncontent-type: multipart/") == std::string::npos)
    return parts;
  auto b = lh.find("boundary=");
  if (b == std::string::npos)
    return parts;
  auto value = headers.substr(b + 9);
  value = value.substr(0, value.find_first_of("\n;"));
  if (!value.empty() && value.front() == '"')
    value = value.substr(1, value.find('"', 1) - 1);
  if (value.empty())
    return parts;
  auto delim = "--" + value;
  auto pos = text.find(delim, header_end);
  while (pos != std::string::npos) {
    pos += delim.size();
    if (text.compare(pos, 2, "--") == 0)
      break;
    auto start = text.find('\n', pos);
    if (start == std::string::npos)
      break;
    ++start;
    auto next = text.find("\n" + delim, start);
    if (next == std::string::npos)
      break;
    auto chunk = text.substr(start, next + 1 - start);
    auto hend = chunk.find("\n\n");
    user_data_part p;
    std::string ph = hend == std::string::npos ? chunk : chunk.substr(0, hend);
    p.body = hend == std::string::npos ? "" : chunk.substr(hend + 2);
    auto lph = lower(ph);
    auto ct = lph.find("content-type:");
    if (ct != std::string::npos) {
      auto v = lph.substr(ct + 13);
      v = v.substr(0, v.find_first_of(";\n"));
      v.erase(0, v.find_first_not_of(' '));
      p.content_type = v;
    }
    auto fn = lph.find("filename=\"");
    if (fn != std::string::npos) {
      auto e = ph.find('"', fn + 10);
      p.filename = ph.substr(fn + 10, e - fn - 10);
    }
    if (lph.find("content-transfer-encoding: base64") != std::string::npos)
      p.body = base64_decode(p.body, base64_other::skip);
    parts.push_back(std::move(p));
    pos = next + 1;
  }
  return parts;
}

} // namespace fogbow
