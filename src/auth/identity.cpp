#include "auth/identity.hpp"

#include <stdexcept>

namespace fogbow {

namespace {

// Equality of `candidate` and `secret` in time that depends only on the
// two lengths. Every byte of `secret` is visited; the accumulator is
// volatile so the compiler cannot turn the loop into an early-exit memcmp.
bool constant_time_equal(std::string_view candidate, std::string_view secret) {
  volatile unsigned char diff = candidate.size() == secret.size() ? 0 : 1;
  for (size_t i = 0; i < secret.size(); ++i) {
    // Past the candidate's end, compare against the secret's own complement
    // so the byte always differs; the length check above already failed.
    auto c = i < candidate.size() ? static_cast<unsigned char>(candidate[i])
                                  : static_cast<unsigned char>(~secret[i]);
    diff = diff | (c ^ static_cast<unsigned char>(secret[i]));
  }
  return diff == 0;
}

} // namespace

static_tokens_identity::static_tokens_identity(std::vector<static_token> tokens)
    : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].token.empty())
      throw std::invalid_argument("empty token for user '" + tokens_[i].user_id
                                  + "'");
    if (tokens_[i].user_id.empty())
      throw std::invalid_argument("token without a user id");
    for (size_t j = 0; j < i; ++j)
      if (tokens_[j].token == tokens_[i].token)
        throw std::invalid_argument("users '" + tokens_[j].user_id + "' and '"
                                    + tokens_[i].user_id
                                    + "' have the same token");
  }
}

std::optional<user>
static_tokens_identity::authenticate(std::string_view token) const {
  if (token.empty())
    return std::nullopt;
  // Select the match with a mask instead of a branch and never stop early.
  size_t match = tokens_.size();
  for (size_t i = 0; i < tokens_.size(); ++i) {
    size_t mask =
      -static_cast<size_t>(constant_time_equal(token, tokens_[i].token));
    match = (match & ~mask) | (i & mask);
  }
  if (match == tokens_.size())
    return std::nullopt;
  return user{tokens_[match].user_id, tokens_[match].user_name};
}

} // namespace fogbow
