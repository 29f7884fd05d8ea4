// Helper of bench/membership: simulated federation members, cheap enough
// that the load generator does not take the CPU the system under test
// needs. One thread, epoll, non-blocking sockets. Every member is a real
// XMPP account with its own c2s connection (plain TCP, SASL PLAIN, resource
// bind) that sends the Java manager's iamalive stanza every period at a
// random phase and checks every reply (its id, and that it is a result).
//
//   xmpp_members PORT DOMAIN RENDEZVOUS_JID PREFIX FIRST LAST PASSWORD
//   PERIOD_MS
//
// Logs in accounts PREFIX<FIRST> .. PREFIX<LAST-1>, prints "ready <n>", then
// every 500 ms "beats <total> errors <total> rtt_max_ms <max since last>".
// Exits when stdin closes (the benchmark's end) or on a connection loss.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

std::string base64(const std::string& in) {
  static const char* abc =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    auto v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8)
             | std::uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6)
      out += abc[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    auto v = std::uint8_t(in[i]) << 16;
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    auto v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += abc[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "xmpp_members: %s\n", why.c_str());
  std::exit(1);
}

/// Login steps, each waiting for a marker in what the server sent.
enum class phase { features1, auth, features2, bind, live };

struct member {
  int fd = -1;
  std::string user;
  phase at = phase::features1;
  std::string in, out;
  std::uint64_t seq = 0;     ///< id of the heartbeat awaiting its reply
  bool awaiting = false;     ///< a heartbeat is in flight
  bool due = false;          ///< its period ended while awaiting
  std::int64_t sent_ms = 0;  ///< when the heartbeat in flight was sent
  bool watching_out = false; ///< EPOLLOUT registered
};

struct config {
  int port = 0;
  std::string domain, rdv, prefix, password;
  int first = 0, last = 0;
  std::int64_t period_ms = 3000;
};

class simulator {
public:
  explicit simulator(config c) : cfg_(std::move(c)) {
    ep_ = epoll_create1(0);
    stream_ = "<?xml version='1.0'?><stream:stream to='" + cfg_.domain
              + "' version='1.0' xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams'>";
  }

  int run();

private:
  void open(std::size_t i);
  void send(member& m, const std::string& s);
  void flush(member& m);
  void watch_out(member& m, bool on);
  void on_readable(std::size_t i);
  void advance_login(std::size_t i);
  bool take_iq(member& m, std::string& iq);
  void on_reply(member& m, const std::string& iq);
  void beat(std::size_t i);
  void fire_timers();
  int timeout() const;
  void report(bool force);

  config cfg_;
  int ep_ = -1;
  std::string stream_;
  std::vector<member> members_;
  std::size_t next_login_ = 0, logging_in_ = 0, live_ = 0;
  bool ready_ = false, stop_ = false;
  std::uint64_t beats_ = 0, errors_ = 0;
  std::int64_t rtt_max_ = 0, last_report_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
  using timer = std::pair<std::int64_t, std::size_t>; // due ms, member
  std::priority_queue<timer, std::vector<timer>, std::greater<>> timers_;
};

void simulator::open(std::size_t i) {
  auto& m = members_[i];
  m.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (m.fd < 0)
    die(std::string("socket: ") + std::strerror(errno));
  int yes = 1;
  setsockopt(m.fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(cfg_.port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(m.fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0
      && errno != EINPROGRESS)
    die(std::string("connect: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = i + 1; // 0 is stdin
  epoll_ctl(ep_, EPOLL_CTL_ADD, m.fd, &ev);
  ++logging_in_;
  send(m, stream_);
}

void simulator::send(member& m, const std::string& s) {
  m.out += s;
  flush(m);
}

// Level-triggered; EPOLLOUT is watched only while something is held back
// (a connect in progress, a full socket buffer), so that a heartbeat costs
// one send, one wake-up and one recv.
void simulator::flush(member& m) {
  bool held = !m.out.empty();
  while (!m.out.empty()) {
    auto n = ::send(m.fd, m.out.data(), m.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != ENOTCONN)
        die(m.user + ": send: " + std::strerror(errno));
      watch_out(m, true);
      return;
    }
    m.out.erase(0, static_cast<std::size_t>(n));
  }
  if (held && m.watching_out)
    watch_out(m, false);
}

void simulator::watch_out(member& m, bool on) {
  if (m.watching_out == on)
    return;
  m.watching_out = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u64 = static_cast<std::uint64_t>(&m - members_.data()) + 1;
  epoll_ctl(ep_, EPOLL_CTL_MOD, m.fd, &ev);
}

void simulator::on_readable(std::size_t i) {
  auto& m = members_[i];
  // Level-triggered: one recv per wake-up; anything left wakes us again.
  static char buf[65536];
  auto n = ::recv(m.fd, buf, sizeof(buf), 0);
  if (n == 0)
    die(m.user + ": the server closed the connection");
  if (n < 0) {
    if (errno == EAGAIN || errno == ENOTCONN)
      return;
    die(m.user + ": recv: " + std::strerror(errno));
  }
  m.in.append(buf, static_cast<std::size_t>(n));
  if (m.at != phase::live) {
    advance_login(i);
    return;
  }
  std::string iq;
  while (take_iq(m, iq))
    on_reply(m, iq);
}

void simulator::advance_login(std::size_t i) {
  auto& m = members_[i];
  auto has = [&](const char* s) { return m.in.find(s) != std::string::npos; };
  for (;;) {
    switch (m.at) {
    case phase::features1:
      if (!has("</stream:features>"))
        return;
      m.in.clear();
      send(m, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              "mechanism='PLAIN'>"
                + base64(std::string(1, '\0') + m.user + '\0' + cfg_.password)
                + "</auth>");
      m.at = phase::auth;
      break;
    case phase::auth:
      if (has("<failure"))
        die("login of " + m.user + " failed");
      if (!has("<success"))
        return;
      m.in.clear();
      send(m, stream_);
      m.at = phase::features2;
      break;
    case phase::features2:
      if (!has("</stream:features>"))
        return;
      m.in.clear();
      send(m, "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:"
              "xmpp-bind'><resource>bench</resource></bind></iq>");
      m.at = phase::bind;
      break;
    case phase::bind:
      if (!has("</iq>"))
        return;
      m.in.clear();
      m.at = phase::live;
      --logging_in_;
      ++live_;
      // A random phase, like managers started at different times.
      timers_.emplace(now_ms()
                        + static_cast<std::int64_t>(
                          rng_()
                          % static_cast<std::uint64_t>(
                            std::max<std::int64_t>(1, cfg_.period_ms))),
                      i);
      return;
    case phase::live:
      return;
    }
  }
}

/// Cuts the next complete IQ (the only stanza these accounts receive) off
/// the input; false when none is complete yet.
bool simulator::take_iq(member& m, std::string& iq) {
  auto start = m.in.find("<iq");
  if (start == std::string::npos)
    return false;
  auto gt = m.in.find('>', start);
  if (gt == std::string::npos)
    return false;
  std::size_t end;
  if (m.in[gt - 1] == '/') {
    end = gt + 1;
  } else {
    auto close = m.in.find("</iq>", gt);
    if (close == std::string::npos)
      return false;
    end = close + 5;
  }
  iq.assign(m.in, start, end - start);
  m.in.erase(0, end);
  return true;
}

void simulator::on_reply(member& m, const std::string& iq) {
  auto id = "id=\"h" + std::to_string(m.seq) + "\"";
  auto id1 = "id='h" + std::to_string(m.seq) + "'";
  bool result = iq.find("type='result'") != std::string::npos
                || iq.find("type=\"result\"") != std::string::npos;
  bool ours =
    m.awaiting
    && (iq.find(id) != std::string::npos || iq.find(id1) != std::string::npos);
  if (!ours || !result)
    ++errors_;
  if (!ours)
    return;
  ++beats_;
  m.awaiting = false;
  rtt_max_ = std::max(rtt_max_, now_ms() - m.sent_ms);
  if (m.due) {
    m.due = false;
    beat(static_cast<std::size_t>(&m - members_.data()));
  }
}

void simulator::beat(std::size_t i) {
  auto& m = members_[i];
  if (m.awaiting) { // the reply is late: send as soon as it comes
    m.due = true;
    return;
  }
  ++m.seq;
  m.awaiting = true;
  m.sent_ms = now_ms();
  send(m, "<iq type=\"get\" id=\"h" + std::to_string(m.seq) + "\" to=\""
            + cfg_.rdv
            + "\"><query "
              "xmlns=\"http://fogbowcloud.org/rendezvous/iamalive\"/></iq>");
  timers_.emplace(m.sent_ms + cfg_.period_ms, i);
}

void simulator::fire_timers() {
  auto now = now_ms();
  while (!timers_.empty() && timers_.top().first <= now) {
    auto i = timers_.top().second;
    timers_.pop();
    beat(i);
  }
}

int simulator::timeout() const {
  std::int64_t t = 500;
  if (!timers_.empty())
    t = std::min(t, std::max<std::int64_t>(0, timers_.top().first - now_ms()));
  return static_cast<int>(t);
}

void simulator::report(bool force) {
  auto now = now_ms();
  if (!force && now - last_report_ < 500)
    return;
  last_report_ = now;
  std::printf("beats %llu errors %llu rtt_max_ms %lld\n",
              static_cast<unsigned long long>(beats_),
              static_cast<unsigned long long>(errors_),
              static_cast<long long>(rtt_max_));
  std::fflush(stdout);
  rtt_max_ = 0;
}

int simulator::run() {
  for (int i = cfg_.first; i < cfg_.last; ++i) {
    members_.emplace_back();
    members_.back().user = cfg_.prefix + std::to_string(i);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  epoll_ctl(ep_, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
  std::vector<epoll_event> events(1024);
  while (!stop_) {
    // At most 100 logins at a time, like the Python members did.
    while (next_login_ < members_.size() && logging_in_ < 100)
      open(next_login_++);
    if (!ready_ && live_ == members_.size()) {
      ready_ = true;
      std::printf("ready %zu\n", live_);
      std::fflush(stdout);
    }
    int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()),
                       timeout());
    for (int k = 0; k < n; ++k) {
      auto tag = events[k].data.u64;
      if (tag == 0) {
        char c[256];
        if (read(STDIN_FILENO, c, sizeof(c)) <= 0)
          stop_ = true;
        continue;
      }
      auto& m = members_[tag - 1];
      if (events[k].events & EPOLLOUT)
        flush(m);
      if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(tag - 1);
    }
    fire_timers();
    if (ready_)
      report(false);
  }
  report(true);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr, "usage: xmpp_members PORT DOMAIN RENDEZVOUS_JID "
                         "PREFIX FIRST LAST PASSWORD PERIOD_MS\n");
    return 2;
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  config c;
  c.port = std::atoi(argv[1]);
  c.domain = argv[2];
  c.rdv = argv[3];
  c.prefix = argv[4];
  c.first = std::atoi(argv[5]);
  c.last = std::atoi(argv[6]);
  c.password = argv[7];
  c.period_ms = std::atoll(argv[8]);
  return simulator(std::move(c)).run();
}
