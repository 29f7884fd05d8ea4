// libFuzzer target: every payload decoder of the manager-to-manager
// protocol on one IQ payload, as another member (or anyone on the XMPP
// federation) may send it.
#include "codec_round_trip.hpp"

#include "federation/manager_protocol.hpp"

using namespace fogbow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  xml::element q;
  if (!fuzz::parse_payload(data, size, q))
    return 0;
  (void)fed::changes_state(q);
  fuzz::round_trip(q, fed::decode_order, fed::encode_order);
  fuzz::round_trip(q, fed::decode_order_result, fed::encode_order_result);
  fuzz::round_trip(q, fed::decode_getinstance, fed::encode_getinstance);
  fuzz::round_trip(q, fed::decode_instances, fed::encode_instances);
  fuzz::round_trip(q, fed::decode_removeinstance, fed::encode_removeinstance);
  fuzz::round_trip(q, fed::decode_removeorder, fed::encode_removeorder);
  fuzz::round_trip(q, fed::decode_instancebeingused,
                   fed::encode_instancebeingused);
  fuzz::round_trip(q, fed::decode_quota_request, fed::encode_quota_request);
  fuzz::round_trip(q, fed::decode_quota, fed::encode_quota);
  fuzz::round_trip(q, fed::decode_storagelink, fed::encode_storagelink);
  fuzz::round_trip(q, fed::decode_link_result, fed::encode_link_result);
  fuzz::round_trip(q, fed::decode_removestoragelink,
                   fed::encode_removestoragelink);
  return 0;
}
