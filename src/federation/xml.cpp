#include "federation/xml.hpp"

#include <cstdint>
#include <map>
#include <optional>

namespace fogbow::xml {

const element* element::child(std::string_view local_name) const {
  for (auto& c : children)
    if (c.name == local_name)
      return &c;
  return nullptr;
}

const std::string* element::attr(std::string_view local_name) const {
  for (auto& [k, v] : attrs)
    if (k == local_name)
      return &v;
  return nullptr;
}

element& element::add(element c) {
  children.push_back(std::move(c));
  return children.back();
}

element& element::add_text(std::string n, std::string t, std::string child_ns) {
  element c{std::move(n), child_ns.empty() ? ns : std::move(child_ns)};
  c.text = std::move(t);
  return add(std::move(c));
}

element& element::set_attr(std::string n, std::string v) {
  for (auto& [k, old] : attrs)
    if (k == n) {
      old = std::move(v);
      return *this;
    }
  attrs.emplace_back(std::move(n), std::move(v));
  return *this;
}

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

namespace {

void write(std::string& out, const element& e, std::string_view parent_ns) {
  out += '<';
  out += e.name;
  if (e.ns != parent_ns) {
    out += " xmlns=\"";
    out += escape(e.ns);
    out += '"';
  }
  for (auto& [k, v] : e.attrs) {
    out += ' ';
    out += k;
    out += "=\"";
    out += escape(v);
    out += '"';
  }
  if (e.text.empty() && e.children.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  out += escape(e.text);
  for (auto& c : e.children)
    write(out, c, e.ns);
  out += "</";
  out += e.name;
  out += '>';
}

bool is_name_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'
         || c == ':';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    throw parse_error("invalid character reference");
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class parser {
public:
  parser(std::string_view s, const parse_limits& l) : s_(s), lim_(l) {}

  element document() {
    if (s_.size() > lim_.max_bytes)
      throw parse_error("document larger than " + std::to_string(lim_.max_bytes)
                        + " bytes");
    skip_misc();
    if (at("<?xml")) {
      auto end = s_.find("?>", pos_);
      if (end == std::string_view::npos)
        throw parse_error("unterminated XML declaration");
      pos_ = end + 2;
    }
    skip_misc();
    if (at("<!DOCTYPE") || at("<!doctype"))
      throw parse_error("DTDs are not allowed");
    if (!at("<"))
      throw parse_error("expected a root element");
    std::map<std::string, std::string> scope;
    scope["xml"] = "http://www.w3.org/XML/1998/namespace";
    element root = parse_element(scope, 1);
    skip_misc();
    if (pos_ != s_.size())
      throw parse_error("content after the root element");
    return root;
  }

private:
  bool at(std::string_view lit) const {
    return s_.substr(pos_, lit.size()) == lit;
  }

  char peek() const {
    if (pos_ >= s_.size())
      throw parse_error("unexpected end of document");
    return s_[pos_];
  }

  void expect(char c) {
    if (peek() != c)
      throw parse_error(std::string{"expected '"} + c + "' at offset "
                        + std::to_string(pos_));
    ++pos_;
  }

  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_]))
      ++pos_;
  }

  void skip_comment() {
    auto end = s_.find("-->", pos_ + 4);
    if (end == std::string_view::npos)
      throw parse_error("unterminated comment");
    pos_ = end + 3;
  }

  void skip_misc() {
    for (;;) {
      skip_space();
      if (at("<!--"))
        skip_comment();
      else if (at("<?") && !at("<?xml"))
        skip_pi();
      else
        return;
    }
  }

  void skip_pi() {
    auto end = s_.find("?>", pos_);
    if (end == std::string_view::npos)
      throw parse_error("unterminated processing instruction");
    pos_ = end + 2;
  }

  std::string name() {
    auto start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_]))
      ++pos_;
    if (start == pos_)
      throw parse_error("expected a name at offset " + std::to_string(start));
    return std::string{s_.substr(start, pos_ - start)};
  }

  // Decodes character data up to (not including) one of `stops`.
  std::string chars(std::string_view stops) {
    std::string out;
    while (pos_ < s_.size() && stops.find(s_[pos_]) == std::string_view::npos) {
      char c = s_[pos_];
      if (c == '&') {
        auto semi = s_.find(';', pos_);
        if (semi == std::string_view::npos || semi - pos_ > 12)
          throw parse_error("bad entity reference");
        auto ref = s_.substr(pos_ + 1, semi - pos_ - 1);
        if (ref == "lt")
          out += '<';
        else if (ref == "gt")
          out += '>';
        else if (ref == "amp")
          out += '&';
        else if (ref == "quot")
          out += '"';
        else if (ref == "apos")
          out += '\'';
        else if (ref.size() > 1 && ref[0] == '#') {
          std::uint32_t cp = 0;
          bool hex = ref[1] == 'x';
          auto digits = ref.substr(hex ? 2 : 1);
          if (digits.empty())
            throw parse_error("bad character reference");
          for (char d : digits) {
            int v;
            if (d >= '0' && d <= '9')
              v = d - '0';
            else if (hex && d >= 'a' && d <= 'f')
              v = d - 'a' + 10;
            else if (hex && d >= 'A' && d <= 'F')
              v = d - 'A' + 10;
            else
              throw parse_error("bad character reference");
            cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
            if (cp > 0x10FFFF)
              throw parse_error("invalid character reference");
          }
          append_utf8(out, cp);
        } else {
          throw parse_error("unknown entity '&" + std::string{ref} + ";'");
        }
        pos_ = semi + 1;
      } else {
        if (c == '<')
          throw parse_error("'<' in attribute value");
        out += c;
        ++pos_;
      }
    }
    return out;
  }

  static std::pair<std::string, std::string> split(const std::string& qname) {
    auto colon = qname.find(':');
    if (colon == std::string::npos)
      return {{}, qname};
    if (colon == 0 || colon + 1 == qname.size()
        || qname.find(':', colon + 1) != std::string::npos)
      throw parse_error("malformed qualified name '" + qname + "'");
    return {qname.substr(0, colon), qname.substr(colon + 1)};
  }

  element parse_element(std::map<std::string, std::string> scope,
                        std::size_t depth) {
    if (depth > lim_.max_depth)
      throw parse_error("elements nested deeper than "
                        + std::to_string(lim_.max_depth));
    if (++elements_ > lim_.max_elements)
      throw parse_error("more than " + std::to_string(lim_.max_elements)
                        + " elements");
    expect('<');
    auto qname = name();
    std::vector<std::pair<std::string, std::string>> raw_attrs;
    for (;;) {
      bool had_space = pos_ < s_.size() && is_space(s_[pos_]);
      skip_space();
      char c = peek();
      if (c == '/' || c == '>')
        break;
      if (!had_space)
        throw parse_error("expected whitespace between attributes");
      auto an = name();
      skip_space();
      expect('=');
      skip_space();
      char q = peek();
      if (q != '"' && q != '\'')
        throw parse_error("attribute value must be quoted");
      ++pos_;
      auto value = chars(q == '"' ? "\"" : "'");
      expect(q);
      for (auto& [k, v] : raw_attrs)
        if (k == an)
          throw parse_error("duplicate attribute '" + an + "'");
      raw_attrs.emplace_back(std::move(an), std::move(value));
    }
    element e;
    for (auto& [k, v] : raw_attrs) {
      if (k == "xmlns")
        scope[""] = v;
      else if (k.rfind("xmlns:", 0) == 0) {
        if (v.empty())
          throw parse_error("empty namespace for prefix '" + k.substr(6) + "'");
        scope[k.substr(6)] = v;
      }
    }
    auto [prefix, local] = split(qname);
    auto it = scope.find(prefix);
    if (it == scope.end()) {
      if (!prefix.empty())
        throw parse_error("undeclared namespace prefix '" + prefix + "'");
    } else {
      e.ns = it->second;
    }
    e.name = local;
    for (auto& [k, v] : raw_attrs) {
      if (k == "xmlns" || k.rfind("xmlns:", 0) == 0)
        continue;
      auto [ap, al] = split(k);
      if (!ap.empty() && !scope.count(ap))
        throw parse_error("undeclared namespace prefix '" + ap + "'");
      // An element keeps attributes by local name only: "p:xmlns" would
      // come back from to_string as a namespace declaration.
      if (al == "xmlns")
        throw parse_error("attribute '" + k + "' uses the reserved name xmlns");
      for (auto& [ek, ev] : e.attrs)
        if (ek == al)
          throw parse_error("duplicate attribute '" + al + "'");
      e.attrs.emplace_back(al, std::move(v));
    }
    if (peek() == '/') {
      ++pos_;
      expect('>');
      return e;
    }
    expect('>');
    for (;;) {
      if (pos_ >= s_.size())
        throw parse_error("unterminated element <" + qname + ">");
      if (at("</")) {
        pos_ += 2;
        auto closing = name();
        if (closing != qname)
          throw parse_error("</" + closing + "> closes <" + qname + ">");
        skip_space();
        expect('>');
        return e;
      }
      if (at("<!--")) {
        skip_comment();
      } else if (at("<![CDATA[")) {
        auto end = s_.find("]]>", pos_);
        if (end == std::string_view::npos)
          throw parse_error("unterminated CDATA section");
        e.text += s_.substr(pos_ + 9, end - pos_ - 9);
        pos_ = end + 3;
      } else if (at("<!") || at("<?")) {
        throw parse_error("markup declarations are not allowed");
      } else if (at("<")) {
        e.children.push_back(parse_element(scope, depth + 1));
      } else {
        e.text += chars("<");
      }
    }
  }

  std::string_view s_;
  const parse_limits& lim_;
  std::size_t pos_ = 0;
  std::size_t elements_ = 0;
};

} // namespace

element parse(std::string_view text, const parse_limits& limits) {
  return parser{text, limits}.document();
}

std::string to_string(const element& e, std::string_view parent_ns) {
  std::string out;
  write(out, e, parent_ns);
  return out;
}

} // namespace fogbow::xml
