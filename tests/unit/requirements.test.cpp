#include "domain/requirements.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace req = fogbow::requirements;
using fogbow::flavor;

namespace {

req::expression parsed(std::string_view text) {
  auto result = req::parse(text);
  if (auto e = std::get_if<req::parse_error>(&result))
    FAIL("'" << text << "' refused: " << e->message << " at " << e->position);
  return std::get<req::expression>(result);
}

req::parse_error refused(std::string_view text) {
  auto result = req::parse(text);
  auto e = std::get_if<req::parse_error>(&result);
  REQUIRE_MESSAGE(e != nullptr, "'" << text << "' was accepted");
  return *e;
}

bool holds(std::string_view text, const req::bindings& b = {}) {
  return req::evaluate(parsed(text), b);
}

req::bindings binding(double vcpu, double ram_mb, double disk_gb = 0,
                      std::string member_id = "") {
  return {vcpu, ram_mb, disk_gb, std::move(member_id)};
}

} // namespace

TEST_CASE("requirements: empty or blank text is the always-true expression") {
  for (std::string_view text : {"", " ", " \t\n\r "}) {
    auto e = parsed(text);
    CHECK(e.root() == nullptr);
    CHECK(req::evaluate(e, {}));
  }
  CHECK(req::evaluate(req::expression{}, binding(1, 1)));
}

TEST_CASE("requirements: well-formed expressions parse") {
  for (std::string_view text : {
         "true",
         "false",
         "Glue2vCPU >= 2",
         "Glue2RAM>=1024&&Glue2vCPU>=2",
         "Glue2Disk > 1.5",
         "Glue2Disk > -1",
         "1 < 2",
         "Glue2vCPU == Glue2RAM",
         "Glue2CloudComputeManagerID == \"site-a\"",
         "\"site-a\" != Glue2CloudComputeManagerID",
         "Glue2CloudComputeManagerID == \"\"",
         "Glue2CloudComputeManagerID == \"q\\\"uote\\\\\"",
         "!(Glue2RAM < 512) || (Glue2vCPU > 4 && !false)",
         "\n\tGlue2RAM\n>=\n1024\n",
       })
    CHECK_MESSAGE(parsed(text).root() != nullptr, text);
}

TEST_CASE("requirements: parse errors name the problem and its position") {
  struct bad {
    std::string text;
    std::string_view mentions;
    size_t position;
  };
  for (auto& [text, mentions, position] : std::vector<bad>{
         {"Glue2Foo >= 1", "unknown attribute 'Glue2Foo'", 0},
         {"glue2ram >= 1", "unknown attribute 'glue2ram'", 0},
         {"(Glue2RAM >= 1", "expected ')'", 14},
         {"((true) || false", "expected ')'", 16},
         {"Glue2RAM >= \"x\"", "cannot compare number with string", 9},
         {"\"x\" == Glue2RAM", "cannot compare string with number", 4},
         {"1 == \"x\"", "cannot compare number with string", 2},
         {"Glue2CloudComputeManagerID == 3",
          "cannot compare string with number", 27},
         {"Glue2CloudComputeManagerID < \"a\"", "'<' cannot compare strings",
          27},
         {"\"a\" >= \"b\"", "'>=' cannot compare strings", 4},
         {"Glue2RAM == true", "cannot compare boolean 'true'", 12},
         {"Glue2RAM = 1", "'=='", 9},
         {"Glue2RAM >= 1 & true", "'&&'", 14},
         {"true | false", "'||'", 5},
         {"Glue2RAM", "expected a comparison operator after 'Glue2RAM'", 8},
         {"Glue2RAM 1", "expected a comparison operator", 9},
         {"Glue2RAM >=", "expected an attribute, number or string after '>='",
          11},
         {"Glue2RAM >= 1 &&", "expected an expression but found end of input",
          16},
         {"()", "expected an expression but found ')'", 1},
         {"!", "expected an expression", 1},
         {"Glue2RAM >= 1)", "unexpected ')'", 13},
         {"true false", "unexpected 'false'", 5},
         {"Glue2CloudComputeManagerID == \"abc", "unterminated string", 30},
         {"Glue2CloudComputeManagerID == \"abc\\", "unterminated string", 30},
         {"Glue2CloudComputeManagerID == \"a\\nb\"", "invalid escape '\\n'",
          32},
         {"Glue2RAM >= 1.5.2", "invalid number '1.5.2'", 12},
         {"Glue2RAM >= 1e5", "invalid number '1e5'", 12},
         {"Glue2RAM >= 1.", "invalid number '1.'", 12},
         {"Glue2RAM >= 12abc", "invalid number '12abc'", 12},
         {"Glue2RAM >= .5", "unexpected character '.'", 12},
         {"Glue2RAM # 1", "unexpected character '#'", 9},
         {"Glue2RAM - 1", "unexpected character '-'", 9},
         {"true\x01", "unexpected byte 0x01", 4},
         {"Glue2RAM >= 1" + std::string(400, '0'), "out of range", 12},
       }) {
    CAPTURE(text);
    auto e = refused(text);
    CHECK_MESSAGE(e.message.find(mentions) != std::string::npos, e.message);
    CHECK(e.position == position);
  }
}

TEST_CASE("requirements: precedence is ! over && over ||") {
  // Each line evaluates differently under the wrong precedence.
  CHECK(holds("true || false && false")); // not (true || false) && false
  CHECK(holds("false && true || true"));  // not false && (true || true)
  CHECK_FALSE(holds("!false && false"));  // not !(false && false)
  CHECK(holds("!true || true"));          // not !(true || true)
  CHECK_FALSE(holds("!true && true"));
  CHECK(holds("!!true"));
  CHECK_FALSE(holds("(true || false) && false"));
  CHECK(holds("!(true && false)"));
  CHECK(holds("false || false || true"));
  CHECK_FALSE(holds("true && true && false"));
}

TEST_CASE("requirements: every operator on numbers") {
  struct row {
    std::string_view op;
    bool less, equal, greater; // outcome for Glue2vCPU 1, 2, 3 against 2
  };
  for (auto& [op, less, equal, greater] : std::vector<row>{
         {"==", false, true, false},
         {"!=", true, false, true},
         {"<", true, false, false},
         {"<=", true, true, false},
         {">", false, false, true},
         {">=", false, true, true},
       }) {
    CAPTURE(op);
    auto attribute_first = parsed("Glue2vCPU " + std::string{op} + " 2");
    CHECK(req::evaluate(attribute_first, binding(1, 0)) == less);
    CHECK(req::evaluate(attribute_first, binding(2, 0)) == equal);
    CHECK(req::evaluate(attribute_first, binding(3, 0)) == greater);
    // Literal on the left: 2 op vcpu mirrors the outcome.
    auto literal_first = parsed("2 " + std::string{op} + " Glue2vCPU");
    CHECK(req::evaluate(literal_first, binding(3, 0)) == less);
    CHECK(req::evaluate(literal_first, binding(2, 0)) == equal);
    CHECK(req::evaluate(literal_first, binding(1, 0)) == greater);
  }
  CHECK(holds("Glue2RAM > 1.5", binding(0, 2)));
  CHECK_FALSE(holds("Glue2RAM > 1.5", binding(0, 1)));
  CHECK(holds("Glue2RAM == 1.5", binding(0, 1.5)));
  CHECK(holds("Glue2Disk > -1", binding(0, 0, 0)));
  CHECK_FALSE(holds("Glue2Disk > -1", binding(0, 0, -2)));
  CHECK(holds("Glue2Disk >= 40 && Glue2Disk <= 40", binding(0, 0, 40)));
  CHECK(holds("1.25 < 1.5"));
  CHECK_FALSE(holds("10 < 9"));
}

TEST_CASE("requirements: == and != on strings") {
  auto at = [](std::string member) {
    return binding(0, 0, 0, std::move(member));
  };
  auto is_a = parsed("Glue2CloudComputeManagerID == \"site-a\"");
  CHECK(req::evaluate(is_a, at("site-a")));
  CHECK_FALSE(req::evaluate(is_a, at("site-b")));
  CHECK_FALSE(req::evaluate(is_a, at("Site-A")));
  CHECK_FALSE(req::evaluate(is_a, at("")));
  auto not_a = parsed("\"site-a\" != Glue2CloudComputeManagerID");
  CHECK_FALSE(req::evaluate(not_a, at("site-a")));
  CHECK(req::evaluate(not_a, at("site-b")));
  CHECK(holds(R"(Glue2CloudComputeManagerID == "q\"uo\\te")", at("q\"uo\\te")));
  CHECK(holds(R"("a" == "a" && "a" != "b")"));
}

TEST_CASE("requirements: nesting is limited to 64 levels") {
  auto nested = [](int levels) {
    return std::string(levels, '(') + "Glue2vCPU >= 1"
           + std::string(levels, ')');
  };
  CHECK(holds(nested(64), binding(1, 0)));
  auto e = refused(nested(65));
  CHECK(e.message.find("nested deeper than 64") != std::string::npos);
  CHECK(e.position == 64);

  CHECK(holds(std::string(64, '!') + "true"));
  CHECK(refused(std::string(65, '!') + "true").position == 64);
  CHECK(refused(std::string(2000, '!') + "true").position == 64);
  CHECK(refused(std::string(3000, '(')).position == 64);

  // '!' and '(' count together.
  CHECK(holds(std::string(32, '!') + nested(32), binding(1, 0)));
  auto mixed = refused("!(" + std::string(31, '!') + nested(32));
  CHECK(mixed.message.find("nested deeper") != std::string::npos);

  // Long flat chains are not nesting.
  std::string chain = "true";
  for (int i = 0; i < 400; ++i)
    chain += " && true";
  CHECK(holds(chain));
}

TEST_CASE("requirements: input is limited to 4096 bytes") {
  std::string text = "Glue2vCPU >= 1";
  text.resize(4096, ' ');
  CHECK(holds(text, binding(1, 0)));
  text += ' ';
  auto e = refused(text);
  CHECK(e.message.find("4096") != std::string::npos);
  CHECK(e.position == 4096);
  CHECK(refused(std::string(10000, ' ')).message.find("longer")
        != std::string::npos);
}

TEST_CASE("requirements: evaluation uses the bindings") {
  auto e = parsed("Glue2RAM >= 1024 && Glue2vCPU >= 2 && "
                  "Glue2CloudComputeManagerID == \"site-a\"");
  CHECK(req::evaluate(e, binding(2, 1024, 0, "site-a")));
  CHECK(req::evaluate(e, binding(8, 16384, 100, "site-a")));
  CHECK_FALSE(req::evaluate(e, binding(1, 1024, 0, "site-a")));
  CHECK_FALSE(req::evaluate(e, binding(2, 1023, 0, "site-a")));
  CHECK_FALSE(req::evaluate(e, binding(2, 1024, 0, "site-b")));

  auto disk = parsed("Glue2Disk >= 20 || Glue2vCPU > 4");
  CHECK(req::evaluate(disk, binding(1, 0, 20)));
  CHECK(req::evaluate(disk, binding(5, 0, 0)));
  CHECK_FALSE(req::evaluate(disk, binding(4, 0, 19)));
}

TEST_CASE("requirements: smallest_matching orders by vCPU, memory, disk") {
  std::vector<flavor> flavors{
    {"large", 8, 16384, 160},
    {"small", 1, 2048, 20},
    {"medium", 2, 4096, 40},
    {"medium-big-disk", 2, 4096, 80},
    {"two-cores-little", 2, 1024, 200},
  };
  auto pick = [&](std::string_view text, const std::string& member = "m") {
    auto f = req::smallest_matching(flavors, parsed(text), member);
    return f ? f->name : std::string{"(none)"};
  };
  CHECK(pick("") == "small");
  CHECK(pick("Glue2RAM >= 2048") == "small");                    // vCPU first
  CHECK(pick("Glue2vCPU >= 2") == "two-cores-little");           // then memory
  CHECK(pick("Glue2vCPU >= 2 && Glue2RAM >= 2048") == "medium"); // then disk
  CHECK(pick("Glue2Disk >= 50") == "two-cores-little");
  CHECK(pick("Glue2Disk >= 50 && Glue2Disk <= 100") == "medium-big-disk");
  CHECK(pick("Glue2vCPU > 2") == "large");
  CHECK(pick("Glue2vCPU >= 100") == "(none)");
  CHECK(pick("false") == "(none)");
  CHECK_FALSE(req::smallest_matching({}, req::expression{}, "m"));

  // Among equal sizes the first listed wins.
  std::vector<flavor> twins{{"first", 2, 2048, 20}, {"second", 2, 2048, 20}};
  CHECK(req::smallest_matching(twins, {}, "m")->name == "first");
}

TEST_CASE("requirements: smallest_matching restricts by member id") {
  std::vector<flavor> flavors{{"small", 1, 1024, 10}, {"big", 4, 8192, 80}};
  auto at_a =
    parsed("Glue2CloudComputeManagerID == \"site-a\" && Glue2vCPU >= 2");
  auto f = req::smallest_matching(flavors, at_a, "site-a");
  REQUIRE(f);
  CHECK(*f == flavor{"big", 4, 8192, 80});
  CHECK_FALSE(req::smallest_matching(flavors, at_a, "site-b"));
  auto not_b = parsed("Glue2CloudComputeManagerID != \"site-b\"");
  CHECK(req::smallest_matching(flavors, not_b, "site-a")->name == "small");
  CHECK_FALSE(req::smallest_matching(flavors, not_b, "site-b"));
}

TEST_CASE("requirements: smallest_matching binds unknown (-1) sizes as 0") {
  std::vector<flavor> flavors{{"sized", 1, 512, 1}, {"unknown", -1, -1, -1}};
  auto f = req::smallest_matching(flavors, parsed("Glue2Disk >= 0"), "m");
  REQUIRE(f);
  CHECK(*f == flavor{"unknown", -1, -1, -1}); // reported as the cloud gave it
  CHECK(req::smallest_matching(flavors,
                               parsed("Glue2Disk == 0 && Glue2RAM == 0"
                                      " && Glue2vCPU == 0"),
                               "m")
          ->name
        == "unknown");
  CHECK(req::smallest_matching(flavors, parsed("Glue2RAM > 0"), "m")->name
        == "sized");
  CHECK_FALSE(req::smallest_matching(flavors, parsed("Glue2RAM < 0"), "m"));
}

TEST_CASE("requirements: combine adds the sizes to the user's expression") {
  CHECK(req::combine("", 2, 1024, 0) == "Glue2vCPU >= 2 && Glue2RAM >= 1024");
  auto sizes = parsed(req::combine("", 2, 1024, 0));
  CHECK(req::evaluate(sizes, binding(2, 1024)));
  CHECK_FALSE(req::evaluate(sizes, binding(1, 1024)));
  CHECK_FALSE(req::evaluate(sizes, binding(2, 1023)));

  CHECK(req::combine("", 0, 0, 0).empty());
  CHECK(req::combine("  ", -1, 0, -5).empty());
  CHECK(req::combine("", 0, 0, 10) == "Glue2Disk >= 10");

  // Without the parentheses the user's "||" would let a 1-core flavor pass.
  auto user = "Glue2vCPU >= 8 || Glue2CloudComputeManagerID == \"x\"";
  auto text = req::combine(user, 2, 0, 10);
  CHECK(text.find(std::string{"("} + user + ")") == 0);
  auto e = parsed(text);
  CHECK_FALSE(req::evaluate(e, binding(1, 0, 10, "x")));
  CHECK_FALSE(req::evaluate(e, binding(2, 0, 9, "x")));
  CHECK(req::evaluate(e, binding(2, 0, 10, "x")));
  CHECK(req::evaluate(e, binding(8, 0, 10, "y")));
  CHECK_FALSE(req::evaluate(e, binding(4, 0, 10, "y")));

  CHECK(req::combine("true", 0, 0, 0) == "(true)");
  CHECK(holds(req::combine("true", 0, 0, 0)));
}

TEST_CASE("requirements: random garbage never crashes the parser") {
  std::mt19937 rng{20261124};
  const std::vector<std::string> pieces{
    "Glue2vCPU", "Glue2RAM", "Glue2Disk", "Glue2CloudComputeManagerID",
    "Glue2Foo",  "true",     "false",     "(",
    ")",         "((",       "))",        "&&",
    "||",        "!",        "&",         "|",
    "=",         "==",       "!=",        "<",
    "<=",        ">",        ">=",        "1",
    "1.5",       "-2",       "1.",        ".",
    "-",         "\"s\"",    "\"",        "\\",
    "\\\"",      " ",        "\t",        "\n",
    "1e5",       "#",
  };
  auto pick = [&](size_t n) {
    return std::uniform_int_distribution<size_t>{0, n - 1}(rng);
  };
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 600; ++i) {
    std::string text;
    size_t n = pick(24);
    for (size_t j = 0; j < n; ++j)
      if (i % 2 == 0)
        text += pieces[pick(pieces.size())];
      else
        text += static_cast<char>(pick(256));
    auto result = req::parse(text);
    if (auto e = std::get_if<req::parse_error>(&result)) {
      ++rejected;
      CHECK(e->position <= text.size());
      CHECK_FALSE(e->message.empty());
    } else {
      ++accepted;
      auto& expr = std::get<req::expression>(result);
      req::evaluate(expr, binding(2, 2048, 20, "s"));
      req::smallest_matching({{"f", 1, 1, 1}}, expr, "s");
    }
  }
  // Both paths must have been exercised for the test to mean anything.
  CHECK(accepted > 10);
  CHECK(rejected > 100);
}

TEST_CASE("requirements: which members an expression allows") {
  auto allows = [](const char* text, const char* member) {
    return req::allows_member(parsed(text), member);
  };
  // No location term: every member.
  CHECK(allows("", "site-b@x"));
  CHECK(allows("Glue2vCPU >= 64", "site-b@x"));
  // Pinned to one member.
  auto pinned =
    R"(Glue2CloudComputeManagerID == "site-c@x" && Glue2RAM >= 512)";
  CHECK(allows(pinned, "site-c@x"));
  CHECK_FALSE(allows(pinned, "site-b@x"));
  // Either of two, or anyone but one.
  auto either = R"(Glue2CloudComputeManagerID == "a@x" || )"
                R"(Glue2CloudComputeManagerID == "b@x")";
  CHECK(allows(either, "b@x"));
  CHECK_FALSE(allows(either, "c@x"));
  CHECK_FALSE(allows(R"(!(Glue2CloudComputeManagerID == "a@x"))", "a@x"));
  CHECK(allows(R"(Glue2CloudComputeManagerID != "a@x")", "b@x"));
  // A size term can make the location irrelevant on one branch.
  CHECK(
    allows(R"(Glue2vCPU >= 2 || Glue2CloudComputeManagerID == "a@x")", "b@x"));
  CHECK_FALSE(allows("false", "a@x"));
}
