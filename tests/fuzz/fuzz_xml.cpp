// libFuzzer target: the XML parser every IQ payload from the federation
// goes through. parse throws only xml::parse_error; a parsed tree
// serializes to a document that parses back to the same tree.
#include "federation/xml.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace xml = fogbow::xml;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  xml::element tree;
  try {
    tree = xml::parse(text);
  } catch (const xml::parse_error&) {
    return 0;
  }
  auto again = xml::parse(xml::to_string(tree));
  if (!(again == tree))
    std::abort();
  return 0;
}
