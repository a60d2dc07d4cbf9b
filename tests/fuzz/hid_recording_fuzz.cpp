// libFuzzer target: the hid-recorder file reader. Any text gives a
// recording or an error; a recording survives a write and read unchanged.
#include "bbt/drivers/whiteboard/hid_recording.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace bbt::drivers::hid;
    auto r = parse_recording({reinterpret_cast<const char*>(data), size});
    if (!r) {
        if (r.error().message().empty()) std::abort();
        return 0;
    }
    auto again = parse_recording(serialize(*r));
    if (!again || again->descriptor != r->descriptor || again->reports.size() != r->reports.size() ||
        again->vendor != r->vendor || again->product != r->product) {
        std::abort();
    }
    for (size_t i = 0; i < r->reports.size(); ++i) {
        if (again->reports[i].data != r->reports[i].data) std::abort();
    }
    return 0;
}
