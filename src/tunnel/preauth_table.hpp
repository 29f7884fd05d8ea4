// Admission of connections that have not authenticated yet: a global cap
// and a cap per source address, with room made for newcomers from less
// busy addresses when the table is full.
//
// Pure bookkeeping (no sockets, no clock, not thread-safe): its one owner,
// the login loop, asks it before taking a connection on and tells it when
// one leaves the pre-authentication stage.
#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace fogbow::tunnel {

class preauth_table {
public:
  /// Both limits are at least 1 (smaller values count as 1).
  preauth_table(std::size_t global_limit, std::size_t per_address_limit);

  enum class admission {
    admitted, ///< counted
    refused,  ///< its address holds per_address_limit, or the table is
              ///< full of addresses no busier than its own
    /// The table is full but some address holds more than the newcomer's:
    /// the owner closes one connection of an address holding
    /// busiest_count() (release()) and asks again. Nothing counted yet.
    needs_room,
  };

  /// A new connection from `address` asks in. Many idle sockets from a few
  /// addresses thus cannot keep a newcomer from another address out.
  admission admit(const std::string& address);

  /// A connection from `address` authenticated or was closed.
  void release(const std::string& address);

  std::size_t total() const { return total_; }
  std::size_t count(const std::string& address) const;
  /// The most connections one address holds (0 when empty).
  std::size_t busiest_count() const;
  std::size_t global_limit() const { return global_; }
  std::size_t per_address_limit() const { return per_address_; }

private:
  std::size_t global_;
  std::size_t per_address_;
  std::size_t total_ = 0;
  std::map<std::string, std::size_t> counts_;
};

} // namespace fogbow::tunnel
