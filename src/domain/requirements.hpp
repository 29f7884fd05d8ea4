// Order requirements: a boolean expression over the Glue2 attributes the
// Java Fogbow used (there through Condor ClassAds), e.g.
//   Glue2RAM >= 1024 && Glue2vCPU >= 2 && Glue2CloudComputeManagerID ==
//   "site-a"
// Grammar (precedence low → high):
//   expr    := or
//   or      := and ( "||" and )*
//   and     := not ( "&&" not )*
//   not     := "!" not | primary
//   primary := "(" expr ")" | comparison | "true" | "false"
//   comparison := operand op operand, op ∈ == != < <= > >=
//   operand := attribute | number | "string"
// Attributes: Glue2vCPU (cores), Glue2RAM (MB), Glue2Disk (GB) are numbers;
// Glue2CloudComputeManagerID (member id) is a string. Names are matched
// case-sensitively; an unknown name, a number compared with a string, or an
// ordering operator on strings is a parse error, so a bad expression is
// refused when the order is posted rather than never matching later.
#pragma once

#include "domain/order.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fogbow::requirements {

struct node; // the AST, private to requirements.cpp

/// A parsed, type-checked expression. Cheap to copy (shared, immutable).
class expression {
public:
  expression(); ///< the empty expression: always true
  explicit expression(std::shared_ptr<const node> root);
  const node* root() const { return root_.get(); }

private:
  std::shared_ptr<const node> root_;
};

struct parse_error {
  std::string
    message; ///< names what is wrong, e.g. "unknown attribute 'Glue2Foo'"
  size_t position = 0; ///< byte offset in the input
};

/// Parses and type-checks. An empty or all-blank text is the always-true
/// expression. Inputs longer than 4096 bytes or nested deeper than 64
/// levels are refused (they only come from hostile clients).
std::variant<expression, parse_error> parse(std::string_view text);

/// Values bound to the attributes when evaluating.
struct bindings {
  double vcpu = 0;
  double ram_mb = 0;
  double disk_gb = 0;
  std::string member_id;
};

bool evaluate(const expression& e, const bindings& b);

/// False when `e` cannot hold on member `member_id` whatever the flavor
/// (its Glue2CloudComputeManagerID terms rule the member out); this is what
/// decides where an order may be placed or forwarded.
bool allows_member(const expression& e, const std::string& member_id);

/// The expression a driver evaluates for an order: the user's own
/// requirements AND the sizes asked for (`Glue2vCPU >= vcpu`, and RAM/disk
/// when > 0). The user's text must already have parsed.
std::string combine(std::string_view user_requirements, int vcpu, int memory_mb,
                    int disk_gb);

/// The smallest flavor for which `e` holds on member `member_id`, or
/// nullopt. "Smallest" as in the Java Fogbow: ordered by vCPU, then memory,
/// then disk. A flavor dimension of -1 (unknown) binds as 0.
std::optional<flavor> smallest_matching(const std::vector<flavor>& flavors,
                                        const expression& e,
                                        const std::string& member_id);

} // namespace fogbow::requirements
