// A simulated IR touch frame, for bbt-sim and the tests: one contact per
// report (Tip Switch, Contact ID, X and Y 0..4095 over 409.5 mm, i.e. 10
// units per mm, Width, Height, Scan Time, Contact Count), as IR frames that
// report contact sizes send them.
#pragma once

#include <cstdint>
#include <vector>

namespace bbt::drivers::hid::sim {

inline constexpr const char* board_descriptor =
    "05 0d 09 04 a1 01 85 01 09 22 a1 02 09 42 15 00 25 01 75 01 95 01 81 02 95 07 81 03"
    " 09 51 25 0a 75 08 95 01 81 02"
    " 05 01 09 30 09 31 26 ff 0f 46 ff 0f 65 11 55 0e 75 10 95 02 81 02"
    " 05 0d 09 48 09 49 81 02 c0"
    " 05 0d 09 56 27 ff ff 00 00 47 ff ff 00 00 65 00 55 00 75 10 95 01 81 02"
    " 09 54 25 0a 75 08 95 01 81 02 c0";
inline constexpr uint16_t vendor = 0x1234;
inline constexpr uint16_t product = 0x5678;
inline constexpr const char* name = "bbt simulated IR frame";

// One report: report id 1, then the contact (sizes in units, 10 per mm;
// scan time in 100 us).
inline std::vector<uint8_t> touch_report(bool tip, int id, int x, int y, int w, int h, int scan = 0) {
    auto lo = [](int v) { return static_cast<uint8_t>(v & 0xff); };
    auto hi = [](int v) { return static_cast<uint8_t>((v >> 8) & 0xff); };
    return {0x01,
            static_cast<uint8_t>(tip ? 1 : 0),
            static_cast<uint8_t>(id),
            lo(x),
            hi(x),
            lo(y),
            hi(y),
            lo(w),
            hi(w),
            lo(h),
            hi(h),
            lo(scan),
            hi(scan),
            1};
}

}  // namespace bbt::drivers::hid::sim
