#include "roles/config_schema.hpp"

#include <sstream>

namespace fogbow {

namespace config_schema {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\')
      out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string alternatives(const std::vector<std::string>& allowed) {
  std::string out;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0)
      out += i + 1 == allowed.size() ? " or " : ", ";
    out += quote(allowed[i]);
  }
  return out;
}

const toml::table* sub_table(const toml::table& t, const char* key,
                             const std::string& prefix, error_list& errors) {
  auto node = t.get(key);
  if (!node)
    return nullptr;
  if (!node->is_table()) {
    errors.add("'" + prefix + key + "' must be a table");
    return nullptr;
  }
  return node->as_table();
}

const toml::array* sub_array(const toml::table& t, const char* key,
                             const std::string& prefix, error_list& errors) {
  auto node = t.get(key);
  if (!node)
    return nullptr;
  if (!node->is_array()) {
    errors.add("'" + prefix + key + "' must be an array");
    return nullptr;
  }
  return node->as_array();
}

} // namespace config_schema

namespace {

/// `text` as comment lines of at most 78 columns, each starting with "# ".
void put_comment(std::ostream& out, const std::string& text) {
  std::istringstream words{text};
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > 76) {
      out << "# " << line << "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty())
    out << "# " << line << "\n";
}

void put_key(std::ostream& out, const config_key_doc& key, bool commented_out,
             bool entry) {
  auto help = key.help;
  if (!key.allowed.empty())
    help += " (" + key.type + ": " + key.allowed + ")";
  else
    help += " (" + key.type + ")";
  put_comment(out, help);
  // List entries show an example; a key with a computed default shows an
  // example, commented out; every other key shows its default.
  const auto& value =
    entry || key.default_value.empty() ? key.example : key.default_value;
  bool comment = commented_out || key.default_value.empty() || entry;
  out << (comment ? "# " : "") << key.name << " = "
      << (value.empty() ? key.default_value : value) << "\n";
}

} // namespace

std::string default_config_text() {
  std::ostringstream out;
  put_comment(out, "fogbow configuration: every key, its help and its default "
                   "(printed by `fogbow config defaults`).");
  put_comment(out, "Every key is optional unless its help says \"required\". "
                   "Sections shown commented out are absent by default: "
                   "writing one turns on what it describes. As printed, "
                   "this file loads and means the defaults.");
  for (auto& section : config_sections()) {
    bool commented_out = section.optional;
    // A list's entries and the sub-tables of absent sections are absent too.
    out << "\n";
    put_comment(out, section.help);
    auto header =
      section.array ? "[[" + section.path + "]]" : "[" + section.path + "]";
    out << (commented_out ? "# " : "") << header << "\n";
    for (auto& key : section.keys)
      put_key(out, key, commented_out, section.array);
  }
  return out.str();
}

} // namespace fogbow
