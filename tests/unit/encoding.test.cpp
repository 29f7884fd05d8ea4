// src/util/encoding.*: hex, secret comparison, base64, percent-encoding.

#include "util/encoding.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fogbow;

TEST_CASE("encoding: to_hex is lower-case, two digits a byte") {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff};
  CHECK(to_hex(bytes, sizeof(bytes)) == "000fa0ff");
  CHECK(to_hex(bytes, 0).empty());
}

TEST_CASE("encoding: same_secret needs equal, non-empty texts") {
  CHECK(same_secret("abc", "abc"));
  CHECK_FALSE(same_secret("abc", "abd"));
  CHECK_FALSE(same_secret("abc", "abcd"));
  CHECK_FALSE(same_secret("", ""));
}

TEST_CASE("encoding: base64_decode stops at '=', stops or skips other junk") {
  CHECK(base64_decode("YWxpY2U6czNjcmV0") == "alice:s3cret");
  CHECK(base64_decode("YWI=") == "ab");
  CHECK(base64_decode("YWJj\r\nZGVm") == "abc");
  CHECK(base64_decode("YWJj\r\nZGVm", base64_other::skip) == "abcdef");
  CHECK(base64_decode("YWI=YWJj", base64_other::skip) == "ab");
}

TEST_CASE("percent_encode keeps unreserved and the caller's safe characters") {
  CHECK(percent_encode("a-Z_0.~") == "a-Z_0.~");
  CHECK(percent_encode("x y/z?") == "x%20y%2Fz%3F");
  CHECK(percent_encode("local-1@site:a") == "local-1%40site%3Aa");
  CHECK(percent_encode("local-1@site:a", "@:") == "local-1@site:a");
  CHECK(percent_encode(std::string_view{"a\0b", 3}, "@:") == "a%00b");
  CHECK(percent_encode("\xff") == "%FF");
}

TEST_CASE("base64 as Nova wants user data") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("#!/bin/sh\necho hi\n") == "IyEvYmluL3NoCmVjaG8gaGkK");
  CHECK(base64_encode(std::string("\xff\x00\x80", 3)) == "/wCA");
}
