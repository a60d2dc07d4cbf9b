// libFuzzer target: the courseware catalogue reader. Any text gives entries
// or an error; entries keep the reader's promises (ids unique, hashes of 64
// hex digits, sizes in range), and what it accepts survives encoding and
// reading again unchanged.
#include "bbt/protocol/catalogue.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto c = bbt::protocol::parse_catalogue(text);
    if (!c) {
        if (c.error().message().empty()) std::abort();
        return 0;
    }
    std::set<std::string> ids;
    for (const auto& e : *c) {
        if (e.id.empty() || !ids.insert(e.id).second || e.sha256.size() != 64 || e.size < 0 ||
            e.size > bbt::protocol::max_resource_bytes) {
            std::abort();
        }
    }
    auto again = bbt::protocol::parse_catalogue(bbt::protocol::encode_catalogue(*c));
    if (!again || *again != *c) std::abort();
    return 0;
}
