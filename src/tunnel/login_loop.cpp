#include "tunnel/login_loop.hpp"

#include "tunnel/ssh_session.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace fogbow::tunnel {

namespace {

using clock_type = std::chrono::steady_clock;

/// Sockets accepted but not yet looked at by the login thread. The login
/// thread empties the queue every round; more than this waiting means it
/// is overwhelmed, and refusing at once is cheaper than queueing.
constexpr std::size_t max_arrivals = 256;

/// The longest wait of one round, so that stop() and deadlines are never
/// noticed much later than due.
constexpr int max_wait_ms = 1000;

} // namespace

login_loop::login_loop(preauth_table table, std::chrono::milliseconds grace,
                       hooks h)
    : table_(std::move(table)), grace_(grace), hooks_(std::move(h)) {}

login_loop::~login_loop() {
  stop();
}

void login_loop::start() {
  wake_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  event_.reset(ssh_event_new());
  if (!wake_ || !event_
      || ssh_event_add_fd(event_.get(), wake_.get(), POLLIN, on_wake, this)
           != SSH_OK)
    throw std::runtime_error(std::string{"SSH server: "}
                             + std::strerror(errno));
  thread_ = std::thread([this] { loop(); });
}

void login_loop::stop() {
  if (!thread_.joinable() || stopping_.exchange(true))
    return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_.get(), &one, sizeof(one));
  thread_.join();
}

void login_loop::offer(unique_fd socket, std::string address) {
  {
    std::lock_guard guard{mtx_};
    if (arrivals_.size() >= max_arrivals)
      return; // closed with `socket`
    arrivals_.push_back({std::move(socket), std::move(address)});
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wake_.get(), &one, sizeof(one));
}

int login_loop::on_wake(int fd, int, void*) {
  std::uint64_t n;
  [[maybe_unused]] auto r = read(fd, &n, sizeof(n));
  return 0;
}

void login_loop::loop() {
  while (!stopping_) {
    // Per-session errors show in the sessions' state (sweep), not here.
    ssh_event_dopoll(event_.get(), wait_ms());
    take_arrivals();
    sweep(false);
  }
  {
    std::lock_guard guard{mtx_};
    arrivals_.clear();
  }
  sweep(true);
}

int login_loop::wait_ms() const {
  if (pending_.empty())
    return max_wait_ms;
  // The list is in arrival order, so its front has the nearest deadline.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                pending_.front().deadline - clock_type::now())
                .count();
  return static_cast<int>(std::clamp<std::int64_t>(left + 1, 0, max_wait_ms));
}

void login_loop::take_arrivals() {
  std::vector<arrival> fresh;
  {
    std::lock_guard guard{mtx_};
    fresh.swap(arrivals_);
  }
  for (auto& a : fresh)
    admit(std::move(a));
}

void login_loop::admit(arrival a) {
  auto admission = table_.admit(a.address);
  if (admission == preauth_table::admission::needs_room) {
    make_room();
    admission = table_.admit(a.address);
  }
  if (admission != preauth_table::admission::admitted)
    return; // the socket closes, like a full OpenSSH MaxStartups
  auto session = hooks_.make(std::move(a.socket));
  if (!session || !session->begin_login()
      || ssh_event_add_session(event_.get(), session->ssh()) != SSH_OK) {
    table_.release(a.address);
    if (session)
      session->abandon();
    return;
  }
  pending_.push_back(
    {std::move(session), std::move(a.address), clock_type::now() + grace_});
}

/// Closes the oldest waiting connection among those of the busiest
/// addresses: the longer a connection has waited, the less likely it is a
/// client about to log in.
void login_loop::make_room() {
  auto top = table_.busiest_count();
  auto it =
    std::find_if(pending_.begin(), pending_.end(), [&](const pending& p) {
      return table_.count(p.address) == top;
    });
  if (it == pending_.end())
    return;
  ssh_event_remove_session(event_.get(), it->session->ssh());
  table_.release(it->address);
  it->session->abandon();
  pending_.erase(it);
}

void login_loop::sweep(bool stopping) {
  auto now = clock_type::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto progress = it->session->progress();
    bool late = now >= it->deadline || stopping;
    if (progress == login_progress::pending && !late) {
      ++it;
      continue;
    }
    ssh_event_remove_session(event_.get(), it->session->ssh());
    table_.release(it->address);
    if (progress == login_progress::authenticated)
      hooks_.logged_in(std::move(it->session));
    else
      it->session->abandon();
    it = pending_.erase(it);
  }
}

} // namespace fogbow::tunnel
