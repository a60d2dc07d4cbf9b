// The usage ledger: each device's states over time, the source of the
// county's uptime and usage figures.
//
// An interval is (device, state, boot id, start and end on the boot-time
// clock, start and end wall time). Durations come from the boot-time clock
// (CLOCK_BOOTTIME, which counts suspend and never jumps); wall times are that
// clock plus the boot's offset, so when the wall clock is found to have jumped
// (a board that booted at 1970 and then got NTP) every interval of the boot is
// moved together and durations stay exact.
//
// Crash safety: every change is one SQLite transaction with synchronous=FULL.
// The open interval of each device carries a heartbeat, persisted every few
// seconds; after a kill -9 or a power cut the next open() closes it at its
// last heartbeat, so at most one heartbeat period is lost and closed intervals
// are never touched.
//
// Owned by one thread (the control thread in the agent). Times are passed in,
// which keeps the ledger deterministic under test.
#pragma once

#include "bbt/base/clock.hpp"
#include "bbt/base/error.hpp"
#include "bbt/base/sqlite.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::agent {

struct ledger_interval {
    int64_t id = 0;
    std::string device;
    std::string state;
    std::string boot_id;
    int64_t start_boot_us = 0;
    std::optional<int64_t> end_boot_us;  // empty while open
    int64_t heartbeat_boot_us = 0;
    int64_t start_wall_us = 0;
    std::optional<int64_t> end_wall_us;
    std::string close_reason;  // "change", "stop", "recovered"; empty while open
};

struct usage_row {
    std::string day;  // local calendar day, "YYYY-MM-DD"
    std::string device;
    std::string state;
    int64_t microseconds = 0;
    [[nodiscard]] double hours() const { return static_cast<double>(microseconds) / 3.6e9; }
};

// A whiteboard's calibration, kept with the ledger in the agent's database.
struct stored_calibration {
    std::string board_key;                                    // the board's serial, else vendor:product
    std::array<double, 9> matrix{1, 0, 0, 0, 1, 0, 0, 0, 1};  // device units -> screen pixels
    double screen_width = 0;
    double screen_height = 0;
    int points = 0;
    double max_error_mm = 0;
    double mean_error_mm = 0;
    int64_t created_wall_us = 0;
};

// Every schema the ledger has had, oldest first; exposed for migration tests.
[[nodiscard]] std::span<const sqlite::migration> ledger_migrations();

class ledger {
public:
    // Opens (creating and migrating) the ledger file and closes every interval
    // left open by an earlier run at its last heartbeat.
    [[nodiscard]] static result<ledger> open(const std::filesystem::path& path, const clock::stamp& now);

    // Closes the device's open interval at `now` and opens one in `state`;
    // nothing happens when the device is already in that state.
    [[nodiscard]] result<void> set_state(std::string_view device, std::string_view state, const clock::stamp& now);
    // Closes the device's open interval, if any.
    [[nodiscard]] result<void> end(std::string_view device, const clock::stamp& now, std::string_view reason = "stop");
    // Closes every open interval (on a graceful stop).
    [[nodiscard]] result<void> end_all(const clock::stamp& now, std::string_view reason = "stop");
    // Persists that the open intervals still hold at `now`.
    [[nodiscard]] result<void> heartbeat(const clock::stamp& now);

    // Time in each state per device per local day, for intervals overlapping
    // [from_wall, to_wall); open intervals count up to `now`.
    [[nodiscard]] result<std::vector<usage_row>> usage_by_day(clock::microseconds from_wall,
                                                              clock::microseconds to_wall, const clock::stamp& now);
    [[nodiscard]] result<std::vector<ledger_interval>> intervals();

    // A board's calibration, replacing the one it had.
    [[nodiscard]] result<void> save_calibration(const stored_calibration& c);
    [[nodiscard]] result<std::optional<stored_calibration>> calibration(std::string_view board_key);

    // The agent's database, which the outbox shares (one database per program).
    [[nodiscard]] sqlite::database& database() noexcept { return db_; }

    // Intervals the last open() found open and closed at their heartbeat.
    [[nodiscard]] int recovered() const noexcept { return recovered_; }
    // Wall-clock jumps detected (and corrected) since open().
    [[nodiscard]] int clock_jumps() const noexcept { return clock_jumps_; }

private:
    explicit ledger(sqlite::database db) : db_(std::move(db)) {}
    result<void> recover();
    result<void> observe_clock(const clock::stamp& now);

    sqlite::database db_;
    std::string boot_id_;
    int64_t wall_offset_us_ = 0;
    int recovered_ = 0;
    int clock_jumps_ = 0;
};

}  // namespace bbt::agent
