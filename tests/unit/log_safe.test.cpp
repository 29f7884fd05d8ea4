// src/util/log_safe.*: peer text made safe for one log line.

#include "util/log_safe.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fogbow;

TEST_CASE("log_safe: printable text and UTF-8 stay as they are") {
  CHECK(log_safe("order-1@site-a.example") == "order-1@site-a.example");
  CHECK(log_safe("Zoë 東京 🙂") == "Zoë 東京 🙂");
  CHECK(log_safe("") == "");
}

TEST_CASE("log_safe: control characters and backslashes are escaped") {
  // A forged second line becomes part of the first.
  CHECK(log_safe("bob\n[info] tunnel: login root accepted")
        == "bob\\x0a[info] tunnel: login root accepted");
  CHECK(log_safe(std::string{"a\0b", 3}) == "a\\x00b");
  CHECK(log_safe("\r\t\x1b[31m\x7f") == "\\x0d\\x09\\x1b[31m\\x7f");
  // A literal "\x0a" typed by the peer cannot pass for an escape.
  CHECK(log_safe("\\x0a") == "\\x5cx0a");
  // C1 controls and the Unicode line separators are escaped byte-wise.
  CHECK(log_safe("a\xC2\x85z") == "a\\xc2\\x85z");
  CHECK(log_safe("a\xE2\x80\xA8z") == "a\\xe2\\x80\\xa8z");
}

TEST_CASE("log_safe: bytes that are not well-formed UTF-8 are escaped") {
  CHECK(log_safe("\xff\xfe") == "\\xff\\xfe");
  CHECK(log_safe("a\xC3") == "a\\xc3");                          // cut sequence
  CHECK(log_safe("\xC0\xAF") == "\\xc0\\xaf");                   // overlong '/'
  CHECK(log_safe("\xED\xA0\x80") == "\\xed\\xa0\\x80");          // surrogate
  CHECK(log_safe("\xF4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80"); // > U+10FFFF
}

TEST_CASE("log_safe: long text is cut at the cap with an ellipsis") {
  std::string huge(200 * 1024, 'x');
  auto out = log_safe(huge);
  CHECK(out == std::string(log_safe_max_bytes, 'x') + "\xE2\x80\xA6");
  CHECK(log_safe(std::string(128, 'y')) == std::string(128, 'y')); // fits
  CHECK(log_safe("abcdef", 4) == "abcd\xE2\x80\xA6");
  // An escape or a UTF-8 sequence is never split.
  CHECK(log_safe("ab\n", 4) == "ab\xE2\x80\xA6");
  CHECK(log_safe("abcé", 4) == "abc\xE2\x80\xA6");
  std::string newlines(100000, '\n');
  auto cut = log_safe(newlines);
  CHECK(cut.size() <= log_safe_max_bytes + 3);
  CHECK(cut.find('\n') == std::string::npos);
}
