// The recorder's common clock, as pure functions: which clock a source
// stamps on, and its timestamps as seconds since the recording's start.
#include "bbt/media/source_clock.hpp"

#include "doctest_bbt.hpp"

using namespace bbt::media;

namespace {
constexpr int64_t wall = 1'795'000'000'000'000;  // Dec 2026, in microseconds
constexpr int64_t mono = 86'400'000'000;         // a day after boot
}  // namespace

TEST_CASE("a source's clock is told from its first timestamp") {
    // A V4L2 camera: the kernel's monotonic clock, its first frame 0.2 s old.
    CHECK(classify_clock(mono - 200'000, wall, mono) == clock_kind::monotonic);
    // libavdevice's ALSA input: the wall clock, its first period 20 ms old.
    CHECK(classify_clock(wall - 20'000, wall, mono) == clock_kind::wall);
    // FFmpeg's test sources and files: from zero.
    CHECK(classify_clock(0, wall, mono) == clock_kind::from_zero);
    CHECK(classify_clock(1'400, wall, mono) == clock_kind::from_zero);
    // Further than the window from both: from a zero of its own.
    CHECK(classify_clock(mono + clock_window_us + 1, wall, mono) == clock_kind::from_zero);
}

TEST_CASE("picture and sound taken at the same moment get the same time, whatever clock each stamps on") {
    const int64_t start = mono;  // the recording starts now
    const int64_t wall_minus_mono = wall - mono;
    source_clock camera{clock_kind::monotonic, mono - 100'000};
    source_clock microphone{clock_kind::wall, wall - 30'000};
    // 2.5 s into the lesson, on each one's clock.
    CHECK(camera.seconds(mono + 2'500'000, wall_minus_mono, start) == doctest::Approx(2.5));
    CHECK(microphone.seconds(wall + 2'500'000, wall_minus_mono, start) == doctest::Approx(2.5));
    // What was taken before the start is before zero (left out by the recorder).
    CHECK(camera.seconds(mono - 100'000, wall_minus_mono, start) == doctest::Approx(-0.1));
    // A test source counts from its own first timestamp.
    source_clock test{clock_kind::from_zero, 40'000};
    CHECK(test.seconds(1'040'000, wall_minus_mono, start) == doctest::Approx(1.0));
}

TEST_CASE("the wall clock stepped by NTP in the middle of a lesson moves no sound") {
    const int64_t start = mono;
    source_clock microphone{clock_kind::wall, wall};
    // 10 s in, the wall clock is set back an hour; the sound card's
    // timestamps (taken from the wall clock) go back with it.
    const int64_t step = -3'600'000'000;
    double before = microphone.seconds(wall + 10'000'000, wall - mono, start);
    double after = microphone.seconds(wall + 10'020'000 + step, wall - mono + step, start);
    CHECK(before == doctest::Approx(10.0));
    CHECK(after == doctest::Approx(10.02));
}
