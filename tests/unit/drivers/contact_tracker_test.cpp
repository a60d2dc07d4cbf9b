// The contact tracker: stuck contacts, tools by size, palms, the pen node,
// MSC_TIMESTAMP; and the output's screen map.
#include "bbt/drivers/whiteboard/contact_tracker.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/output.hpp"

#include "bbt/drivers/whiteboard/sim_board.hpp"
#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

#include <linux/input.h>

#include <cmath>
#include <filesystem>
#include <map>

using namespace bbt::drivers::hid;

namespace {

constexpr const char* sized_touch = bbt::drivers::hid::sim::board_descriptor;

touch_device device_of(const char* hex) {
    auto d = parse_descriptor(parse_hex(hex).value()).value();
    return touch_device_for(d, 0x1234, 0x5678).value();
}

std::vector<uint8_t> touch_report(bool tip, int id, int x, int y, int w, int h, int scan = 0) {
    return bbt::drivers::hid::sim::touch_report(tip, id, x, y, w, h, scan);
}

std::vector<tracked_frame> feed(contact_tracker& t, const std::vector<uint8_t>& r, int64_t now) {
    std::vector<tracked_frame> out;
    REQUIRE(t.feed(r, now, out));
    return out;
}

}  // namespace

TEST_CASE("the descriptor used here carries sizes and a resolution") {
    auto dev = device_of(sized_touch);
    CHECK(dev.touch.x.resolution == 10);
    CHECK(dev.touch.y.resolution == 10);
    CHECK(dev.decoder.layout().contacts.at(0).width.present);
    CHECK(dev.decoder.layout().scan_time.present);
}

TEST_CASE("a contact is lifted when no report comes for 100 ms, and only then") {
    contact_tracker t(device_of(sized_touch), std::nullopt, {});
    CHECK_FALSE(t.deadline());
    auto f = feed(t, touch_report(true, 1, 1000, 1000, 100, 100), 1'000'000);
    REQUIRE(f.size() == 1);
    REQUIRE(f[0].touch);
    CHECK(f[0].touch->touch);
    REQUIRE(t.deadline());
    CHECK(*t.deadline() == 1'100'000);
    CHECK_FALSE(t.tick(1'099'999));
    auto lifted = t.tick(1'100'000);
    REQUIRE(lifted);
    REQUIRE(lifted->touch);
    CHECK_FALSE(lifted->touch->touch);
    CHECK(lifted->touch->slots[0].tracking_id == -1);
    CHECK_FALSE(t.deadline());
    CHECK_FALSE(t.tick(5'000'000));  // nothing left to lift
    // A report keeps the contact alive: the deadline moves with it.
    (void)feed(t, touch_report(true, 1, 1000, 1000, 100, 100), 6'000'000);
    (void)feed(t, touch_report(true, 1, 1010, 1000, 100, 100), 6'090'000);
    CHECK_FALSE(t.tick(6'150'000));
    CHECK(*t.deadline() == 6'190'000);
}

TEST_CASE("tools by size: pen, finger, eraser and palm, and a tool only grows") {
    CHECK(contact_tracker::tool_for_size({}, 3) == contact_tool::pen);
    CHECK(contact_tracker::tool_for_size({}, 12) == contact_tool::finger);
    CHECK(contact_tracker::tool_for_size({}, 45) == contact_tool::eraser);
    CHECK(contact_tracker::tool_for_size({}, 150) == contact_tool::palm);
    CHECK(contact_tracker::tool_for_size({}, 0) == contact_tool::finger);  // no size: a finger
    tool_sizes no_palm;
    no_palm.palm_min_mm = 0;
    CHECK(contact_tracker::tool_for_size(no_palm, 150) == contact_tool::eraser);

    contact_tracker t(device_of(sized_touch), std::nullopt, {});
    REQUIRE(t.sizes_in_use());
    // 3 mm: a pen, on the pen node, not on the touch node.
    auto f = feed(t, touch_report(true, 1, 1000, 2000, 30, 20), 0);
    REQUIRE(f.size() == 1);
    REQUIRE(f[0].pen);
    CHECK(f[0].pen->in_range);
    CHECK(f[0].pen->tip);
    CHECK_FALSE(f[0].pen->eraser);
    CHECK(f[0].pen->x == 1000);
    CHECK_FALSE(f[0].touch->touch);
    // Grows to 12 mm: a finger; the pen node is left, the touch node has it.
    f = feed(t, touch_report(true, 1, 1010, 2000, 120, 100), 10'000);
    REQUIRE(f[0].pen);
    CHECK_FALSE(f[0].pen->in_range);
    CHECK(f[0].touch->touch);
    CHECK(f[0].touch->slots[0].tool == contact_tool::finger);
    // Shrinks back to 3 mm: still a finger.
    f = feed(t, touch_report(true, 1, 1020, 2000, 30, 30), 20'000);
    CHECK(f[0].touch->slots[0].tool == contact_tool::finger);
    CHECK_FALSE(f[0].pen);
    // 50 mm: an eraser, on the pen node as the rubber end.
    f = feed(t, touch_report(true, 1, 1030, 2000, 500, 300), 30'000);
    REQUIRE(f[0].pen);
    CHECK(f[0].pen->eraser);
    CHECK_FALSE(f[0].touch->touch);
    // 150 mm: a palm, back on the touch node as MT_TOOL_PALM.
    f = feed(t, touch_report(true, 1, 1040, 2000, 1500, 900), 40'000);
    REQUIRE(f[0].pen);
    CHECK_FALSE(f[0].pen->in_range);
    CHECK(f[0].touch->slots[0].tool == contact_tool::palm);
    // Lifted; the next contact starts from its own size.
    (void)feed(t, touch_report(false, 1, 1040, 2000, 0, 0), 50'000);
    f = feed(t, touch_report(true, 2, 500, 500, 100, 100), 60'000);
    CHECK(f[0].touch->slots[0].tool == contact_tool::finger);

    // Switched off: everything is a finger.
    tracker_options off;
    off.sizes.enabled = false;
    contact_tracker plain(device_of(sized_touch), std::nullopt, off);
    CHECK_FALSE(plain.sizes_in_use());
    f = feed(plain, touch_report(true, 1, 1000, 2000, 30, 20), 0);
    CHECK_FALSE(f[0].pen);
    CHECK(f[0].touch->slots[0].tool == contact_tool::finger);
}

TEST_CASE("Scan Time becomes MSC_TIMESTAMP in microseconds, wrapping, and restarting after a silence") {
    contact_tracker t(device_of(sized_touch), std::nullopt, {});
    auto f = feed(t, touch_report(true, 1, 10, 10, 100, 100, 1000), 0);
    CHECK(f[0].timestamp_us == 0);
    f = feed(t, touch_report(true, 1, 10, 10, 100, 100, 1100), 10'000);
    CHECK(f[0].timestamp_us == 10'000);  // 100 x 100 us
    f = feed(t, touch_report(true, 1, 10, 10, 100, 100, 65500), 20'000);
    f = feed(t, touch_report(true, 1, 10, 10, 100, 100, 65), 30'000);  // wrapped at 65535
    CHECK(f[0].timestamp_us == 10'000 + (65500 - 1100) * 100 + (65 - 65500 + 65535) * 100);
    f = feed(t, touch_report(true, 1, 10, 10, 100, 100, 200), 2'000'000);  // 2 s of silence
    CHECK(f[0].timestamp_us == 0);
}

TEST_CASE("a Windows 8 board's unconfident contact is a palm; one lifting as it is marked gets a palm frame first") {
    // As above, with Confidence, and the Windows 8 certification feature.
    auto dev = device_of(
        "05 0d 09 04 a1 01 85 01 09 22 a1 02 09 42 09 47 15 00 25 01 75 01 95 02 81 02 95 06 81 03"
        " 09 51 25 0a 75 08 95 01 81 02"
        " 05 01 09 30 09 31 26 ff 0f 46 ff 0f 65 11 55 0f 75 10 95 02 81 02 c0"
        " 05 0d 09 54 25 0a 75 08 95 01 81 02"
        " 06 00 ff 09 c5 85 02 15 00 26 ff 00 75 08 96 00 01 b1 02 c0");
    CHECK((dev.cls.quirks & quirk::confidence) != 0);
    contact_tracker t(std::move(dev), std::nullopt, {});
    auto r = [](bool tip, bool confident, int x) {
        uint8_t flags = static_cast<uint8_t>((tip ? 1 : 0) | (confident ? 2 : 0));
        return std::vector<uint8_t>{0x01, flags, 0x01, static_cast<uint8_t>(x), 0x00, 0x10, 0x00, 0x01};
    };
    auto f = feed(t, r(true, true, 10), 0);
    REQUIRE(f.size() == 1);
    CHECK(f[0].touch->slots[0].tool == contact_tool::finger);
    f = feed(t, r(true, false, 20), 10'000);
    REQUIRE(f.size() == 1);
    CHECK(f[0].touch->slots[0].tool == contact_tool::palm);
    CHECK(f[0].touch->slots[0].tracking_id >= 0);
    // A confident finger that lifts as unconfident: palm, then lift.
    (void)feed(t, r(false, true, 20), 20'000);
    (void)feed(t, r(true, true, 30), 30'000);
    f = feed(t, r(false, false, 30), 40'000);
    REQUIRE(f.size() == 2);
    CHECK(f[0].touch->slots[0].tool == contact_tool::palm);
    CHECK(f[0].touch->slots[0].tracking_id >= 0);
    CHECK(f[1].touch->slots[0].tracking_id == -1);
    CHECK_FALSE(f[1].touch->touch);
}

TEST_CASE("the screen map: the device's units unchanged, or the board stretched or calibrated onto a screen area") {
    auto dev = device_of(sized_touch);
    auto same = screen_map::device_units(dev);
    int32_t x = 1234, y = 567;
    same.apply(x, y);
    CHECK(x == 1234);
    CHECK(y == 567);
    CHECK(same.x().max == 4095);
    CHECK(same.x().resolution == 10);

    // The board covers the right half of a 1920 x 1080 screen.
    auto m = screen_map::to_screen(dev, 1920, 1080, {960, 0, 960, 1080}, nullptr);
    CHECK(m.x().max == 1920 * screen_map::subpixels - 1);
    x = 0, y = 0;
    m.apply(x, y);
    CHECK(x == 960 * screen_map::subpixels);
    CHECK(y == 0);
    x = 4095, y = 4095;
    m.apply(x, y);
    CHECK(x == 1920 * screen_map::subpixels - 1);  // clamped to the range
    CHECK(y == 1080 * screen_map::subpixels - 1);
    // 960 px over 409.5 mm of board.
    CHECK(std::abs(m.x().resolution - 960.0 * screen_map::subpixels / 409.5) < 1);

    // A calibration replaces the stretch: here, a shift by 100 px.
    bbt::drivers::whiteboard::homography shift;
    shift.h = {0.5, 0, 100, 0, 0.25, 0, 0, 0, 1};
    auto c = screen_map::to_screen(dev, 1920, 1080, {0, 0, 1920, 1080}, &shift);
    x = 200, y = 400;
    c.apply(x, y);
    CHECK(x == (200 * 0.5 + 100) * screen_map::subpixels);
    CHECK(y == 100 * screen_map::subpixels);
}

TEST_CASE("the output writes each node's events through its map, into the sink") {
    auto dev = device_of(sized_touch);
    recording_sink sink;
    auto map = screen_map::to_screen(dev, 4096, 4096, {0, 0, 4095, 4095}, nullptr);
    touch_output out(dev.decoder.slot_count(), map, map, sink);
    contact_tracker t(dev, std::nullopt, {});
    for (const auto& f : feed(t, touch_report(true, 1, 100, 200, 30, 30), 0))
        REQUIRE(out.write(f));
    // A pen-sized contact: pen node only (the touch node has nothing to lift).
    std::map<node, int> syn;
    int pen_x = -1;
    for (const auto& e : sink.events()) {
        if (e.e.type == EV_SYN) ++syn[e.n];
        if (e.n == node::pen && e.e.type == EV_ABS && e.e.code == ABS_X) pen_x = e.e.value;
    }
    CHECK(syn[node::pen] == 1);
    CHECK(pen_x == 100 * screen_map::subpixels);
}

TEST_CASE("real boards that report contact sizes keep their fingers fingers with the default sizes") {
    auto dir = bbt::test::hid_data_dir() / "recordings";
    if (!std::filesystem::exists(dir)) {
        BBT_SKIP("no real HID data at " << dir.string());
        return;
    }
    int with_sizes = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        auto rec = parse_recording(bbt::test::read_file(e.path())).value();
        auto d = parse_descriptor(rec.descriptor).value();
        auto dev = touch_device_for(d, rec.vendor, rec.product);
        if (!dev) continue;
        contact_tracker t(std::move(*dev), find_pen(d), {});
        if (!t.sizes_in_use()) continue;
        ++with_sizes;
        std::map<contact_tool, int> tools;
        std::vector<tracked_frame> frames;
        int64_t now = 0;
        for (const auto& r : rec.reports) {
            now = static_cast<int64_t>(r.time * 1e6);
            frames.clear();
            REQUIRE(t.feed(r.data, now, frames));
            for (const auto& f : frames) {
                if (!f.touch) continue;
                for (const auto& s : f.touch->slots) {
                    if (s.tracking_id >= 0) ++tools[s.tool];
                }
            }
        }
        int total = 0;
        for (auto [tool, n] : tools)
            total += n;
        MESSAGE(e.path().stem().string() << ": " << tools[contact_tool::finger] << " finger, "
                                         << tools[contact_tool::palm] << " palm contact-frames of " << total);
        CHECK(tools[contact_tool::finger] >= total * 9 / 10);
    }
    MESSAGE(with_sizes << " recordings report contact sizes");
}
