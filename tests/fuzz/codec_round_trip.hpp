// Shared by the protocol fuzz targets: decode a payload a peer sent, and
// when it decodes, encode the value and decode that again, which must give
// the same value. Decoders throw protocol_error on bad input and nothing
// else, so any other exception (or one on the second decode) escapes and
// libFuzzer reports it.
#pragma once

#include "federation/rendezvous_protocol.hpp"
#include "federation/xml.hpp"

#include <concepts>
#include <cstdlib>

namespace fogbow::fuzz {

template <class Decode, class Encode>
void round_trip(const xml::element& query, Decode decode, Encode encode) {
  decltype(decode(query)) value;
  try {
    value = decode(query);
  } catch (const rdv::protocol_error&) {
    return;
  }
  auto again = decode(xml::parse(xml::to_string(encode(value))));
  if constexpr (std::equality_comparable<decltype(value)>)
    if (!(again == value))
      std::abort();
}

/// Parses a payload as the XMPP bridge would hand it over; false when it
/// is not XML (the bridge never gets that far with such a payload).
inline bool parse_payload(const std::uint8_t* data, std::size_t size,
                          xml::element& out) {
  try {
    out = xml::parse({reinterpret_cast<const char*>(data), size});
    return true;
  } catch (const xml::parse_error&) {
    return false;
  }
}

} // namespace fogbow::fuzz
