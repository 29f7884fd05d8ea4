// Placement rules, shared by every driver: which flavor an instance gets and
// whether one more fits. Plain C++; failures are cloud_failure.
#pragma once

#include "domain/errors.hpp"
#include "domain/order.hpp"

#include <vector>

namespace fogbow {

/// The smallest flavor satisfying `spec.requirements` on `spec.member_id`.
/// Throws invalid_argument (unparsable expression) or no_matching_flavor.
flavor pick_flavor(const std::vector<flavor>& flavors,
                   const instance_spec& spec);

/// Throws no_capacity unless one more instance of `f` fits into what `r`
/// leaves free. A dimension of -1 (unknown) counts as 0.
void check_room(const cloud_resources& r, const flavor& f);

/// Adds one instance of `f` to the `*_used` fields of `r`.
void add_use(cloud_resources& r, const flavor& f);

} // namespace fogbow
