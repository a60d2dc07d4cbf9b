// libFuzzer target: the multitouch report decoder. The input is a report
// descriptor followed by reports: [2-byte length][descriptor][1-byte length,
// report]... Any reports give frames or errors, and frames stay well formed.
#include "bbt/drivers/whiteboard/mt_decoder.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace bbt::drivers::hid;
    if (size < 2) return 0;
    size_t n = data[0] | (size_t{data[1]} << 8);
    if (n > size - 2) return 0;
    auto d = parse_descriptor({data + 2, n});
    if (!d) return 0;
    auto t = find_touch(*d);
    if (!t) return 0;
    auto layout = make_mt_layout(*d, *t);
    // Every quirk combination the data can pick.
    uint32_t quirks = size > 2 + n ? data[2 + n] * 0x01010101u : default_quirks(*d);
    mt_decoder dec(layout, quirks, t->max_contacts);
    size_t pos = 2 + n + 1;
    while (pos < size) {
        size_t len = data[pos++];
        if (len > size - pos) len = size - pos;
        auto got = dec.feed({data + pos, len});
        pos += len;
        if (!got || !*got) continue;
        const mt_frame& f = **got;
        if (f.slots.size() != t->max_contacts) std::abort();
        bool any = false;
        for (const auto& s : f.slots)
            any = any || s.tracking_id >= 0;
        if (any != f.touch) std::abort();
    }
    auto released = dec.release_all();
    if (released.touch) std::abort();
    return 0;
}
