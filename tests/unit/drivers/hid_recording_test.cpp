#include "bbt/drivers/whiteboard/hid_recording.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

#include <filesystem>

using namespace bbt::drivers::hid;

TEST_CASE("a hid-recorder file reads and writes back the same") {
    auto r = parse_recording(
        "# recorded in Room 3\n"
        "R: 4 05 0d 09 04\n"
        "N: Some Board\n"
        "I: 3 6615 0081\n"
        "P: usb-0000:00:14.0-1/input0\n"
        "E: 0.000000 3 30 01 02\n"
        "# lift\n"
        "  free text of the comment above\n"
        "E: 0.012998 3 30 00 02\n");
    REQUIRE(r);
    CHECK(r->name == "Some Board");
    CHECK(r->bus == 3);
    CHECK(r->vendor == 0x6615);
    CHECK(r->product == 0x0081);
    CHECK(r->descriptor == std::vector<uint8_t>{0x05, 0x0d, 0x09, 0x04});
    REQUIRE(r->reports.size() == 2);
    CHECK(r->reports[1].time == doctest::Approx(0.012998));
    CHECK(r->reports[1].data == std::vector<uint8_t>{0x30, 0x00, 0x02});
    auto again = parse_recording(serialize(*r));
    REQUIRE(again);
    CHECK(again->reports.size() == 2);
    CHECK(again->reports[1].data == r->reports[1].data);
    CHECK(again->vendor == r->vendor);
    CHECK(serialize(*again) == serialize(*r));
}

TEST_CASE("malformed recordings are refused with the line and the reason") {
    struct bad {
        const char* text;
        const char* says;
    };
    for (const bad& b : {
             bad{"E: 0.0 1 30\n", "no \"R:\""},
             bad{"R: 3 05 0d\n", "line 1: says 3 bytes but holds 2"},
             bad{"R: 1 05\nE: x 1 30\n", "line 2: expected a time"},
             bad{"R: 1 05\nE: -1.0 1 30\n", "line 2"},
             bad{"R: 1 05\nE: 0.1 1 3g\n", "line 2"},
             bad{"R: 1 05\nI: 3 zz 1\n", "line 2: expected bus"},
             bad{"R: 1 05\nhello\n", "line 2: expected a line"},
             bad{"R: 1 05\nR: 1 05\n", "second descriptor"},
             bad{"R: 1 05\nE: 0.1 0\n", "empty report"},
         }) {
        CAPTURE(b.text);
        auto r = parse_recording(b.text);
        REQUIRE_FALSE(r);
        CHECK(r.error().message().find(b.says) != std::string::npos);
    }
}

TEST_CASE("every real recording reads completely") {
    auto dir = bbt::test::hid_data_dir() / "recordings";
    if (!std::filesystem::exists(dir)) {
        BBT_SKIP("no real HID data at " << dir.string());
        return;
    }
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        CAPTURE(e.path().string());
        std::string text = bbt::test::read_file(e.path());
        auto r = parse_recording(text);
        REQUIRE(r);
        size_t lines = 0;
        for (size_t p = text.find("\nE: "); p != std::string::npos; p = text.find("\nE: ", p + 1))
            ++lines;
        CHECK(r->reports.size() == lines + (text.starts_with("E: ") ? 1 : 0));
        CHECK_FALSE(r->descriptor.empty());
        CHECK(r->vendor != 0);
        ++files;
    }
    CHECK(files >= 10);
}
