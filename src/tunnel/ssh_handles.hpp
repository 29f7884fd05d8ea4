// Owners for the libssh handles and file descriptors of the SSH server:
// every handle is freed exactly once, on every path, by its owner.
//
// Two libssh rules shape their use: a session's channels are freed before
// the session (ssh_free frees what is left, so a later ssh_channel_free
// would free twice), and ssh_bind_options_set(IMPORT_KEY) takes the host
// key over (an explicit `release()`). Messages handed to callbacks belong
// to libssh and have no owner here.
#pragma once

#include <libssh/libssh.h>
#include <libssh/server.h>

#include <memory>
#include <string>
#include <utility>

#include <unistd.h>

namespace fogbow::tunnel {

/// A file descriptor, closed when its owner goes.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

namespace detail {

template <class T, void (*Free)(T*)>
struct ssh_deleter {
  void operator()(T* p) const { Free(p); }
};

inline void free_ssh_string_chars(char* p) {
  ssh_string_free_char(p);
}

} // namespace detail

using bind_ptr =
  std::unique_ptr<ssh_bind_struct,
                  detail::ssh_deleter<ssh_bind_struct, ssh_bind_free>>;
/// ssh_free only: disconnecting is a protocol step, done by the session.
using session_ptr =
  std::unique_ptr<ssh_session_struct,
                  detail::ssh_deleter<ssh_session_struct, ssh_free>>;
/// Must go before the session it belongs to (ssh_free frees it too).
using channel_ptr =
  std::unique_ptr<ssh_channel_struct,
                  detail::ssh_deleter<ssh_channel_struct, ssh_channel_free>>;
using event_ptr =
  std::unique_ptr<ssh_event_struct,
                  detail::ssh_deleter<ssh_event_struct, ssh_event_free>>;
using key_ptr =
  std::unique_ptr<ssh_key_struct,
                  detail::ssh_deleter<ssh_key_struct, ssh_key_free>>;
/// Strings libssh allocates for us (base64 of a key, ...).
using ssh_chars_ptr =
  std::unique_ptr<char,
                  detail::ssh_deleter<char, detail::free_ssh_string_chars>>;

/// A public key as one OpenSSH line without comment ("ssh-ed25519 AAAA...");
/// empty when libssh cannot export it.
inline std::string public_key_line(ssh_key key) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
    return {};
  ssh_chars_ptr owned{b64};
  return std::string{ssh_key_type_to_char(ssh_key_type(key))} + " " + b64;
}

} // namespace fogbow::tunnel
