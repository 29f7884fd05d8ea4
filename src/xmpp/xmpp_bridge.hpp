// The XMPP bridge and the Qt event loop, seen from outside src/xmpp/ (no Qt
// headers here). A bridge is one XMPP client account: a QObject that is a
// CAF actor (actor_companion) living on the Qt main thread: messages to it
// are posted as Qt events and handled there, so its handlers may call QXmpp
// directly. The XMPP protocol is in docs/protocol.md.
#pragma once

#include "actors/actors.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace fogbow {

/// How one role connects to the XMPP server.
struct xmpp_account {
  std::string jid; ///< full JID, e.g. "site-a@xmpp.example/fogbow"
  std::string password;
  std::string host; ///< server address (no SRV lookup)
  int port = 5222;
  std::string tls = "required"; ///< required | optional | disabled
  bool ignore_tls_errors = false;
  std::int64_t request_timeout_ms = 5000; ///< IQ answer deadline
  std::int64_t reconnect_max_ms = 5000;   ///< back-off ceiling
};

/// Runs Qt's event loop on the calling (main) thread. Create it before any
/// bridge; exec() returns after quit() was called from any thread.
class qt_loop {
public:
  qt_loop();
  ~qt_loop();
  qt_loop(const qt_loop&) = delete;
  qt_loop& operator=(const qt_loop&) = delete;
  int exec();
  /// Thread-safe: asks the loop to return from exec().
  static void quit();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// One XMPP client connection as an actor. Construct on the Qt thread after
/// qt_loop; it starts connecting once the loop runs and reconnects by itself
/// with back-off (250 ms doubling to reconnect_max_ms) whenever the server
/// goes away. Destroy it on the Qt thread after the actors that use it got
/// their exit message and before the actor system.
class xmpp_bridge {
public:
  xmpp_bridge(caf::actor_system& sys, xmpp_account account);
  ~xmpp_bridge();
  xmpp_bridge(const xmpp_bridge&) = delete;
  xmpp_bridge& operator=(const xmpp_bridge&) = delete;

  xmpp_bridge_actor handle() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace fogbow
