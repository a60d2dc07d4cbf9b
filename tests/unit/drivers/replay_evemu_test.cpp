// Replays the real recordings through the decoder and compares the touch
// state after every frame with what a real Linux kernel emitted for the same
// trace (evemu files): the same contacts, positions and lifetimes.
#include "bbt/drivers/whiteboard/evdev_frame.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/mt_decoder.hpp"
#include "bbt/drivers/whiteboard/output.hpp"

#include "doctest_bbt.hpp"
#include "evemu.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

using namespace bbt::drivers::hid;

namespace {

using bbt::test::evemu::compare;
using bbt::test::evemu::state;

// Our frames as user space would see them from a uinput device with the
// kernel's fuzz: the agent's whole touch path (decoder, contact tracker, the
// output in device units) into a recording sink, then the input core's
// filtering. Tools by size are off: the kernel has no such thing.
std::vector<state> replay(const recording& rec, const bbt::test::evemu::stream& ev) {
    auto d = parse_descriptor(rec.descriptor).value();
    auto dev = touch_device_for(d, rec.vendor, rec.product).value();
    // The fuzz comes from the class table; the kernel's must agree.
    auto map = screen_map::device_units(dev);
    CHECK(map.x().fuzz == ev.fuzz_x);
    CHECK(map.y().fuzz == ev.fuzz_y);
    tracker_options options;
    options.sizes.enabled = false;
    return bbt::test::evemu::replay(rec, map, options);
}

}  // namespace

TEST_CASE("every real recording replays to the contacts, positions and lifetimes the kernel emitted") {
    auto dir = bbt::test::hid_data_dir();
    if (!std::filesystem::exists(dir / "expected_evemu")) {
        BBT_SKIP("no real HID data at " << dir.string());
        return;
    }
    for (const auto& e : std::filesystem::directory_iterator(dir / "recordings")) {
        std::string name = e.path().stem().string();
        auto ev_path = dir / "expected_evemu" / (name + "_0.ev");
        if (!std::filesystem::exists(ev_path)) continue;
        CAPTURE(name);
        auto rec = parse_recording(bbt::test::read_file(e.path()));
        REQUIRE(rec);
        auto ev = bbt::test::evemu::read(bbt::test::read_file(ev_path));
        auto d = parse_descriptor(rec->descriptor).value();
        auto t = find_touch(d).value();
        CHECK(std::abs(t.x.resolution - ev.resolution_x) <= 1);
        CHECK(std::abs(t.y.resolution - ev.resolution_y) <= 1);
        auto ours = replay(*rec, ev);
        std::string diff = compare(ours, ev.frames);
        MESSAGE(name << ": " << (diff.empty() ? "equivalent" : diff));
        CHECK(diff.empty());
    }
}
