// A small XML element tree for XMPP payloads, plain C++ (no Qt): the XMPP
// bridge converts the payload child of every IQ into this tree and back, so
// that every protocol codec (src/federation/) is testable without Qt.
//
// The parser is meant for hostile input: no DTD (so no entity expansion),
// bounded depth, bounded element count, bounded size; any violation is a
// parse_error, never a crash.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fogbow::xml {

/// One element: local name, resolved namespace URI, attributes (local name,
/// value; namespace declarations are not attributes), the concatenated
/// character data directly inside it, and child elements in order.
struct element {
  std::string name;
  std::string ns;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string text;
  std::vector<element> children;

  element() = default;
  element(std::string local_name, std::string namespace_uri = {})
      : name(std::move(local_name)), ns(std::move(namespace_uri)) {}

  /// The first child with this local name, in any namespace (the Java
  /// Fogbow matches RSM elements that way), or nullptr.
  const element* child(std::string_view local_name) const;

  /// The value of attribute `local_name`, or nullptr.
  const std::string* attr(std::string_view local_name) const;

  /// Appends a child and returns it.
  element& add(element child);
  /// Appends a child `<name>text</name>` (inherits this namespace when `ns`
  /// is empty) and returns it.
  element& add_text(std::string name, std::string text, std::string ns = {});
  element& set_attr(std::string name, std::string value);

  friend bool operator==(const element&, const element&) = default;
};

class parse_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct parse_limits {
  std::size_t max_bytes = 1 << 20;
  std::size_t max_depth = 32;
  std::size_t max_elements = 100000;
};

/// Parses one document (an optional XML declaration, comments, exactly one
/// root element). Throws parse_error naming what is wrong.
element parse(std::string_view text, const parse_limits& limits = {});

/// Serializes `e`; an `xmlns` is written wherever the namespace differs
/// from the parent's (`parent_ns`).
std::string to_string(const element& e, std::string_view parent_ns = {});

/// Escapes &, <, >, " and ' for text and attribute values.
std::string escape(std::string_view s);

} // namespace fogbow::xml
