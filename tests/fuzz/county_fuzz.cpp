// libFuzzer target: the county link's codec. Any text gives a batch, a reply
// or an error; what decodes encodes again to the same value.
#include "bbt/protocol/county.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace bbt::protocol::county;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto b = decode_batch(text)) {
        auto again = decode_batch(encode(*b));
        if (!again || !(*again == *b)) std::abort();
    }
    if (auto r = decode_reply(text)) {
        auto again = decode_reply(encode(*r));
        if (!again || !(*again == *r)) std::abort();
        for (const auto& c : r->commands)
            (void)signing_input(c);
    }
    return 0;
}
