#include "tunnel/ssh_server.hpp"

#include "metrics/metrics.hpp"
#include "tunnel/login_loop.hpp"
#include "tunnel/open_files.hpp"
#include "tunnel/public_ports.hpp"
#include "tunnel/ssh_handles.hpp"
#include "tunnel/ssh_listener.hpp"
#include "tunnel/ssh_session.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>

#include <pthread.h>

namespace fogbow::tunnel {

namespace {

/// Sessions spend their time in epoll and libssh; small stacks let many
/// of them run.
constexpr std::size_t session_stack_size = std::size_t{512} * 1024;

std::once_flag libssh_initialised;

/// The host key at `path`, created (ed25519, owner-only) when missing.
key_ptr read_or_create_host_key(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty())
    throw std::runtime_error("no host key path configured");
  ssh_key raw = nullptr;
  if (fs::exists(path)) {
    if (ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr,
                                    &raw)
        != SSH_OK)
      throw std::runtime_error("cannot read the SSH host key " + path);
    return key_ptr{raw};
  }
  std::error_code ec;
  fs::create_directories(fs::path{path}.parent_path(), ec);
  bool generated = ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) == SSH_OK;
  key_ptr key{raw};
  if (!generated
      || ssh_pki_export_privkey_file(key.get(), nullptr, nullptr, nullptr,
                                     path.c_str())
           != SSH_OK)
    throw std::runtime_error("cannot create the SSH host key " + path);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  return key;
}

/// Thread attributes, destroyed with their owner.
struct detached_small_stack {
  pthread_attr_t attr;
  detached_small_stack() {
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, session_stack_size);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  }
  ~detached_small_stack() { pthread_attr_destroy(&attr); }
  detached_small_stack(const detached_small_stack&) = delete;
  detached_small_stack& operator=(const detached_small_stack&) = delete;
};

} // namespace

std::optional<std::string> parse_public_key(const std::string& line) {
  auto trimmed = line;
  while (!trimmed.empty()
         && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.pop_back();
  auto sp = trimmed.find(' ');
  if (sp == std::string::npos || trimmed.find('\n') != std::string::npos)
    return std::nullopt;
  auto type = trimmed.substr(0, sp);
  auto rest = trimmed.substr(sp + 1);
  auto b64 = rest.substr(0, rest.find(' '));
  auto kt = ssh_key_type_from_name(type.c_str());
  if (kt == SSH_KEYTYPE_UNKNOWN)
    return std::nullopt;
  ssh_key raw = nullptr;
  if (ssh_pki_import_pubkey_base64(b64.c_str(), kt, &raw) != SSH_OK)
    return std::nullopt;
  key_ptr key{raw};
  auto out = public_key_line(key.get());
  if (out.empty())
    return std::nullopt;
  return out;
}

// ---------------------------------------------------------------------------
// the server: host key, listener, public ports and the live sessions

struct ssh_server::impl {
  impl(ssh_server_config config, std::shared_ptr<ssh_policy> p)
      : cfg(std::move(config)), policy(std::move(p)), ports(cfg.public_bind),
        listener(cfg, [this](unique_fd socket, std::string address) {
          login->offer(std::move(socket), std::move(address));
        }) {}

  ssh_server_config cfg;
  std::shared_ptr<ssh_policy> policy;
  bind_ptr bind;
  std::string host_key_text;
  public_ports ports;
  std::unique_ptr<login_loop> login; ///< sized at start()
  ssh_listener listener;
  std::size_t max_sessions = 0; ///< cfg.max_sessions within the open files
  ssh_server::limits_in_force limits;
  bool started = false;
  bool stopped = false;

  std::mutex mtx; ///< guards everything below
  std::map<std::uint64_t, std::shared_ptr<tunnel_session>> sessions;
  std::uint64_t next_id = 1;
  std::size_t live_threads = 0;
  bool stopped_accepting = false;
  std::condition_variable all_done;

  void set_up_bind();
  void set_up_login(long open_files);
  std::shared_ptr<tunnel_session> make_session(unique_fd socket);
  bool register_session(const std::shared_ptr<tunnel_session>& session);
  void hand_over(std::shared_ptr<tunnel_session> session);
  bool spawn_thread(std::shared_ptr<tunnel_session> session);
  void session_ended(std::uint64_t id);
  void close_all_sessions();
};

void ssh_server::impl::set_up_bind() {
  auto key = read_or_create_host_key(cfg.host_key_path);
  host_key_text = public_key_line(key.get());
  bind.reset(ssh_bind_new());
  if (!bind)
    throw std::runtime_error("cannot set up the SSH server");
  if (ssh_bind_options_set(bind.get(), SSH_BIND_OPTIONS_IMPORT_KEY, key.get())
      != SSH_OK)
    throw std::runtime_error("cannot set up the SSH server: "
                             + std::string{ssh_get_error(bind.get())});
  static_cast<void>(key.release()); // IMPORT_KEY hands the key to the bind
}

void ssh_server::impl::set_up_login(long open_files) {
  auto budget = fit_to_open_files(
    open_files, static_cast<std::size_t>(std::max(1, cfg.max_unauthenticated)),
    static_cast<std::size_t>(std::max(1, cfg.max_sessions)));
  max_sessions = budget.sessions;
  preauth_table table{
    budget.unauthenticated,
    static_cast<std::size_t>(std::max(1, cfg.max_unauthenticated_per_address))};
  limits = {open_files, table.global_limit(), table.per_address_limit(),
            max_sessions};
  login = std::make_unique<login_loop>(
    std::move(table), std::chrono::seconds(cfg.login_timeout_s),
    login_loop::hooks{
      [this](unique_fd socket) { return make_session(std::move(socket)); },
      [this](std::shared_ptr<tunnel_session> session) {
        hand_over(std::move(session));
      }});
}

std::shared_ptr<tunnel_session>
ssh_server::impl::make_session(unique_fd socket) {
  std::uint64_t id = 0;
  {
    std::lock_guard guard{mtx};
    id = next_id++;
  }
  return tunnel_session::accept(
    bind.get(), std::move(socket), id,
    {cfg, *policy, ports,
     [this](const std::shared_ptr<tunnel_session>& session) {
       return register_session(session);
     }});
}

/// On the login thread, as the login succeeds: from now on the session
/// can claim ports, and stop() waits for it.
bool ssh_server::impl::register_session(
  const std::shared_ptr<tunnel_session>& session) {
  std::lock_guard guard{mtx};
  if (stopped_accepting || sessions.size() >= max_sessions)
    return false;
  sessions[session->id()] = session;
  ++live_threads;
  metrics::add_tunnel_sessions(1);
  return true;
}

void ssh_server::impl::hand_over(std::shared_ptr<tunnel_session> session) {
  auto id = session->id();
  if (!spawn_thread(session)) {
    session->abandon();
    session.reset();
    session_ended(id);
  }
}

bool ssh_server::impl::spawn_thread(std::shared_ptr<tunnel_session> session) {
  struct start {
    impl* server;
    std::shared_ptr<tunnel_session> session;
  };
  auto arg = std::make_unique<start>(start{this, std::move(session)});
  detached_small_stack attributes;
  pthread_t tid;
  int rc = pthread_create(
    &tid, &attributes.attr,
    [](void* p) -> void* {
      std::unique_ptr<start> s{static_cast<start*>(p)};
      s->session->serve();
      auto id = s->session->id();
      s->session.reset();
      s->server->session_ended(id);
      return nullptr;
    },
    arg.get());
  if (rc != 0)
    return false;
  static_cast<void>(arg.release()); // the thread's now
  return true;
}

void ssh_server::impl::session_ended(std::uint64_t id) {
  std::lock_guard guard{mtx};
  sessions.erase(id);
  metrics::add_tunnel_sessions(-1);
  if (--live_threads == 0)
    all_done.notify_all();
}

void ssh_server::impl::close_all_sessions() {
  std::unique_lock lock{mtx};
  for (auto& [id, session] : sessions)
    session->close();
  all_done.wait(lock, [this] { return live_threads == 0; });
}

// ---------------------------------------------------------------------------
// ssh_server

ssh_server::ssh_server(ssh_server_config cfg,
                       std::shared_ptr<ssh_policy> policy)
    : impl_(std::make_unique<impl>(std::move(cfg), std::move(policy))) {}

ssh_server::~ssh_server() {
  stop();
}

int ssh_server::start() {
  auto& d = *impl_;
  if (d.started)
    throw std::logic_error("ssh_server::start called twice");
  std::call_once(libssh_initialised, [] { ssh_init(); });
  d.set_up_bind();
  d.set_up_login(raise_open_file_limit());
  d.ports.start();
  d.login->start();
  d.started = true;
  return d.listener.start();
}

void ssh_server::stop() {
  auto& d = *impl_;
  if (!d.started || std::exchange(d.stopped, true))
    return;
  d.listener.stop(); // no new connections
  {
    std::lock_guard guard{d.mtx};
    d.stopped_accepting = true; // no new sessions
  }
  d.login->stop(); // the connections still logging in closed
  d.ports.stop();  // no new visitors, no public port open
  d.close_all_sessions();
}

ssh_server::limits_in_force ssh_server::limits() const {
  return impl_->limits;
}

std::string ssh_server::host_key() const {
  return impl_->host_key_text;
}

bool ssh_server::claim_port(std::uint64_t sid, int port) {
  std::shared_ptr<tunnel_session> session;
  {
    std::lock_guard guard{impl_->mtx};
    auto it = impl_->sessions.find(sid);
    if (it == impl_->sessions.end())
      return false;
    session = it->second;
  }
  return impl_->ports.claim(port, session);
}

void ssh_server::close_port(int port) {
  impl_->ports.close(port);
}

} // namespace fogbow::tunnel
