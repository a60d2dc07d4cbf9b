// libFuzzer target: the HID report descriptor parser. Any bytes give a
// layout or an error; a layout is self-consistent. The same bytes are also
// read as hex text (the .rdesc form), so real descriptors seed it as they are.
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/touch_layout.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

namespace {

void check(std::span<const uint8_t> bytes) {
    using namespace bbt::drivers::hid;
    auto d = parse_descriptor(bytes);
    if (!d) {
        if (d.error().message().empty()) std::abort();
        return;
    }
    for (const auto& r : d->reports) {
        if (r.size_bits > max_report_bits) std::abort();
        for (const auto& f : r.fields) {
            // Every field lies inside its report, after the report id byte.
            if (f.bit_offset < (r.id ? 8u : 0u)) std::abort();
            if (uint64_t{f.bit_offset} + uint64_t{f.bit_size} * f.count > r.size_bits) std::abort();
            if (f.bit_size > max_field_bits || f.count > max_usages) std::abort();
            if (f.collection >= static_cast<int>(d->collections.size())) std::abort();
        }
    }
    if (auto t = find_touch(*d)) {
        if (t->contacts_per_report == 0 || t->max_contacts < t->contacts_per_report) std::abort();
        if (t->x.resolution < 0 || t->y.resolution < 0) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    check({data, size});
    if (auto bytes = bbt::drivers::hid::parse_hex({reinterpret_cast<const char*>(data), size})) check(*bytes);
    return 0;
}
