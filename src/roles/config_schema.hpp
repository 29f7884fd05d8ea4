// The machinery behind the configuration's key table (config.cpp): a key
// is declared once, as a key_spec of its section's section_spec, and from
// that declaration come reading (types, ranges, allowed values, rules,
// unknown keys) and the documentation (config_sections()). Only
// config.cpp includes this.
#pragma once

#include "roles/config.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace fogbow::config_schema {

/// Collects every error of one text, each "origin: message".
class error_list {
public:
  explicit error_list(std::string origin) : origin_(std::move(origin)) {}
  void add(const std::string& what) {
    errors_.push_back(origin_ + ": " + what);
  }
  std::size_t size() const { return errors_.size(); }
  std::vector<std::string> take() { return std::move(errors_); }

private:
  std::string origin_;
  std::vector<std::string> errors_;
};

/// What a string (or each string of a list or table) must also satisfy;
/// the error reads "'<key>' <says>".
struct string_rule {
  bool (*holds)(const std::string&);
  const char* says;
};

template <class S>
using member = std::variant<std::string S::*, int S::*, std::int64_t S::*,
                            bool S::*, std::vector<std::string> S::*,
                            std::map<std::string, std::string> S::*,
                            std::map<std::string, std::int64_t> S::*>;

/// One key: its TOML name, the field it fills (whose initializer is the
/// default) and what a value must be.
template <class S>
struct key_spec {
  const char* name;
  member<S> field;
  const char* help;
  std::int64_t lo = 0; ///< integers (and tables of them): inclusive range
  std::int64_t hi = 0;
  std::vector<std::string> allowed = {}; ///< strings: the only values
  const string_rule* rule = nullptr;
  /// Said instead of the default when the default is computed at start
  /// ("<data-dir>/instances") or there is none worth showing.
  const char* default_note = nullptr;
  /// A TOML value shown in the documentation when the default says little.
  const char* example = nullptr;
};

/// One TOML table: its keys, and the names of sub-tables that have a
/// section_spec of their own.
template <class S>
struct section_spec {
  const char* path; ///< "" for the root
  const char* help;
  bool optional = false; ///< present = configured
  bool array = false;    ///< [[path]]
  std::vector<key_spec<S>> keys;
  std::vector<const char*> children = {};

  /// "manager.driver.", "manager.driver.flavors[]." or "" (root).
  std::string prefix() const {
    std::string p = path;
    return p.empty() ? p : p + (array ? "[]." : ".");
  }
};

std::string quote(const std::string& s);
std::string alternatives(const std::vector<std::string>& allowed);

/// A sub-table or array of `t`, or nullptr when absent; wrong kinds are
/// reported.
const toml::table* sub_table(const toml::table& t, const char* key,
                             const std::string& prefix, error_list& errors);
const toml::array* sub_array(const toml::table& t, const char* key,
                             const std::string& prefix, error_list& errors);

namespace detail {

template <class T>
bool read_value(const toml::node& node, T& out, const std::string& name,
                std::int64_t lo, std::int64_t hi, error_list& errors) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!node.is_string()) {
      errors.add("'" + name + "' must be a string");
      return false;
    }
    out = *node.value<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!node.is_boolean()) {
      errors.add("'" + name + "' must be true or false");
      return false;
    }
    out = *node.value<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!node.is_integer()) {
      errors.add("'" + name + "' must be an integer");
      return false;
    }
    auto v = *node.value<std::int64_t>();
    if (v < lo || v > hi) {
      errors.add("'" + name + "' must be between " + std::to_string(lo)
                 + " and " + std::to_string(hi));
      return false;
    }
    out = static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    auto arr = node.as_array();
    if (!arr) {
      errors.add("'" + name + "' must be an array");
      return false;
    }
    out.clear();
    for (auto& item : *arr) {
      if (!item.is_string()) {
        errors.add("'" + name + "' must be a list of strings");
        return false;
      }
      out.push_back(*item.template value<std::string>());
    }
  } else {
    auto table = node.as_table();
    if (!table) {
      errors.add("'" + name + "' must be a table");
      return false;
    }
    out.clear();
    bool ok = true;
    for (auto& [k, v] : *table) {
      std::string key{k.str()};
      typename T::mapped_type item{};
      ok = read_value(v, item, name + "." + key, lo, hi, errors) && ok;
      out.emplace(key, std::move(item));
    }
    return ok;
  }
  return true;
}

/// Rules and allowed values, checked on the final value (default or read):
/// a required key has a default the rule refuses.
template <class T>
bool check_value(const T& v, const std::string& name,
                 const std::vector<std::string>& allowed,
                 const string_rule* rule, error_list& errors) {
  auto refuse = [&](const std::string& key) {
    errors.add("'" + key + "' " + rule->says);
    return false;
  };
  if constexpr (std::is_same_v<T, std::string>) {
    if (!allowed.empty()) {
      for (auto& a : allowed)
        if (v == a)
          return true;
      errors.add("'" + name + "' must be " + alternatives(allowed));
      return false;
    }
    if (rule && !rule->holds(v))
      return refuse(name);
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (rule)
      for (auto& item : v)
        if (!rule->holds(item))
          return refuse(name + "[]");
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    if (rule)
      for (auto& [k, item] : v)
        if (!rule->holds(item))
          return refuse(name + "." + k);
  }
  return true;
}

} // namespace detail

/// Reads every key of `spec` from `t` into `out`, and refuses keys the
/// section does not have. True when nothing was wrong.
template <class S>
bool read_section(const toml::table& t, S& out, const section_spec<S>& spec,
                  error_list& errors) {
  auto before = errors.size();
  auto prefix = spec.prefix();
  for (auto& [k, v] : t) {
    std::string key{k.str()};
    bool known = false;
    for (auto& ks : spec.keys)
      known = known || key == ks.name;
    for (auto child : spec.children)
      known = known || key == child;
    if (!known)
      errors.add("unknown key '" + prefix + key + "'");
  }
  for (auto& ks : spec.keys) {
    auto name = prefix + ks.name;
    std::visit(
      [&](auto field) {
        auto& value = out.*field;
        using T = std::remove_reference_t<decltype(value)>;
        std::int64_t hi = ks.hi;
        if constexpr (std::is_same_v<T, int>)
          hi = std::min<std::int64_t>(hi, std::numeric_limits<int>::max());
        auto node = t.get(ks.name);
        if (node && !detail::read_value(*node, value, name, ks.lo, hi, errors))
          return;
        detail::check_value(value, name, ks.allowed, ks.rule, errors);
      },
      ks.field);
  }
  return errors.size() == before;
}

/// The documentation of one section, defaults taken from `defaults`.
template <class S>
config_section_doc describe(const section_spec<S>& spec, const S& defaults) {
  config_section_doc doc{spec.path, spec.array, spec.optional, spec.help, {}};
  for (auto& ks : spec.keys) {
    config_key_doc k;
    k.name = ks.name;
    k.help = ks.help;
    std::visit(
      [&](auto field) {
        auto& value = defaults.*field;
        using T = std::remove_cvref_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string>) {
          k.type = "string";
          k.default_value = quote(value);
          if (!ks.allowed.empty())
            k.allowed = alternatives(ks.allowed);
        } else if constexpr (std::is_same_v<T, bool>) {
          k.type = "boolean";
          k.default_value = value ? "true" : "false";
        } else if constexpr (std::is_integral_v<T>) {
          k.type = "integer";
          k.default_value = std::to_string(value);
          k.allowed = std::to_string(ks.lo) + ".." + std::to_string(ks.hi);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          k.type = "array of strings";
          std::string list;
          for (auto& item : value)
            list += (list.empty() ? "" : ", ") + quote(item);
          k.default_value = "[" + list + "]";
        } else if constexpr (std::is_same_v<
                               T, std::map<std::string, std::string>>) {
          k.type = "table of strings";
          std::string list;
          for (auto& [key, item] : value)
            list +=
              (list.empty() ? "" : ", ") + quote(key) + " = " + quote(item);
          k.default_value = list.empty() ? "{}" : "{ " + list + " }";
        } else {
          k.type = "table of integers";
          std::string list;
          for (auto& [key, item] : value)
            list += (list.empty() ? "" : ", ") + quote(key) + " = "
                    + std::to_string(item);
          k.default_value = list.empty() ? "{}" : "{ " + list + " }";
          k.allowed =
            "values " + std::to_string(ks.lo) + ".." + std::to_string(ks.hi);
        }
      },
      ks.field);
    if (ks.rule)
      k.allowed = ks.rule->says;
    if (ks.default_note) {
      k.help += std::string{" Default: "} + ks.default_note + ".";
      k.default_value.clear();
    }
    if (ks.example)
      k.example = ks.example;
    doc.keys.push_back(std::move(k));
  }
  return doc;
}

} // namespace fogbow::config_schema
