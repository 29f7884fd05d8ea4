#include "auth/identity.hpp"

#include "util/encoding.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace fogbow {

namespace {

/// The digest `t` stands for, lower-case; throws on a malformed entry.
std::string digest_of(const static_token& t) {
  if (t.token.empty() == t.token_sha256.empty())
    throw std::invalid_argument("user '" + t.user_id
                                + "' needs exactly one of a token and a "
                                  "token_sha256");
  if (!t.token.empty())
    return sha256_hex(t.token);
  auto d = t.token_sha256;
  if (d.size() != 64
      || d.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw std::invalid_argument("the token_sha256 of user '" + t.user_id
                                + "' is not 64 hex digits");
  std::transform(d.begin(), d.end(), d.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return d;
}

} // namespace

static_tokens_identity::static_tokens_identity(
  const std::vector<static_token>& tokens) {
  for (auto& t : tokens) {
    if (t.user_id.empty())
      throw std::invalid_argument("token without a user id");
    entry e{t.user_id, t.user_name, digest_of(t)};
    for (auto& other : entries_)
      if (other.digest == e.digest)
        throw std::invalid_argument("users '" + other.user_id + "' and '"
                                    + e.user_id + "' have the same token");
    entries_.push_back(std::move(e));
  }
}

std::optional<user>
static_tokens_identity::authenticate(std::string_view token) const {
  if (token.empty())
    return std::nullopt;
  auto digest = sha256_hex(token);
  // Select the match with a mask instead of a branch and never stop early.
  size_t match = entries_.size();
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t mask = -static_cast<size_t>(same_secret(digest, entries_[i].digest));
    match = (match & ~mask) | (i & mask);
  }
  if (match == entries_.size())
    return std::nullopt;
  return user{entries_[match].user_id, entries_[match].user_name};
}

} // namespace fogbow
