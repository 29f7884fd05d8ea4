#include "actors/errors.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace fogbow {

namespace {
constexpr auto category = caf::atom("fogbow");
}

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<std::uint8_t>(code), category,
                    caf::make_message(std::move(message))};
}

errc code_of(const caf::error& e) {
  if (!e || e.category() != category)
    return errc::none;
  return static_cast<errc>(e.code());
}

std::string message_of(const caf::error& e) {
  if (e.category() == category) {
    auto& ctx = e.context();
    if (ctx.size() == 1 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return std::string{to_string(static_cast<errc>(e.code()))};
  }
  if (e.category() == caf::atom("system"))
    return "internal: " + caf::to_string(static_cast<caf::sec>(e.code()));
  return "internal error";
}

} // namespace fogbow
