#include "drivers/tunnel/tunnel_agent.hpp"
#include "drivers/tunnel/tunnel_client.hpp"

#include <doctest/doctest.h>

using namespace fogbow;

TEST_CASE("tunnel user data: MIME with the agent first, then the user's part") {
  tunnel_agent_settings s{"http://tunnel:2223", "tunnel", 8080};
  tunnel_access a{"order-1", "s3cr'et", 20001, 2222};
  auto text = tunnel_user_data(s, a, "#!/bin/sh\necho hi\n");
  auto parts = split_multipart(text);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].content_type == "text/x-shellscript");
  CHECK(parts[0].body.find("FOGBOW_TUNNEL_TOKEN='order-1'")
        != std::string::npos);
  // Quoted for sh, whatever the secret holds.
  CHECK(parts[0].body.find("FOGBOW_TUNNEL_SECRET='s3cr'\\''et'")
        != std::string::npos);
  CHECK(parts[0].body.find("FOGBOW_TUNNEL_LOCAL_PORT='8080'")
        != std::string::npos);
  CHECK(parts[1].content_type == "text/x-shellscript");
  CHECK(parts[1].body == "#!/bin/sh\necho hi\n");
  auto cc = split_multipart(tunnel_user_data(s, a, "#cloud-config\nx: 1\n"));
  REQUIRE(cc.size() == 2);
  CHECK(cc[1].content_type == "text/cloud-config");
  CHECK(split_multipart(tunnel_user_data(s, a, "")).size() == 1);
  CHECK(split_multipart("#!/bin/sh\necho plain\n").empty());
}

TEST_CASE("tunnel user data: base64 parts are decoded") {
  std::string text = "Content-Type: multipart/mixed; boundary=XX\n\n"
                     "--XX\nContent-Type: text/x-shellscript\n"
                     "Content-Transfer-Encoding: base64\n\nZWNobyBoaQo=\n"
                     "--XX--\n";
  auto parts = split_multipart(text);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].body == "echo hi\n");
}

TEST_CASE("tunnel secrets are derived per order and differ") {
  auto a = tunnel_secret_for("manager-secret-0123", "order-1");
  CHECK(a == tunnel_secret_for("manager-secret-0123", "order-1"));
  CHECK(a != tunnel_secret_for("manager-secret-0123", "order-2"));
  CHECK(a != tunnel_secret_for("other-secret-0123", "order-1"));
  CHECK(a.size() == 64);
}
