#include "xmpp/bridge_object.hpp"

#include "actors/errors.hpp"
#include "metrics/metrics.hpp"
#include "util/log_safe.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include <QCoreApplication>
#include <QDomElement>
#include <QSslSocket>
#include <QXmlStreamWriter>
#include <QXmppConfiguration.h>
#include <QXmppStanza.h>
#include <QtGlobal>

#include <algorithm>
#include <chrono>

namespace fogbow {

namespace xmpp_detail {

namespace {

constexpr const char* stanzas_ns = "urn:ietf:params:xml:ns:xmpp-stanzas";

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

std::string ss(const QString& s) {
  return s.toStdString();
}

struct companion_event : QEvent {
  caf::mailbox_element_ptr msg;
  explicit companion_event(caf::mailbox_element_ptr m)
      : QEvent(type()), msg(std::move(m)) {}
  static QEvent::Type type() {
    static int t = QEvent::registerEventType();
    return static_cast<QEvent::Type>(t);
  }
};

void write_element(QXmlStreamWriter* w, const xml::element& e,
                   const std::string& parent_ns) {
  w->writeStartElement(qs(e.name));
  if (e.ns != parent_ns)
    w->writeDefaultNamespace(qs(e.ns));
  for (auto& [k, v] : e.attrs)
    w->writeAttribute(qs(k), qs(v));
  if (!e.text.empty())
    w->writeCharacters(qs(e.text));
  for (auto& c : e.children)
    write_element(w, c, e.ns);
  w->writeEndElement();
}

/// QDomElement → xml::element, bounded like xml::parse.
bool convert(const QDomElement& in, xml::element& out, int depth, int& budget) {
  if (depth > 32 || --budget < 0)
    return false;
  out.name = ss(in.localName().isEmpty() ? in.tagName() : in.localName());
  out.ns = ss(in.namespaceURI());
  auto attrs = in.attributes();
  for (int i = 0; i < attrs.count(); ++i) {
    auto a = attrs.item(i).toAttr();
    auto name = a.localName().isEmpty() ? a.name() : a.localName();
    if (name == QLatin1String("xmlns") || a.prefix() == QLatin1String("xmlns"))
      continue;
    out.attrs.emplace_back(ss(name), ss(a.value()));
  }
  for (auto n = in.firstChild(); !n.isNull(); n = n.nextSibling()) {
    if (n.isElement()) {
      xml::element child;
      if (!convert(n.toElement(), child, depth + 1, budget))
        return false;
      out.children.push_back(std::move(child));
    } else if (n.isText() || n.isCDATASection()) {
      out.text += ss(n.toCharacterData().data());
    }
  }
  return true;
}

/// The first child element of an IQ that is not <error>.
QDomElement payload_of(const QDomElement& iq) {
  for (auto c = iq.firstChildElement(); !c.isNull(); c = c.nextSiblingElement())
    if (c.tagName() != QLatin1String("error"))
      return c;
  return {};
}

caf::error error_from_stanza(const QDomElement& iq) {
  auto err = iq.firstChildElement(QStringLiteral("error"));
  std::string condition = "undefined-condition";
  std::string text;
  for (auto c = err.firstChildElement(); !c.isNull();
       c = c.nextSiblingElement()) {
    if (c.localName() == QLatin1String("text") || c.tagName() == "text")
      text = ss(c.text());
    else if (condition == "undefined-condition")
      condition = ss(c.localName().isEmpty() ? c.tagName() : c.localName());
  }
  auto msg = text.empty() ? condition : condition + ": " + text;
  if (condition == "item-not-found")
    return make_error(errc::not_found, msg);
  if (condition == "bad-request")
    return make_error(errc::invalid_argument, msg);
  if (condition == "not-authorized" || condition == "forbidden")
    return make_error(errc::unauthorized, msg);
  if (condition == "service-unavailable" || condition == "recipient-unavailable"
      || condition == "remote-server-not-found"
      || condition == "remote-server-timeout"
      || condition == "feature-not-implemented")
    return make_error(errc::unavailable, msg);
  return make_error(errc::cloud_error, msg);
}

} // namespace

void payload_iq::toXmlElementFromChild(QXmlStreamWriter* writer) const {
  if (payload)
    write_element(writer, *payload, "jabber:client");
}

bool iq_extension::handleStanza(const QDomElement& stanza) {
  return owner_->handle_stanza(stanza);
}

bridge_object::bridge_object(caf::actor_system& sys, xmpp_account account)
    : sys_(sys), account_(std::move(account)) {
  // Without the system pointer, delivering a response promise from a
  // handler dereferences null (CAF's own actor_widget forgets this too).
  eu_.system_ptr(&sys_);
  companion_ =
    caf::actor_cast<caf::strong_actor_ptr>(sys_.spawn<bridge_companion>());
  // serve() requests outside activate(); its sends go through eu_ too.
  self()->context(&eu_);
  self()->on_enqueue([this](caf::mailbox_element_ptr p) {
    QCoreApplication::postEvent(this, new companion_event(std::move(p)));
  });
  self()->become(
    [this](atom::iq_request, const std::string& to,
           const xml::element& payload) -> caf::result<xml::element> {
      return send_request(to, payload, account_.request_timeout_ms);
    },
    [this](atom::iq_request, const std::string& to, const xml::element& payload,
           std::int64_t timeout_ms) -> caf::result<xml::element> {
      return send_request(to, payload, timeout_ms);
    },
    [this](atom::iq_set, const std::string& to, const xml::element& payload,
           std::int64_t timeout_ms) -> caf::result<xml::element> {
      return send_request(to, payload, timeout_ms, QXmppIq::Set);
    },
    [this](atom::iq_serve, const std::string& ns, iq_handler_actor handler) {
      handlers_[ns] = std::move(handler);
    },
    [this](atom::xmpp_state) { return connected_; });

  client_ = new QXmppClient(this);
  extension_ = new iq_extension(this);
  client_->addExtension(extension_);
  QObject::connect(client_, &QXmppClient::connected, this,
                   [this] { on_connected(); });
  QObject::connect(client_, &QXmppClient::disconnected, this,
                   [this] { schedule_reconnect("disconnected"); });
  QObject::connect(
    client_, &QXmppClient::error, this, [this](QXmppClient::Error e) {
      schedule_reconnect(e == QXmppClient::SocketError ? "socket error"
                         : e == QXmppClient::KeepAliveError
                           ? "keep-alive timeout"
                           : "XMPP stream error (e.g. authentication failed)");
    });
  serving_timer_.setSingleShot(true);
  QObject::connect(&serving_timer_, &QTimer::timeout, this,
                   [this] { expire_serving(); });
  reconnect_timer_.setSingleShot(true);
  QObject::connect(&reconnect_timer_, &QTimer::timeout, this,
                   [this] { connect_now(); });
  // Connect as soon as the event loop runs.
  QTimer::singleShot(0, this, [this] { connect_now(); });
}

bridge_object::~bridge_object() {
  stopping_ = true;
  reconnect_timer_.stop();
  serving_timer_.stop();
  fail_all_pending("the XMPP bridge is shutting down");
  if (client_) {
    client_->disconnect(this);
    client_->disconnectFromServer();
  }
  if (companion_)
    self()->cleanup(caf::error{}, &eu_);
}

bridge_companion* bridge_object::self() {
  return static_cast<bridge_companion*>(
    caf::actor_cast<caf::abstract_actor*>(companion_));
}

xmpp_bridge_actor bridge_object::handle() const {
  return caf::actor_cast<xmpp_bridge_actor>(companion_);
}

bool bridge_object::event(QEvent* e) {
  if (e->type() == companion_event::type()) {
    self()->activate(&eu_, *static_cast<companion_event*>(e)->msg);
    return true;
  }
  return QObject::event(e);
}

void bridge_object::connect_now() {
  if (stopping_)
    return;
  if (!ever_connected_)
    set_connected(false); // the series exists before the first connection
  QXmppConfiguration cfg;
  cfg.setJid(qs(account_.jid));
  cfg.setPassword(qs(account_.password));
  cfg.setHost(qs(account_.host));
  cfg.setPort(static_cast<quint16>(account_.port));
  cfg.setStreamSecurityMode(
    account_.tls == "disabled"   ? QXmppConfiguration::TLSDisabled
    : account_.tls == "optional" ? QXmppConfiguration::TLSEnabled
                                 : QXmppConfiguration::TLSRequired);
  cfg.setIgnoreSslErrors(account_.ignore_tls_errors);
  cfg.setAutoReconnectionEnabled(false); // we do it, with our back-off
  cfg.setKeepAliveInterval(10);
  cfg.setKeepAliveTimeout(10);
  spdlog::debug("xmpp {}: connecting to {}:{}", account_.jid, account_.host,
                account_.port);
  client_->connectToServer(cfg);
}

void bridge_object::set_connected(bool connected) {
  connected_ = connected;
  auto jid = std::string_view{account_.jid};
  metrics::set_xmpp_connected(jid.substr(0, jid.find('/')), connected);
}

void bridge_object::schedule_reconnect(const QString& why) {
  bool was_connected = connected_;
  set_connected(false);
  fail_all_pending("XMPP connection lost (" + ss(why) + ")");
  if (stopping_ || reconnect_timer_.isActive())
    return;
  if (was_connected || !outage_logged_) {
    spdlog::warn("xmpp {}: {} ({}:{}); reconnecting with back-off up to {} ms",
                 account_.jid, log_safe(ss(why)), account_.host, account_.port,
                 account_.reconnect_max_ms);
    outage_logged_ = true;
  }
  reconnect_timer_.start(static_cast<int>(backoff_ms_));
  backoff_ms_ = std::min(backoff_ms_ * 2, account_.reconnect_max_ms);
}

void bridge_object::on_connected() {
  set_connected(true);
  // Small request/response stanzas: without TCP_NODELAY, Nagle plus the
  // server's delayed ACK stalls replies by ~40 ms.
  if (auto socket = client_->findChild<QSslSocket*>())
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
  backoff_ms_ = 250;
  outage_logged_ = false;
  spdlog::info("xmpp {}: {} to {}:{}", account_.jid,
               ever_connected_ ? "reconnected" : "connected", account_.host,
               account_.port);
  ever_connected_ = true;
}

void bridge_object::fail_all_pending(const std::string& why) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending)
    p.promise.deliver(make_error(errc::unavailable, why));
}

caf::result<xml::element>
bridge_object::send_request(const std::string& to, const xml::element& payload,
                            std::int64_t timeout_ms, QXmppIq::Type type) {
  if (!connected_)
    return make_error(errc::unavailable, "not connected to the XMPP server "
                                           + account_.host + ":"
                                           + std::to_string(account_.port));
  payload_iq iq;
  iq.setType(type);
  iq.setTo(qs(to));
  iq.payload = payload;
  auto id = ss(iq.id());
  if (!client_->sendPacket(iq))
    return make_error(errc::unavailable, "cannot send to the XMPP server");
  auto rp = self()->make_response_promise<xml::element>();
  pending_.emplace(
    id, pending_request{rp, to, payload.ns, std::chrono::steady_clock::now()});
  QTimer::singleShot(
    static_cast<int>(timeout_ms), this, [this, id, timeout_ms] {
      auto it = pending_.find(id);
      if (it == pending_.end())
        return;
      auto p = std::move(it->second);
      pending_.erase(it);
      metrics::count_iq_timeout(p.ns);
      p.promise.deliver(
        make_error(errc::timeout, p.to + " did not answer within "
                                    + std::to_string(timeout_ms) + " ms"));
    });
  return rp;
}

bool bridge_object::handle_stanza(const QDomElement& stanza) {
  if (stanza.tagName() != QLatin1String("iq"))
    return false;
  auto type = stanza.attribute(QStringLiteral("type"));
  auto id = ss(stanza.attribute(QStringLiteral("id")));
  if (type == QLatin1String("result") || type == QLatin1String("error")) {
    auto it = pending_.find(id);
    if (it == pending_.end())
      return false;
    auto p = std::move(it->second);
    pending_.erase(it);
    metrics::observe_iq_round_trip(p.ns, metrics::seconds_since(p.sent));
    if (type == QLatin1String("error")) {
      p.promise.deliver(error_from_stanza(stanza));
      return true;
    }
    xml::element reply;
    auto payload = payload_of(stanza);
    int budget = 200000;
    if (!payload.isNull() && !convert(payload, reply, 1, budget)) {
      p.promise.deliver(make_error(errc::invalid_argument,
                                   "reply nested too deeply or too large"));
      return true;
    }
    p.promise.deliver(std::move(reply));
    return true;
  }
  if (type != QLatin1String("get") && type != QLatin1String("set"))
    return false;
  auto payload = payload_of(stanza);
  if (payload.isNull())
    return false;
  auto from = ss(stanza.attribute(QStringLiteral("from")));
  auto it = handlers_.find(ss(payload.namespaceURI()));
  if (it == handlers_.end())
    return false; // QXmpp answers feature-not-implemented
  xml::element query;
  int budget = 200000;
  if (!convert(payload, query, 1, budget)) {
    send_error(qs(id), qs(from),
               make_error(errc::invalid_argument,
                          "payload nested too deeply or too large"));
    return true;
  }
  serve(it->second, id, from, std::move(query));
  return true;
}

void bridge_object::serve(const iq_handler_actor& handler,
                          const std::string& id, const std::string& from,
                          xml::element query) {
  // Handlers answer by their own deadlines (serving an order waits for a
  // cloud); the bridge's backstop is expire_serving(), not a CAF request
  // timeout: one of those per IQ wakes CAF's clock thread every time and
  // keeps an entry there for the whole timeout.
  auto timeout =
    std::max(std::chrono::milliseconds{account_.request_timeout_ms},
             std::chrono::milliseconds{wrapped_driver_timeout});
  auto serial = next_serial_++;
  serving_.emplace(serial, serving{qs(id), qs(from),
                                   std::chrono::steady_clock::now() + timeout});
  if (!serving_timer_.isActive())
    serving_timer_.start(1000);
  self()
    ->request(handler, caf::infinite, atom::iq_request_v, from,
              std::move(query))
    .then([this, serial](
            const xml::element& reply) { finish_serving(serial, &reply, {}); },
          [this, serial](const caf::error& err) {
            finish_serving(serial, nullptr, err);
          });
}

void bridge_object::finish_serving(std::uint64_t serial,
                                   const xml::element* reply,
                                   const caf::error& err) {
  auto it = serving_.find(serial);
  if (it == serving_.end())
    return; // answered with a timeout already
  auto s = std::move(it->second);
  serving_.erase(it);
  if (reply)
    send_result(s.id, s.from, *reply);
  else
    send_error(s.id, s.from, err);
}

/// Answers IQs whose handler missed the backstop deadline. A handler that
/// never replies at all (a lost promise) leaves its CAF response handler
/// behind; handlers that die are answered by CAF with an error.
void bridge_object::expire_serving() {
  auto now = std::chrono::steady_clock::now();
  while (!serving_.empty() && serving_.begin()->second.deadline <= now) {
    auto s = std::move(serving_.begin()->second);
    serving_.erase(serving_.begin());
    send_error(s.id, s.from,
               make_error(errc::timeout, "the handler did not answer in time"));
  }
  if (!serving_.empty())
    serving_timer_.start(1000);
}

void bridge_object::send_result(const QString& id, const QString& to,
                                const xml::element& payload) {
  if (!connected_)
    return;
  payload_iq iq;
  iq.setType(QXmppIq::Result);
  iq.setId(id);
  iq.setTo(to);
  iq.payload = payload;
  client_->sendPacket(iq);
}

void bridge_object::send_error(const QString& id, const QString& to,
                               const caf::error& err) {
  if (!connected_)
    return;
  QString type = QStringLiteral("cancel"), condition;
  switch (code_of(err)) {
  case errc::not_found:
    condition = QStringLiteral("item-not-found");
    break;
  case errc::invalid_argument:
    type = QStringLiteral("modify");
    condition = QStringLiteral("bad-request");
    break;
  case errc::unauthorized:
    type = QStringLiteral("auth");
    condition = QStringLiteral("not-authorized");
    break;
  default:
    condition = QStringLiteral("internal-server-error");
  }
  QXmppIq iq;
  iq.setType(QXmppIq::Error);
  iq.setId(id);
  iq.setTo(to);
  iq.setError(QXmppStanza::Error(type, condition, qs(message_of(err))));
  client_->sendPacket(iq);
}

} // namespace xmpp_detail

// --- public wrappers -------------------------------------------------------

struct xmpp_bridge::impl {
  xmpp_detail::bridge_object object;
  impl(caf::actor_system& sys, xmpp_account a) : object(sys, std::move(a)) {}
};

xmpp_bridge::xmpp_bridge(caf::actor_system& sys, xmpp_account account)
    : impl_(std::make_unique<impl>(sys, std::move(account))) {}

xmpp_bridge::~xmpp_bridge() = default;

xmpp_bridge_actor xmpp_bridge::handle() const {
  return impl_->object.handle();
}

namespace {
int qt_argc = 1;
char qt_arg0[] = "fogbow";
char* qt_argv[] = {qt_arg0, nullptr};

/// Qt's own diagnostics (e.g. socket notifier warnings) go to spdlog.
void qt_to_spdlog(QtMsgType type, const QMessageLogContext&,
                  const QString& msg) {
  // Qt and QXmpp diagnostics may quote what the server sent.
  auto text = log_safe(msg.toStdString(), 512);
  switch (type) {
  case QtDebugMsg:
    spdlog::debug("qt: {}", text);
    break;
  case QtInfoMsg:
    spdlog::info("qt: {}", text);
    break;
  case QtWarningMsg:
    spdlog::warn("qt: {}", text);
    break;
  default:
    spdlog::error("qt: {}", text);
  }
}

} // namespace

struct qt_loop::impl {
  QCoreApplication app{qt_argc, qt_argv};
};

qt_loop::qt_loop() : impl_(std::make_unique<impl>()) {
  qInstallMessageHandler(qt_to_spdlog);
}

qt_loop::~qt_loop() = default;

int qt_loop::exec() {
  return QCoreApplication::exec();
}

void qt_loop::quit() {
  if (auto app = QCoreApplication::instance())
    QMetaObject::invokeMethod(
      app, [] { QCoreApplication::exit(0); }, Qt::QueuedConnection);
}

} // namespace fogbow
