// libFuzzer target: the tus header readers (Upload-Metadata, Upload-Offset,
// Upload-Checksum, base64). Any text gives a value or an error with a
// message; what is accepted survives encoding and reading again unchanged.
#include "bbt/protocol/tus.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace tus = bbt::protocol::tus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto m = tus::parse_metadata(text)) {
        for (const auto& [k, v] : *m) {
            if (k.empty() || k.find_first_of(" ,") != std::string::npos) std::abort();
        }
        auto again = tus::parse_metadata(tus::encode_metadata(*m));
        if (!again || *again != *m) std::abort();
    } else if (m.error().message().empty()) {
        std::abort();
    }
    if (auto o = tus::parse_offset(text)) {
        if (*o < 0 || *o > tus::max_length || std::to_string(*o) != text) std::abort();
    }
    if (auto c = tus::parse_checksum(text)) {
        if (c->algorithm.empty() || c->digest.empty()) std::abort();
        auto again = tus::parse_checksum(tus::encode_checksum(*c));
        if (!again || *again != *c) std::abort();
    }
    if (auto b = tus::unbase64(text)) {
        if (tus::base64(*b) != text) std::abort();
    }
    return 0;
}
