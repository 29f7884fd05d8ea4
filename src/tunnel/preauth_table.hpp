// Admission of connections that have not authenticated yet: a global cap
// and a cap per source address, with fair eviction when the table is full.
//
// Pure bookkeeping (no sockets, no clock, not thread-safe): its one owner,
// the login loop, asks it before taking a connection on and tells it when
// one leaves the pre-authentication stage.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace fogbow::tunnel {

class preauth_table {
public:
  /// Both limits are at least 1 (smaller values count as 1).
  preauth_table(std::size_t global_limit, std::size_t per_address_limit);

  struct decision {
    bool admitted = false;
    /// When admitted into a full table: the address one of whose
    /// connections must now be closed (its count is already lowered).
    std::optional<std::string> evict;
  };

  /// A new connection from `address` asks in. Refused when its address
  /// already holds per_address_limit connections. When the table is full,
  /// it is admitted only if its address holds fewer connections than the
  /// busiest address, one of whose connections gives way: many idle
  /// sockets from a few addresses cannot keep a newcomer out.
  decision admit(const std::string& address);

  /// A connection from `address` authenticated or was closed.
  void release(const std::string& address);

  std::size_t total() const { return total_; }
  std::size_t count(const std::string& address) const;
  std::size_t global_limit() const { return global_; }
  std::size_t per_address_limit() const { return per_address_; }

private:
  std::map<std::string, std::size_t>::iterator busiest();

  std::size_t global_;
  std::size_t per_address_;
  std::size_t total_ = 0;
  std::map<std::string, std::size_t> counts_;
};

} // namespace fogbow::tunnel
