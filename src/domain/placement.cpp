#include "domain/placement.hpp"

#include "domain/requirements.hpp"

#include <algorithm>
#include <string>

namespace fogbow {

namespace {

int dim(int x) {
  return std::max(x, 0);
}

[[noreturn]] void fail(errc code, const std::string& message) {
  throw cloud_failure(code, message);
}

} // namespace

flavor pick_flavor(const std::vector<flavor>& flavors,
                   const instance_spec& spec) {
  auto parsed = requirements::parse(spec.requirements);
  if (auto err = std::get_if<requirements::parse_error>(&parsed))
    fail(errc::invalid_argument, "bad requirements: " + err->message);
  auto f = requirements::smallest_matching(
    flavors, std::get<requirements::expression>(parsed), spec.member_id);
  if (!f)
    fail(errc::no_matching_flavor,
         "no flavor satisfies the requirements: " + spec.requirements);
  return *f;
}

void check_room(const cloud_resources& r, const flavor& f) {
  if (r.instances_used + 1 > r.instances_total)
    fail(errc::no_capacity,
         "instance limit reached (" + std::to_string(r.instances_total) + ")");
  if (r.vcpu_used + dim(f.vcpu) > r.vcpu_total)
    fail(errc::no_capacity,
         "not enough vCPUs: " + std::to_string(r.vcpu_total - r.vcpu_used)
           + " free, flavor " + f.name + " needs " + std::to_string(f.vcpu));
  if (r.memory_mb_used + dim(f.memory_mb) > r.memory_mb_total)
    fail(errc::no_capacity,
         "not enough memory: "
           + std::to_string(r.memory_mb_total - r.memory_mb_used)
           + " MB free, flavor " + f.name + " needs "
           + std::to_string(f.memory_mb) + " MB");
}

void add_use(cloud_resources& r, const flavor& f) {
  r.instances_used += 1;
  r.vcpu_used += dim(f.vcpu);
  r.memory_mb_used += dim(f.memory_mb);
}

} // namespace fogbow
