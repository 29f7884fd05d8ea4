#include "domain/requirements.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <tuple>

namespace fogbow::requirements {

struct node {
  enum class attribute : std::uint8_t { vcpu, ram_mb, disk_gb, member_id };
  enum class comparator : std::uint8_t { eq, ne, lt, le, gt, ge };
  using operand = std::variant<attribute, double, std::string>;
  enum class kind : std::uint8_t {
    constant,
    negation,
    conjunction,
    disjunction,
    comparison,
  };
  kind type = kind::constant;
  bool value = true;          // constant
  std::vector<node> children; // negation, conjunction, disjunction
  comparator op = comparator::eq;
  operand lhs, rhs; // comparison
};

expression::expression() = default;

expression::expression(std::shared_ptr<const node> root)
    : root_(std::move(root)) {}

namespace {

using attribute = node::attribute;
using comparator = node::comparator;
using operand = node::operand;

constexpr size_t max_length = 4096;
constexpr int max_depth = 64;
constexpr std::string_view blanks = " \t\n\r\f\v";

constexpr std::array<std::pair<std::string_view, attribute>, 4> attributes{{
  {"Glue2vCPU", attribute::vcpu},
  {"Glue2RAM", attribute::ram_mb},
  {"Glue2Disk", attribute::disk_gb},
  {"Glue2CloudComputeManagerID", attribute::member_id},
}};

bool is_string(const operand& x) {
  if (auto a = std::get_if<attribute>(&x))
    return *a == attribute::member_id;
  return std::holds_alternative<std::string>(x);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_word_char(char c) {
  return is_word_start(c) || is_digit(c);
}

enum class tok : std::uint8_t {
  end,
  lparen,
  rparen,
  and_op,
  or_op,
  not_op,
  cmp,
  word,
  number,
  string,
};

struct token {
  tok kind = tok::end;
  size_t pos = 0;
  std::string_view text; // as written, for messages
  comparator op = comparator::eq;
  double number = 0;
  std::string string; // unescaped
};

[[noreturn]] void fail(std::string message, size_t pos) {
  throw parse_error{std::move(message), pos};
}

std::string describe(const token& t) {
  if (t.kind == tok::end)
    return "end of input";
  return "'" + std::string{t.text} + "'";
}

// Recursive descent with one token of lookahead. Errors are thrown as
// parse_error and caught in parse(), which keeps every rule a plain return.
class parser {
public:
  explicit parser(std::string_view text) : text_(text) { advance(); }

  node parse_all() {
    node root = parse_or();
    if (cur_.kind != tok::end)
      fail("unexpected " + describe(cur_), cur_.pos);
    return root;
  }

private:
  node parse_or() {
    return parse_chain(tok::or_op, node::kind::disjunction,
                       [this] { return parse_and(); });
  }

  node parse_and() {
    return parse_chain(tok::and_op, node::kind::conjunction,
                       [this] { return parse_not(); });
  }

  // Chains are n-ary nodes, so a long "a && b && ..." stays shallow and
  // only '!' and '(' add depth.
  template <class Next>
  node parse_chain(tok separator, node::kind kind, Next next) {
    node first = next();
    if (cur_.kind != separator)
      return first;
    node chain;
    chain.type = kind;
    chain.children.push_back(std::move(first));
    while (cur_.kind == separator) {
      advance();
      chain.children.push_back(next());
    }
    return chain;
  }

  node parse_not() {
    if (cur_.kind != tok::not_op)
      return parse_primary();
    enter(cur_.pos);
    advance();
    node n;
    n.type = node::kind::negation;
    n.children.push_back(parse_not());
    --depth_;
    return n;
  }

  node parse_primary() {
    switch (cur_.kind) {
    case tok::lparen: {
      enter(cur_.pos);
      advance();
      node inner = parse_or();
      if (cur_.kind != tok::rparen)
        fail("expected ')' but found " + describe(cur_), cur_.pos);
      advance();
      --depth_;
      return inner;
    }
    case tok::word:
      if (cur_.text == "true" || cur_.text == "false") {
        node n;
        n.value = cur_.text == "true";
        advance();
        return n;
      }
      return parse_comparison();
    case tok::number:
    case tok::string:
      return parse_comparison();
    default:
      fail("expected an expression but found " + describe(cur_), cur_.pos);
    }
  }

  node parse_comparison() {
    std::string_view lhs_text = cur_.text;
    node n;
    n.type = node::kind::comparison;
    n.lhs = parse_operand();
    if (cur_.kind != tok::cmp)
      fail("expected a comparison operator after '" + std::string{lhs_text}
             + "' but found " + describe(cur_),
           cur_.pos);
    n.op = cur_.op;
    size_t op_pos = cur_.pos;
    std::string op_text{cur_.text};
    advance();
    if (cur_.kind != tok::word && cur_.kind != tok::number
        && cur_.kind != tok::string)
      fail("expected an attribute, number or string after '" + op_text
             + "' but found " + describe(cur_),
           cur_.pos);
    n.rhs = parse_operand();
    bool lhs_string = is_string(n.lhs);
    if (lhs_string != is_string(n.rhs))
      fail(lhs_string ? "cannot compare string with number"
                      : "cannot compare number with string",
           op_pos);
    if (lhs_string && n.op != comparator::eq && n.op != comparator::ne)
      fail("operator '" + op_text
             + "' cannot compare strings (only == and != can)",
           op_pos);
    return n;
  }

  operand parse_operand() {
    operand result;
    if (cur_.kind == tok::number) {
      result = cur_.number;
    } else if (cur_.kind == tok::string) {
      result = std::move(cur_.string);
    } else {
      auto i = std::find_if(attributes.begin(), attributes.end(),
                            [&](auto& a) { return a.first == cur_.text; });
      if (i != attributes.end())
        result = i->second;
      else if (cur_.text == "true" || cur_.text == "false")
        fail("cannot compare boolean " + describe(cur_), cur_.pos);
      else
        fail("unknown attribute " + describe(cur_), cur_.pos);
    }
    advance();
    return result;
  }

  void enter(size_t pos) {
    if (++depth_ > max_depth)
      fail("expression nested deeper than " + std::to_string(max_depth)
             + " levels",
           pos);
  }

  void advance() {
    size_t start = text_.find_first_not_of(blanks, pos_);
    pos_ = start == std::string_view::npos ? text_.size() : start;
    cur_ = token{};
    cur_.pos = pos_;
    if (pos_ == text_.size())
      return;
    char c = text_[pos_];
    char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    auto punct = [&](tok kind, size_t len, comparator op = comparator::eq) {
      cur_.kind = kind;
      cur_.op = op;
      cur_.text = text_.substr(pos_, len);
      pos_ += len;
    };
    switch (c) {
    case '(':
      return punct(tok::lparen, 1);
    case ')':
      return punct(tok::rparen, 1);
    case '&':
      if (next != '&')
        fail("expected '&&' but found a single '&'", pos_);
      return punct(tok::and_op, 2);
    case '|':
      if (next != '|')
        fail("expected '||' but found a single '|'", pos_);
      return punct(tok::or_op, 2);
    case '!':
      if (next == '=')
        return punct(tok::cmp, 2, comparator::ne);
      return punct(tok::not_op, 1);
    case '=':
      if (next != '=')
        fail("expected '==' but found a single '='", pos_);
      return punct(tok::cmp, 2, comparator::eq);
    case '<':
      if (next == '=')
        return punct(tok::cmp, 2, comparator::le);
      return punct(tok::cmp, 1, comparator::lt);
    case '>':
      if (next == '=')
        return punct(tok::cmp, 2, comparator::ge);
      return punct(tok::cmp, 1, comparator::gt);
    case '"':
      return lex_string();
    default:
      break;
    }
    if (is_digit(c) || (c == '-' && is_digit(next)))
      return lex_number();
    if (is_word_start(c)) {
      size_t end = pos_;
      while (end < text_.size() && is_word_char(text_[end]))
        ++end;
      return punct(tok::word, end - pos_);
    }
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)
      fail(std::string{"unexpected character '"} + c + "'", pos_);
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x",
                  static_cast<unsigned>(static_cast<unsigned char>(c)));
    fail(std::string{"unexpected byte "} + hex, pos_);
  }

  // Takes the whole run of word characters and dots so that "1e5" or
  // "1.2.3" is one bad number rather than a number and a stray attribute.
  void lex_number() {
    size_t start = pos_;
    size_t end = start + 1;
    while (end < text_.size()
           && (is_word_char(text_[end]) || text_[end] == '.'))
      ++end;
    std::string_view run = text_.substr(start, end - start);
    size_t i = run[0] == '-' ? 1 : 0;
    auto digits = [&] {
      size_t from = i;
      while (i < run.size() && is_digit(run[i]))
        ++i;
      return i > from;
    };
    bool ok = digits();
    if (ok && i < run.size() && run[i] == '.') {
      ++i;
      ok = digits();
    }
    if (!ok || i != run.size())
      fail("invalid number '" + std::string{run} + "'", start);
    double value = 0;
    auto [ptr, ec] =
      std::from_chars(run.data(), run.data() + run.size(), value);
    if (ec != std::errc{} || ptr != run.data() + run.size())
      fail("number '" + std::string{run} + "' is out of range", start);
    cur_.kind = tok::number;
    cur_.number = value;
    cur_.text = run;
    pos_ = end;
  }

  void lex_string() {
    size_t start = pos_;
    std::string value;
    size_t i = start + 1;
    for (;; ++i) {
      if (i >= text_.size())
        fail("unterminated string", start);
      char c = text_[i];
      if (c == '"')
        break;
      if (c == '\\') {
        if (i + 1 >= text_.size())
          fail("unterminated string", start);
        char escaped = text_[i + 1];
        if (escaped != '"' && escaped != '\\')
          fail(std::string{"invalid escape '\\"} + escaped
                 + "' in string (only \\\" and \\\\ are allowed)",
               i);
        value += escaped;
        ++i;
      } else {
        value += c;
      }
    }
    cur_.kind = tok::string;
    cur_.string = std::move(value);
    cur_.text = text_.substr(start, i + 1 - start);
    pos_ = i + 1;
  }

  std::string_view text_;
  size_t pos_ = 0;
  token cur_;
  int depth_ = 0;
};

double number_of(const operand& x, const bindings& b) {
  if (auto d = std::get_if<double>(&x))
    return *d;
  switch (std::get<attribute>(x)) {
  case attribute::vcpu:
    return b.vcpu;
  case attribute::ram_mb:
    return b.ram_mb;
  default:
    return b.disk_gb;
  }
}

std::string_view string_of(const operand& x, const bindings& b) {
  if (auto s = std::get_if<std::string>(&x))
    return *s;
  return b.member_id;
}

template <class T>
bool compare(comparator op, const T& x, const T& y) {
  switch (op) {
  case comparator::eq:
    return x == y;
  case comparator::ne:
    return x != y;
  case comparator::lt:
    return x < y;
  case comparator::le:
    return x <= y;
  case comparator::gt:
    return x > y;
  default:
    return x >= y;
  }
}

bool eval(const node& n, const bindings& b) {
  switch (n.type) {
  case node::kind::constant:
    return n.value;
  case node::kind::negation:
    return !eval(n.children.front(), b);
  case node::kind::conjunction:
    return std::all_of(n.children.begin(), n.children.end(),
                       [&](const node& c) { return eval(c, b); });
  case node::kind::disjunction:
    return std::any_of(n.children.begin(), n.children.end(),
                       [&](const node& c) { return eval(c, b); });
  default:
    // Operand types were checked when parsing: both sides agree.
    if (is_string(n.lhs))
      return compare(n.op, string_of(n.lhs, b), string_of(n.rhs, b));
    return compare(n.op, number_of(n.lhs, b), number_of(n.rhs, b));
  }
}

/// Three-valued evaluation where only the member id is known: the sizes
/// are not (they depend on the flavors of the member's cloud).
enum class maybe : std::uint8_t { no, yes, unknown };

maybe eval_location(const node& n, const std::string& member_id) {
  switch (n.type) {
  case node::kind::constant:
    return n.value ? maybe::yes : maybe::no;
  case node::kind::negation: {
    auto x = eval_location(n.children.front(), member_id);
    return x == maybe::unknown ? x : (x == maybe::yes ? maybe::no : maybe::yes);
  }
  case node::kind::conjunction:
  case node::kind::disjunction: {
    // and: one "no" decides; or: one "yes" decides.
    auto decisive = n.type == node::kind::conjunction ? maybe::no : maybe::yes;
    auto out = n.type == node::kind::conjunction ? maybe::yes : maybe::no;
    for (auto& c : n.children) {
      auto x = eval_location(c, member_id);
      if (x == decisive)
        return x;
      if (x == maybe::unknown)
        out = x;
    }
    return out;
  }
  default:
    if (!is_string(n.lhs))
      return maybe::unknown;
    bindings b;
    b.member_id = member_id;
    return compare(n.op, string_of(n.lhs, b), string_of(n.rhs, b)) ? maybe::yes
                                                                   : maybe::no;
  }
}

} // namespace

bool allows_member(const expression& e, const std::string& member_id) {
  return e.root() == nullptr
         || eval_location(*e.root(), member_id) != maybe::no;
}

std::variant<expression, parse_error> parse(std::string_view text) {
  if (text.size() > max_length)
    return parse_error{"expression longer than " + std::to_string(max_length)
                         + " bytes",
                       max_length};
  if (text.find_first_not_of(blanks) == std::string_view::npos)
    return expression{};
  try {
    parser p{text};
    return expression{std::make_shared<const node>(p.parse_all())};
  } catch (parse_error& e) {
    return std::move(e);
  }
}

bool evaluate(const expression& e, const bindings& b) {
  return e.root() == nullptr || eval(*e.root(), b);
}

std::string combine(std::string_view user_requirements, int vcpu, int memory_mb,
                    int disk_gb) {
  std::string out;
  auto add = [&](const std::string& term) {
    if (!out.empty())
      out += " && ";
    out += term;
  };
  // Parenthesized so that a user's top-level "||" cannot swallow the sizes.
  if (user_requirements.find_first_not_of(blanks) != std::string_view::npos)
    add("(" + std::string{user_requirements} + ")");
  if (vcpu > 0)
    add("Glue2vCPU >= " + std::to_string(vcpu));
  if (memory_mb > 0)
    add("Glue2RAM >= " + std::to_string(memory_mb));
  if (disk_gb > 0)
    add("Glue2Disk >= " + std::to_string(disk_gb));
  return out;
}

std::optional<flavor> smallest_matching(const std::vector<flavor>& flavors,
                                        const expression& e,
                                        const std::string& member_id) {
  auto known = [](int x) { return std::max(x, 0); };
  auto size_of = [&](const flavor& f) {
    return std::tuple{known(f.vcpu), known(f.memory_mb), known(f.disk_gb)};
  };
  bindings b;
  b.member_id = member_id;
  const flavor* best = nullptr;
  for (auto& f : flavors) {
    b.vcpu = known(f.vcpu);
    b.ram_mb = known(f.memory_mb);
    b.disk_gb = known(f.disk_gb);
    // Strictly smaller only: among equal sizes the cloud's first one wins.
    if (evaluate(e, b) && (best == nullptr || size_of(f) < size_of(*best)))
      best = &f;
  }
  if (best == nullptr)
    return std::nullopt;
  return *best;
}

} // namespace fogbow::requirements
