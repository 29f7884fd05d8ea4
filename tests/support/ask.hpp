// Request-reply for fixtures built on deterministic_fixture: sends a
// request, runs the scheduler until it is answered, returns reply or error.
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <utility>

namespace fogbow::test {

/// `fixture` is a deterministic_fixture (its `self` asks, its `run()` lets
/// `dest` answer); T is the reply's type.
template <class T, class Fixture, class Handle, class... Xs>
caf::expected<T> ask(Fixture& fixture, const Handle& dest, Xs... xs) {
  caf::expected<T> result{caf::error{}};
  auto rh = fixture.self->request(dest, caf::infinite, std::move(xs)...);
  fixture.run();
  rh.receive([&](T& x) { result = std::move(x); },
             [&](caf::error& e) { result = std::move(e); });
  return result;
}

} // namespace fogbow::test
