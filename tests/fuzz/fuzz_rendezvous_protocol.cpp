// libFuzzer target: every payload decoder of the rendezvous protocol
// (iamalive, whoisalive, sync and their replies) on one IQ payload.
#include "codec_round_trip.hpp"

#include "federation/rendezvous_protocol.hpp"

using namespace fogbow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  xml::element q;
  if (!fuzz::parse_payload(data, size, q))
    return 0;
  fuzz::round_trip(q, rdv::decode_iamalive,
                   [](const auto& cert) { return rdv::encode_iamalive(cert); });
  // A reply without a period has no encoding of its own: only periods
  // travel back and forth.
  fuzz::round_trip(
    q,
    [](const xml::element& e) {
      auto period = rdv::decode_iamalive_reply(e);
      if (!period)
        throw rdv::protocol_error("bad-request", "no period");
      return *period;
    },
    rdv::encode_iamalive_reply);
  fuzz::round_trip(q, rdv::decode_whoisalive, rdv::encode_whoisalive);
  fuzz::round_trip(q, rdv::decode_whoisalive_reply,
                   rdv::encode_whoisalive_reply);
  fuzz::round_trip(q, rdv::decode_sync, rdv::encode_sync);
  fuzz::round_trip(q, rdv::decode_sync_reply, rdv::encode_sync_reply);
  return 0;
}
