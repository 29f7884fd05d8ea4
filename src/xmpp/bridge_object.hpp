// Private to src/xmpp/: the QObject behind xmpp_bridge.
#pragma once

#include "federation/xml.hpp"
#include "xmpp/xmpp_bridge.hpp"

#include <caf/actor_companion.hpp>
#include <caf/mixin/requester.hpp>
#include <caf/scoped_execution_unit.hpp>
#include <caf/typed_response_promise.hpp>

#include <QEvent>
#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QXmppClient.h>
#include <QXmppClientExtension.h>
#include <QXmppIq.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace fogbow::xmpp_detail {

/// An IQ whose single child is an xml::element payload.
class payload_iq : public QXmppIq {
public:
  std::optional<xml::element> payload;

protected:
  void toXmlElementFromChild(QXmlStreamWriter* writer) const override;
};

/// The bridge's CAF side: a companion (its messages run on the Qt thread)
/// that can also request(), so that an incoming IQ goes straight to its
/// handler and the reply straight back, with no helper actor in between.
class bridge_companion
    : public caf::extend<caf::actor_companion,
                         bridge_companion>::with<caf::mixin::requester> {
public:
  using super = caf::extend<caf::actor_companion,
                            bridge_companion>::with<caf::mixin::requester>;
  explicit bridge_companion(caf::actor_config& cfg) : super(cfg) {}
};

class bridge_object;

/// Sees every incoming stanza first; takes the IQs the bridge handles.
class iq_extension : public QXmppClientExtension {
public:
  explicit iq_extension(bridge_object* owner) : owner_(owner) {}
  bool handleStanza(const QDomElement& stanza) override;
  QXmppClient* qxmpp_client() { return client(); }

private:
  bridge_object* owner_;
};

class bridge_object : public QObject {
  Q_OBJECT

public:
  bridge_object(caf::actor_system& sys, xmpp_account account);
  ~bridge_object() override;

  xmpp_bridge_actor handle() const;
  bool handle_stanza(const QDomElement& stanza);
  bool event(QEvent* e) override;

private:
  struct pending_request {
    caf::typed_response_promise<xml::element> promise;
    std::string to;
    std::string ns; ///< of the payload, for the round-trip metrics
    std::chrono::steady_clock::time_point sent;
  };

  /// An incoming IQ handed to its handler and not answered yet.
  struct serving {
    QString id;
    QString from;
    std::chrono::steady_clock::time_point deadline;
  };

  bridge_companion* self();
  void serve(const iq_handler_actor& handler, const std::string& id,
             const std::string& from, xml::element query);
  void finish_serving(std::uint64_t serial, const xml::element* reply,
                      const caf::error& err);
  void expire_serving();
  void connect_now();
  void set_connected(bool connected);
  void schedule_reconnect(const QString& why);
  void on_connected();
  void fail_all_pending(const std::string& why);
  caf::result<xml::element> send_request(const std::string& to,
                                         const xml::element& payload,
                                         std::int64_t timeout_ms,
                                         QXmppIq::Type type = QXmppIq::Get);
  void send_result(const QString& id, const QString& to,
                   const xml::element& payload);
  void send_error(const QString& id, const QString& to, const caf::error& err);

  caf::actor_system& sys_;
  xmpp_account account_;
  caf::scoped_execution_unit eu_;
  caf::strong_actor_ptr companion_;
  QXmppClient* client_ = nullptr;
  iq_extension* extension_ = nullptr;
  QTimer reconnect_timer_;
  std::int64_t backoff_ms_ = 250;
  bool connected_ = false;
  bool ever_connected_ = false;
  bool outage_logged_ = false;
  bool stopping_ = false;
  std::map<std::string, iq_handler_actor> handlers_;         ///< by namespace
  std::unordered_map<std::string, pending_request> pending_; ///< by IQ id
  /// By serial number, which is also deadline order (one timeout for all).
  std::map<std::uint64_t, serving> serving_;
  std::uint64_t next_serial_ = 0;
  QTimer serving_timer_;
};

} // namespace fogbow::xmpp_detail
