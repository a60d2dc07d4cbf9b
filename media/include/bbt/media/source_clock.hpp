// One clock for all the recorder's sources. Each device stamps its data on a
// clock of its own choosing: a V4L2 camera on the kernel's monotonic clock,
// libavdevice's ALSA and x11grab inputs on the wall clock, FFmpeg's test
// sources and files from zero. Sources on a real clock are put on the
// monotonic one and measured from the recording's start, so that picture and
// sound taken at the same moment get the same time, also when the wall clock
// is stepped (NTP after a boot without a battery-backed clock) during the
// lesson. Sources that start from zero keep their own zero at the start.
//
// Pure functions: every "now" is passed in, in microseconds.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace bbt::media {

enum class clock_kind { from_zero, monotonic, wall };

// A first timestamp this close to one of the clocks' "now" is on that clock.
// A live device's first data is at most a few seconds old; the monotonic
// clock is never this close to zero once the agent runs.
inline constexpr int64_t clock_window_us = 10'000'000;

// Which clock a source stamps on, from its first timestamp.
[[nodiscard]] inline clock_kind classify_clock(int64_t first_us, int64_t wall_now_us, int64_t mono_now_us) {
    int64_t to_wall = std::abs(first_us - wall_now_us);
    int64_t to_mono = std::abs(first_us - mono_now_us);
    if (to_mono <= clock_window_us && to_mono <= to_wall) return clock_kind::monotonic;
    if (to_wall <= clock_window_us) return clock_kind::wall;
    return clock_kind::from_zero;
}

struct source_clock {
    clock_kind kind = clock_kind::from_zero;
    int64_t first_us = 0;  // the source's first timestamp, on its own clock

    // Seconds since the recording's start (`start_mono_us`, on the monotonic
    // clock) of a timestamp `ts_us` of this source. A wall-clock timestamp is
    // turned into a monotonic one with the clocks' difference (wall minus
    // monotonic) as it was when the data was read, so a step of the wall
    // clock moves both alike and the recording does not jump.
    [[nodiscard]] double seconds(int64_t ts_us, int64_t wall_minus_mono_us, int64_t start_mono_us) const {
        switch (kind) {
            case clock_kind::monotonic: return static_cast<double>(ts_us - start_mono_us) / 1e6;
            case clock_kind::wall: return static_cast<double>(ts_us - wall_minus_mono_us - start_mono_us) / 1e6;
            case clock_kind::from_zero: break;
        }
        return static_cast<double>(ts_us - first_us) / 1e6;
    }
};

}  // namespace bbt::media
