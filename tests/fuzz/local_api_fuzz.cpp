// libFuzzer target: the local API codec. Any line gives a message or an
// error; a request that parses survives a round trip unchanged.
#include "bbt/protocol/local_api.hpp"

#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view line(reinterpret_cast<const char*>(data), size);
    if (auto r = bbt::protocol::parse_request(line)) {
        auto again = bbt::protocol::parse_request(bbt::protocol::serialize(*r));
        if (!again || again->id != r->id || again->method != r->method || again->params != r->params) std::abort();
    }
    if (auto r = bbt::protocol::parse_response(line)) {
        if (r->result.has_value() == r->error_code.has_value()) std::abort();
        auto again = bbt::protocol::parse_response(bbt::protocol::serialize(*r));
        if (!again || again->id != r->id) std::abort();
    }
    return 0;
}
