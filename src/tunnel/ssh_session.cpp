#include "tunnel/ssh_session.hpp"

#include "tunnel/public_ports.hpp"

#include <libssh/server.h>

#include <algorithm>
#include <chrono>

#include <poll.h>
#include <sys/eventfd.h>

namespace fogbow::tunnel {

namespace {

using clock_type = std::chrono::steady_clock;

ssh_channel refuse_session_channel(ssh_session, void*) {
  return nullptr; // no shells, no exec, no subsystems
}

int refuse_other_messages(ssh_session, ssh_message, void*) {
  return 1; // everything not handled elsewhere gets the default refusal
}

} // namespace

std::shared_ptr<tunnel_session>
tunnel_session::accept(ssh_bind bind, unique_fd socket, std::uint64_t id,
                       session_context context) {
  session_ptr session{ssh_new()};
  if (!session)
    return nullptr;
  if (ssh_bind_accept_fd(bind, session.get(), socket.get()) != SSH_OK) {
    // Once libssh has taken the socket, ssh_free closes it.
    if (ssh_get_fd(session.get()) == socket.get())
      socket.release();
    return nullptr;
  }
  socket.release(); // the session's now
  return std::shared_ptr<tunnel_session>{
    new tunnel_session(id, std::move(context), std::move(session))};
}

tunnel_session::tunnel_session(std::uint64_t id, session_context context,
                               session_ptr session)
    : id_(id), ctx_(std::move(context)), session_(std::move(session)) {}

void tunnel_session::serve() {
  event_.reset(ssh_event_new());
  if (event_ && ssh_event_add_session(event_.get(), session_.get()) == SSH_OK)
    forward_until_closed();
  tear_down();
}

void tunnel_session::close() {
  closing_ = true;
  if (!wake_)
    return; // not logged in: the login loop sees closing_
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_.get(), &one, sizeof(one));
}

void tunnel_session::hand_visitor(visitor v) {
  {
    std::lock_guard guard{inbox_mtx_};
    inbox_.push_back(std::move(v));
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_.get(), &one, sizeof(one));
}

bool tunnel_session::is_closed() const {
  return (ssh_get_status(session_.get()) & (SSH_CLOSED | SSH_CLOSED_ERROR))
         != 0;
}

// ---------------------------------------------------------------------------
// key exchange and login, driven by the login loop

bool tunnel_session::begin_login() {
  ssh_callbacks_init(&server_callbacks_);
  server_callbacks_.userdata = this;
  server_callbacks_.auth_pubkey_function = on_auth_pubkey;
  server_callbacks_.auth_password_function = on_auth_password;
  server_callbacks_.channel_open_request_session_function =
    refuse_session_channel;
  ssh_set_server_callbacks(session_.get(), &server_callbacks_);
  ssh_callbacks_init(&callbacks_);
  callbacks_.userdata = this;
  callbacks_.global_request_function = on_global;
  ssh_set_callbacks(session_.get(), &callbacks_);
  ssh_set_message_callback(session_.get(), refuse_other_messages, this);
  ssh_set_auth_methods(session_.get(),
                       SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_PASSWORD);
  // Non-blocking: this sends the banner and returns; the rest of the
  // exchange and the login happen in the callbacks of the login loop's
  // ssh_event.
  ssh_set_blocking(session_.get(), 0);
  return ssh_handle_key_exchange(session_.get()) != SSH_ERROR;
}

login_progress tunnel_session::progress() const {
  if (authenticated_)
    return login_progress::authenticated;
  if (closing_ || auth_attempts_ >= ctx_.config.max_auth_attempts || is_closed()
      || ssh_get_error_code(session_.get()) == SSH_FATAL)
    return login_progress::failed;
  return login_progress::pending;
}

bool tunnel_session::record_login(const std::string& base) {
  // What a session needs beyond its socket, only now that it is somebody.
  wake_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  forwarding_ = std::make_unique<port_forwarding>(session_.get());
  if (!wake_ || !forwarding_->usable())
    return false;
  base_ = base;
  authenticated_ = true;
  if (ctx_.logged_in(shared_from_this()))
    return true;
  authenticated_ = false;
  closing_ = true; // refused: the login loop closes it
  return false;
}

int tunnel_session::on_auth_pubkey(ssh_session, const char* user, ssh_key key,
                                   char signature_state, void* ud) {
  auto& s = *static_cast<tunnel_session*>(ud);
  if (signature_state != SSH_PUBLICKEY_STATE_NONE
      && signature_state != SSH_PUBLICKEY_STATE_VALID)
    return SSH_AUTH_DENIED;
  auto base = s.ctx_.policy.check_key(user, public_key_line(key));
  if (!base) {
    if (signature_state == SSH_PUBLICKEY_STATE_VALID)
      ++s.auth_attempts_;
    return SSH_AUTH_DENIED;
  }
  if (signature_state == SSH_PUBLICKEY_STATE_NONE)
    return SSH_AUTH_SUCCESS; // "this key would do": the client signs next
  return s.record_login(*base) ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
}

int tunnel_session::on_auth_password(ssh_session, const char* user,
                                     const char* password, void* ud) {
  auto& s = *static_cast<tunnel_session*>(ud);
  auto base = s.ctx_.policy.check_password(user, password);
  if (!base) {
    ++s.auth_attempts_;
    return SSH_AUTH_DENIED;
  }
  return s.record_login(*base) ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
}

// ---------------------------------------------------------------------------
// forwarding

void tunnel_session::forward_until_closed() {
  ssh_event_add_fd(event_.get(), wake_.get(), POLLIN, on_wake, this);
  ssh_event_add_fd(event_.get(), forwarding_->events_fd(), POLLIN,
                   on_visitor_events, this);
  // A session that forwards nothing is useless: it must ask for its port
  // within the login timeout.
  auto forward_deadline =
    clock_type::now() + std::chrono::seconds(ctx_.config.login_timeout_s);
  auto keepalive_every =
    std::chrono::seconds(std::max(1, ctx_.config.idle_timeout_s / 3));
  auto last_keepalive = clock_type::now();
  int tick_ms = 1000;
  while (!closing_) {
    // Every wait is an event (socket, eventfd, window adjust); the tick
    // only bounds how late a refused channel open or a key re-exchange is
    // noticed, and paces keep-alives.
    if (ssh_event_dopoll(event_.get(), tick_ms) == SSH_ERROR || is_closed())
      break;
    accept_visitors();
    tick_ms = forwarding_->service();
    auto now = clock_type::now();
    if (forwarded_.empty() && now > forward_deadline)
      break;
    if (now - last_keepalive > keepalive_every) {
      last_keepalive = now;
      ssh_send_keepalive(
        session_.get()); // lets TCP_USER_TIMEOUT notice a dead peer
    }
  }
}

void tunnel_session::accept_visitors() {
  std::vector<visitor> fresh;
  {
    std::lock_guard guard{inbox_mtx_};
    fresh.swap(inbox_);
  }
  if (closing_)
    return; // their sockets close with `fresh`
  for (auto& v : fresh) {
    auto it = forwarded_.find(v.port);
    auto address = it != forwarded_.end() ? it->second : std::string{};
    forwarding_->open(std::move(v), address);
  }
}

int tunnel_session::on_wake(int fd, int, void* ud) {
  std::uint64_t n;
  [[maybe_unused]] auto r = read(fd, &n, sizeof(n));
  static_cast<tunnel_session*>(ud)->accept_visitors();
  return 0;
}

int tunnel_session::on_visitor_events(int, int, void* ud) {
  static_cast<tunnel_session*>(ud)->forwarding_->on_socket_events();
  return 0;
}

void tunnel_session::on_global(ssh_session, ssh_message msg, void* ud) {
  static_cast<tunnel_session*>(ud)->on_global_request(msg);
}

void tunnel_session::on_global_request(ssh_message msg) {
  int type = ssh_message_subtype(msg);
  if (type == SSH_GLOBAL_REQUEST_TCPIP_FORWARD) {
    int port = ssh_message_global_request_port(msg);
    if (grant_forward(ssh_message_global_request_address(msg), port))
      ssh_message_global_request_reply_success(msg,
                                               static_cast<uint16_t>(port));
    else
      ssh_message_reply_default(msg);
    return;
  }
  if (type == SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD) {
    int port = ssh_message_global_request_port(msg);
    if (forwarded_.erase(port)) {
      ctx_.ports.release(port, this);
      ssh_message_global_request_reply_success(msg, 0);
      return;
    }
  }
  ssh_message_reply_default(msg); // keep-alives and anything else
}

bool tunnel_session::grant_forward(const char* address, int port) {
  if (!authenticated_ || closing_ || port <= 0 || port > 65535)
    return false;
  // Asking again for a port it holds is a takeover, not one more listener.
  if (!forwarded_.count(port)
      && forwarded_.size() >= static_cast<std::size_t>(
           std::max(0, ctx_.config.max_forwards_per_session)))
    return false;
  if (!ctx_.policy.forward(id_, base_, port))
    return false;
  // Granted and claimed (see ssh_policy::forward).
  forwarded_[port] = address ? address : "";
  return true;
}

// ---------------------------------------------------------------------------
// the end

void tunnel_session::tear_down() {
  closing_ = true; // from now on no port is claimed for this session
  if (forwarding_)
    forwarding_->close_all();
  // Also a port claimed for a grant whose answer came too late.
  ctx_.ports.release_all(this);
  forwarded_.clear();
  {
    // Nobody hands this session visitors any more: it holds no port.
    std::lock_guard guard{inbox_mtx_};
    inbox_.clear();
  }
  if (event_) {
    ssh_event_remove_session(event_.get(), session_.get());
    event_.reset();
  }
  ssh_disconnect(session_.get());
  session_.reset(); // its channels went with the relays above
  if (authenticated_)
    ctx_.policy.closed(id_, base_);
}

} // namespace fogbow::tunnel
