// libFuzzer target: what the tunnel API reads from any HTTP client before
// authentication: the path, the X-Auth-Token / Basic credential, the port
// segment and the manager's register body.
#include "http/tunnel_request.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

namespace tr = fogbow::tunnel_request;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  FuzzedDataProvider in{data, size};
  auto path = "/" + in.ConsumeRandomLengthString(512);
  std::optional<std::string> token;
  if (in.ConsumeBool())
    token = in.ConsumeRandomLengthString(256);
  auto authorization = in.ConsumeRandomLengthString(512);
  auto body = in.ConsumeRemainingBytesAsString();

  auto segments = tr::path_segments(path);
  std::size_t total = 0;
  for (const auto& s : segments)
    total += s.size() + 1;
  if (segments.empty() || total != path.size())
    std::abort(); // the segments and their slashes are the whole path
  for (const auto& s : segments)
    if (auto port = tr::port_segment(s); port && (*port < 1 || *port > 65535))
      std::abort();
  auto secret = tr::credential(token, authorization);
  if (token && secret != token)
    std::abort();
  (void)tr::register_body(body);
  return 0;
}
