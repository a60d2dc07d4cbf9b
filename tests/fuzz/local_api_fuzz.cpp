// libFuzzer target: the local API codec. Any line gives a message or an
// error; a request that parses survives a round trip unchanged, but for its
// numbers: a literal of more digits than a double holds is normalised by the
// first round (Boost.JSON 1.81 does not round such literals exactly), and
// stays as it is from then on.
#include "bbt/protocol/local_api.hpp"

#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view line(reinterpret_cast<const char*>(data), size);
    if (auto r = bbt::protocol::parse_request(line)) {
        auto once = bbt::protocol::parse_request(bbt::protocol::serialize(*r));
        if (!once || once->id != r->id || once->method != r->method) std::abort();
        auto again = bbt::protocol::parse_request(bbt::protocol::serialize(*once));
        if (!again || again->id != once->id || again->method != once->method || again->params != once->params) {
            std::abort();
        }
    }
    if (auto r = bbt::protocol::parse_response(line)) {
        if (r->result.has_value() == r->error_code.has_value()) std::abort();
        auto again = bbt::protocol::parse_response(bbt::protocol::serialize(*r));
        if (!again || again->id != r->id) std::abort();
    }
    return 0;
}
