// Durable token → port table of the tunnel role, in one SQLite file
// (`tunnel.db` under --data-dir). Plain C++; the tunnel_allocator actor is
// its only user. `port` is UNIQUE in the schema: no port can ever belong to
// two tokens, whatever the code above does.
#pragma once

#include "domain/order.hpp" // millis

#include <string>
#include <vector>

struct sqlite3;

namespace fogbow {

struct tunnel_token {
  std::string id;            ///< the token: an order id, or `<base>-<name>`
  int port = 0;              ///< the public port it owns
  std::string base;          ///< its family: itself for a base token
  std::string secret_sha256; ///< base tokens: SHA-256 (hex) of the secret
  std::string public_key;    ///< base tokens: OpenSSH key line, or empty
  millis created_at = 0;
  millis last_active = 0; ///< last time a session of the family ended
  friend bool operator==(const tunnel_token&, const tunnel_token&) = default;
};

/// Throws store_error (store/order_store.hpp) on every SQLite failure.
class tunnel_store {
public:
  /// Opens or creates the database (":memory:" for tests).
  explicit tunnel_store(const std::string& path);
  ~tunnel_store();
  tunnel_store(const tunnel_store&) = delete;
  tunnel_store& operator=(const tunnel_store&) = delete;

  /// Inserts or replaces by id.
  void put(const tunnel_token& t);
  /// Removes these tokens in one transaction.
  void erase(const std::vector<std::string>& ids);
  std::vector<tunnel_token> load();

private:
  sqlite3* db_ = nullptr;
};

} // namespace fogbow
