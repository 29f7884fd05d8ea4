// The connections on the SSH port that have not logged in yet, all driven
// by one thread: non-blocking key exchange and authentication through one
// ssh_event, admission by a preauth_table (global and per-address caps),
// and a deadline after which a connection that has not logged in is
// closed. A session that logs in leaves for a thread of its own; until
// then it costs one descriptor and some memory, never a thread.
#pragma once

#include "tunnel/preauth_table.hpp"
#include "tunnel/ssh_handles.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fogbow::tunnel {

class tunnel_session;

class login_loop {
public:
  struct hooks {
    /// A session of a socket admitted (on the login thread); nullptr
    /// when libssh refuses it.
    std::function<std::shared_ptr<tunnel_session>(unique_fd socket)> make;
    /// A session that logged in, handed over (on the login thread).
    std::function<void(std::shared_ptr<tunnel_session>)> logged_in;
  };

  /// `grace`: how long a connection may take to log in.
  login_loop(preauth_table table, std::chrono::milliseconds grace, hooks h);
  ~login_loop(); ///< stop()

  login_loop(const login_loop&) = delete;
  login_loop& operator=(const login_loop&) = delete;

  /// Throws std::runtime_error when the kernel refuses an eventfd.
  void start();
  /// Joins the thread: sessions that logged in meanwhile are handed over,
  /// the others closed. Idempotent.
  void stop();

  /// A connection just accepted from `address` (IPv4 text). Thread-safe,
  /// returns at once; the login thread decides on admission. When too
  /// many wait for that decision, the socket is closed here.
  void offer(unique_fd socket, std::string address);

private:
  struct arrival {
    unique_fd socket;
    std::string address;
  };
  struct pending {
    std::shared_ptr<tunnel_session> session;
    std::string address;
    std::chrono::steady_clock::time_point deadline;
  };

  void loop();
  void take_arrivals();
  void admit(arrival a);
  void make_room();
  void sweep(bool stopping);
  int wait_ms() const;
  static int on_wake(int fd, int revents, void* ud);

  preauth_table table_;
  std::chrono::milliseconds grace_;
  hooks hooks_;
  unique_fd wake_;
  event_ptr event_;
  std::thread thread_;
  std::atomic<bool> stopping_ = false;
  std::mutex mtx_; ///< guards arrivals_
  std::vector<arrival> arrivals_;
  std::list<pending> pending_; ///< oldest first; login thread only
};

} // namespace fogbow::tunnel
