#include "drivers/local/local_driver.hpp"

#include "actors/errors.hpp"

#include <caf/all.hpp>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <poll.h>
#include <sys/eventfd.h>
#include <thread>
#include <type_traits>
#include <unistd.h>

namespace fogbow {

/// Waits for instance processes to die and tells the subscriber. The
/// subscriber lives here because both this thread and the actor send to it.
class exit_monitor {
public:
  explicit exit_monitor(local_cloud& cloud)
      : cloud_(cloud), wake_fd_(eventfd(0, EFD_CLOEXEC)) {
    if (wake_fd_ < 0)
      throw cloud_failure(errc::cloud_error, "eventfd failed");
    thread_ = std::thread([this] { run(); });
  }

  ~exit_monitor() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_fd_, &one, sizeof(one));
    thread_.join();
    close(wake_fd_);
  }

  void subscribe(cloud_events_actor hdl) {
    std::lock_guard guard{mtx_};
    subscriber_ = std::move(hdl);
  }

  cloud_events_actor subscriber() const {
    std::lock_guard guard{mtx_};
    return subscriber_;
  }

private:
  void run() {
    pollfd fds[2] = {{cloud_.exit_fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    for (;;) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR)
          continue;
        return;
      }
      if (fds[1].revents != 0)
        return;
      auto failed = cloud_.reap();
      auto sub = subscriber();
      if (failed.empty() || !sub)
        continue; // without a subscriber, list() still shows the failure
      for (auto& x : failed)
        caf::anon_send(sub, atom::instance_changed_v, std::move(x));
      caf::anon_send(sub, atom::capacity_freed_v);
    }
  }

  local_cloud& cloud_;
  int wake_fd_;
  mutable std::mutex mtx_;
  cloud_events_actor subscriber_;
  std::thread thread_;
};

local_driver_state::local_driver_state() = default;

local_driver_state::~local_driver_state() = default;

namespace {

template <class F>
auto guarded(F&& f) -> caf::result<std::invoke_result_t<F&>> {
  try {
    return f();
  } catch (const cloud_failure& e) {
    return make_error(e.code, e.what());
  } catch (const std::exception& e) {
    return make_error(errc::cloud_error, e.what());
  }
}

bool raises(const cloud_resources& now, const cloud_resources& before) {
  return now.vcpu_total > before.vcpu_total
         || now.memory_mb_total > before.memory_mb_total
         || now.instances_total > before.instances_total;
}

} // namespace

cloud_driver_actor::behavior_type
local_driver(cloud_driver_actor::stateful_pointer<local_driver_state> self,
             local_cloud_config cfg) {
  self->state.cloud = std::make_unique<local_cloud>(std::move(cfg));
  self->state.monitor = std::make_unique<exit_monitor>(*self->state.cloud);
  auto capacity_freed = [self] {
    if (auto sub = self->state.monitor->subscriber())
      self->send(sub, atom::capacity_freed_v);
  };
  return {
    [self](atom::create, const instance_spec& spec) {
      return guarded([&] { return self->state.cloud->create(spec); });
    },
    [self](atom::get, const std::string& id) {
      return guarded([&] { return self->state.cloud->get(id); });
    },
    [self, capacity_freed](atom::erase, const std::string& id) {
      return guarded([&] {
        self->state.cloud->erase(id);
        capacity_freed();
        return atom::ok_v;
      });
    },
    [self](atom::list) { return self->state.cloud->list(); },
    [self](atom::resources) { return self->state.cloud->resources(); },
    [self, capacity_freed](atom::set_capacity, const cloud_resources& totals) {
      auto before = self->state.cloud->resources();
      self->state.cloud->set_capacity(totals);
      if (raises(totals, before))
        capacity_freed();
      return atom::ok_v;
    },
    [self](atom::subscribe, cloud_events_actor sub) {
      self->state.monitor->subscribe(std::move(sub));
    },
  };
}

} // namespace fogbow
