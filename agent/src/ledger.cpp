#include "bbt/agent/ledger.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>
#include <tuple>

namespace bbt::agent {
namespace {

const log::category lg{"ledger"};

// A wall clock that moved this far against the boot-time clock has jumped.
constexpr int64_t jump_threshold_us = 2'000'000;

constexpr sqlite::migration migrations[] = {
    {1, R"sql(
        CREATE TABLE boots (
            boot_id         TEXT PRIMARY KEY,
            wall_offset_us  INTEGER NOT NULL,   -- wall time minus boot time
            clock_synced    INTEGER NOT NULL,   -- the kernel said NTP-synchronised
            clock_jumps     INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE intervals (
            id                INTEGER PRIMARY KEY,
            device            TEXT NOT NULL,
            state             TEXT NOT NULL,
            boot_id           TEXT NOT NULL REFERENCES boots(boot_id),
            start_boot_us     INTEGER NOT NULL,
            end_boot_us       INTEGER,          -- NULL while open
            heartbeat_boot_us INTEGER NOT NULL,
            start_wall_us     INTEGER NOT NULL,
            end_wall_us       INTEGER,
            close_reason      TEXT,
            CHECK (end_boot_us IS NULL OR end_boot_us >= start_boot_us),
            CHECK (heartbeat_boot_us >= start_boot_us)
        );
        CREATE UNIQUE INDEX intervals_one_open ON intervals(device) WHERE end_boot_us IS NULL;
        CREATE INDEX intervals_by_wall ON intervals(start_wall_us);
    )sql"},
    {2, R"sql(
        CREATE TABLE calibrations (
            board_key        TEXT PRIMARY KEY,   -- the board's serial, else vendor:product
            matrix           TEXT NOT NULL,      -- 9 numbers, row-major: device units -> screen pixels
            screen_width     REAL NOT NULL,      -- the screen it was made on, in pixels
            screen_height    REAL NOT NULL,
            points           INTEGER NOT NULL,
            max_error_mm     REAL NOT NULL,
            mean_error_mm    REAL NOT NULL,
            created_wall_us  INTEGER NOT NULL
        );
    )sql"},
    {3, R"sql(
        -- What the agent reports to the county, in order of its sequence
        -- numbers, which are never reused (AUTOINCREMENT), until the county
        -- acknowledges it.
        CREATE TABLE outbox (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            kind         TEXT NOT NULL,
            priority     INTEGER NOT NULL,   -- 2 events and alerts, 1 usage and inventory, 0 samples
            at_us        INTEGER NOT NULL,
            body         TEXT,               -- the message body's JSON; NULL for usage
            interval_id  INTEGER REFERENCES intervals(id)  -- usage: built from the interval when sent
        );
        CREATE INDEX outbox_by_priority ON outbox(priority DESC, seq);
        -- A closed interval is reported, in the transaction that closes it;
        -- its wall times are read when it is sent, after any clock correction.
        CREATE TRIGGER intervals_report_closed AFTER UPDATE OF end_boot_us ON intervals
        WHEN OLD.end_boot_us IS NULL AND NEW.end_boot_us IS NOT NULL
        BEGIN
            INSERT INTO outbox(kind, priority, at_us, interval_id) VALUES ('usage', 1, NEW.end_wall_us, NEW.id);
        END;
    )sql"},
    {4, R"sql(
        -- Nonces of the county's commands already seen: a replay is refused.
        CREATE TABLE command_nonces (
            nonce       TEXT PRIMARY KEY,
            expires_us  INTEGER NOT NULL
        );
    )sql"},
    {5, R"sql(
        -- The county sends a command again until our result reaches it: the
        -- command's id tells a second delivery from a new command.
        ALTER TABLE command_nonces ADD COLUMN command_id TEXT;
        CREATE INDEX command_nonces_by_id ON command_nonces(command_id);
    )sql"},
    {6, R"sql(
        -- Outbox messages that cannot be read back (damaged in storage, or
        -- written by an older agent in a form no reader accepts): moved here
        -- with the reason, so they never hold up the queue and are never lost.
        CREATE TABLE outbox_quarantine (
            seq             INTEGER PRIMARY KEY,
            kind            TEXT NOT NULL,
            at_us           INTEGER NOT NULL,
            body            BLOB,
            reason          TEXT NOT NULL,
            quarantined_us  INTEGER NOT NULL
        );
    )sql"},
};

}  // namespace

std::span<const sqlite::migration> ledger_migrations() { return migrations; }

result<void> ledger::save_calibration(const stored_calibration& c) {
    std::string matrix;
    for (double v : c.matrix)
        matrix += fmt::format("{}{:.17g}", matrix.empty() ? "" : " ", v);
    auto st = db_.prepare(
        "INSERT INTO calibrations (board_key, matrix, screen_width, screen_height, points, max_error_mm,"
        " mean_error_mm, created_wall_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (board_key) DO UPDATE SET matrix = excluded.matrix, screen_width = excluded.screen_width,"
        " screen_height = excluded.screen_height, points = excluded.points, max_error_mm = excluded.max_error_mm,"
        " mean_error_mm = excluded.mean_error_mm, created_wall_us = excluded.created_wall_us");
    if (!st) return st.error();
    st->bind_all(c.board_key, matrix, c.screen_width, c.screen_height, int64_t{c.points}, c.max_error_mm,
                 c.mean_error_mm, c.created_wall_us);
    return st->run();
}

result<std::optional<stored_calibration>> ledger::calibration(std::string_view board_key) {
    auto st = db_.prepare(
        "SELECT matrix, screen_width, screen_height, points, max_error_mm, mean_error_mm, created_wall_us"
        " FROM calibrations WHERE board_key = ?");
    if (!st) return st.error();
    st->bind(1, board_key);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<stored_calibration>{};
    stored_calibration c;
    c.board_key = std::string(board_key);
    std::istringstream m(st->column_text(0));
    for (auto& v : c.matrix) {
        if (!(m >> v)) {
            return error(base_errc::corrupt,
                         i18n::format({"the stored calibration of board {} is damaged; calibrate it again",
                                       "白板 {} 保存的校准数据已损坏；请重新校准"},
                                      board_key));
        }
    }
    c.screen_width = st->column_double(1);
    c.screen_height = st->column_double(2);
    c.points = static_cast<int>(st->column_int64(3));
    c.max_error_mm = st->column_double(4);
    c.mean_error_mm = st->column_double(5);
    c.created_wall_us = st->column_int64(6);
    return std::optional<stored_calibration>(std::move(c));
}

result<ledger> ledger::open(const std::filesystem::path& path, const clock::stamp& now) {
    auto db = sqlite::database::open(path, {.sync = sqlite::synchronous::full});
    if (!db) return db.error();
    if (auto r = db->migrate(migrations); !r) return r.error();
    ledger l(std::move(*db));
    if (auto r = l.recover(); !r) return r.error();
    if (auto r = l.observe_clock(now); !r) return r.error();
    return l;
}

result<void> ledger::recover() {
    auto tx = sqlite::transaction::begin(db_);
    if (!tx) return tx.error();
    auto count = db_.prepare("SELECT count(*) FROM intervals WHERE end_boot_us IS NULL");
    if (!count) return count.error();
    if (auto r = count->step(); !r) return r.error();
    recovered_ = static_cast<int>(count->column_int64(0));
    if (auto r = db_.exec("UPDATE intervals SET end_boot_us = heartbeat_boot_us,"
                          " end_wall_us = start_wall_us + (heartbeat_boot_us - start_boot_us),"
                          " close_reason = 'recovered' WHERE end_boot_us IS NULL");
        !r) {
        return r.error();
    }
    if (auto r = tx->commit(); !r) return r.error();
    if (recovered_ > 0) {
        log::notice(lg, "closed {} interval(s) left open by an earlier run at their last heartbeat", recovered_);
    }
    return {};
}

// Registers the boot on first sight, and detects a wall clock that jumped
// against the boot-time clock; the boot's intervals then move with it.
result<void> ledger::observe_clock(const clock::stamp& now) {
    int64_t offset = now.wall.count() - now.boottime.count();
    if (now.boot == boot_id_ && std::llabs(offset - wall_offset_us_) < jump_threshold_us) {
        return {};
    }
    auto tx = sqlite::transaction::begin(db_);
    if (!tx) return tx.error();
    auto find = db_.prepare("SELECT wall_offset_us FROM boots WHERE boot_id = ?");
    if (!find) return find.error();
    find->bind_all(now.boot);
    auto row = find->step();
    if (!row) return row.error();
    bool synced = clock::wall_clock_synchronized();
    if (!*row) {
        auto ins = db_.prepare("INSERT INTO boots(boot_id, wall_offset_us, clock_synced) VALUES (?, ?, ?)");
        if (!ins) return ins.error();
        if (auto r = ins->bind_all(now.boot, offset, synced ? 1 : 0).run(); !r) return r.error();
    } else if (int64_t stored = find->column_int64(0); std::llabs(offset - stored) >= jump_threshold_us) {
        log::warning(lg,
                     "the wall clock jumped by {:.1f} s against the boot-time clock; moving this boot's "
                     "intervals with it",
                     static_cast<double>(offset - stored) / 1e6);
        ++clock_jumps_;
        auto upd = db_.prepare(
            "UPDATE boots SET wall_offset_us = ?, clock_synced = ?,"
            " clock_jumps = clock_jumps + 1 WHERE boot_id = ?");
        if (!upd) return upd.error();
        if (auto r = upd->bind_all(offset, synced ? 1 : 0, now.boot).run(); !r) return r.error();
        auto move = db_.prepare(
            "UPDATE intervals SET start_wall_us = start_boot_us + ?1,"
            " end_wall_us = CASE WHEN end_boot_us IS NULL THEN NULL ELSE end_boot_us + ?1 END"
            " WHERE boot_id = ?2");
        if (!move) return move.error();
        if (auto r = move->bind_all(offset, now.boot).run(); !r) return r.error();
    } else {
        offset = stored;
    }
    find->reset();
    if (auto r = tx->commit(); !r) return r.error();
    boot_id_ = now.boot;
    wall_offset_us_ = offset;
    return {};
}

result<void> ledger::set_state(std::string_view device, std::string_view state, const clock::stamp& now) {
    if (auto r = observe_clock(now); !r) return r.error();
    auto tx = sqlite::transaction::begin(db_);
    if (!tx) return tx.error();
    auto cur = db_.prepare("SELECT state FROM intervals WHERE device = ? AND end_boot_us IS NULL");
    if (!cur) return cur.error();
    cur->bind_all(device);
    auto row = cur->step();
    if (!row) return row.error();
    if (*row && cur->column_text(0) == state) {
        return {};  // unchanged; the transaction rolls back having written nothing
    }
    cur->reset();
    int64_t boot = now.boottime.count();
    int64_t wall = boot + wall_offset_us_;
    auto close = db_.prepare(
        "UPDATE intervals SET end_boot_us = ?1, heartbeat_boot_us = ?1, end_wall_us = ?2,"
        " close_reason = 'change' WHERE device = ?3 AND end_boot_us IS NULL");
    if (!close) return close.error();
    if (auto r = close->bind_all(boot, wall, device).run(); !r) return r.error();
    auto open = db_.prepare(
        "INSERT INTO intervals(device, state, boot_id, start_boot_us, heartbeat_boot_us,"
        " start_wall_us) VALUES (?, ?, ?, ?, ?, ?)");
    if (!open) return open.error();
    if (auto r = open->bind_all(device, state, now.boot, boot, boot, wall).run(); !r) return r.error();
    return tx->commit();
}

result<void> ledger::end(std::string_view device, const clock::stamp& now, std::string_view reason) {
    if (auto r = observe_clock(now); !r) return r.error();
    int64_t boot = now.boottime.count();
    auto close = db_.prepare(
        "UPDATE intervals SET end_boot_us = ?1, heartbeat_boot_us = ?1, end_wall_us = ?2,"
        " close_reason = ?3 WHERE device = ?4 AND end_boot_us IS NULL");
    if (!close) return close.error();
    return close->bind_all(boot, boot + wall_offset_us_, reason, device).run();
}

result<void> ledger::end_all(const clock::stamp& now, std::string_view reason) {
    if (auto r = observe_clock(now); !r) return r.error();
    int64_t boot = now.boottime.count();
    auto close = db_.prepare(
        "UPDATE intervals SET end_boot_us = ?1, heartbeat_boot_us = ?1, end_wall_us = ?2,"
        " close_reason = ?3 WHERE end_boot_us IS NULL");
    if (!close) return close.error();
    return close->bind_all(boot, boot + wall_offset_us_, reason).run();
}

result<void> ledger::heartbeat(const clock::stamp& now) {
    if (auto r = observe_clock(now); !r) return r.error();
    auto beat = db_.prepare("UPDATE intervals SET heartbeat_boot_us = ? WHERE end_boot_us IS NULL");
    if (!beat) return beat.error();
    return beat->bind_all(now.boottime.count()).run();
}

result<std::vector<ledger_interval>> ledger::intervals() {
    auto st = db_.prepare(
        "SELECT id, device, state, boot_id, start_boot_us, end_boot_us, heartbeat_boot_us,"
        " start_wall_us, end_wall_us, coalesce(close_reason, '') FROM intervals ORDER BY id");
    if (!st) return st.error();
    std::vector<ledger_interval> out;
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({st->column_int64(0), st->column_text(1), st->column_text(2), st->column_text(3),
                       st->column_int64(4), st->column_opt_int64(5), st->column_int64(6), st->column_int64(7),
                       st->column_opt_int64(8), st->column_text(9)});
    }
    return out;
}

result<std::vector<usage_row>> ledger::usage_by_day(clock::microseconds from_wall, clock::microseconds to_wall,
                                                    const clock::stamp& now) {
    if (auto r = observe_clock(now); !r) return r.error();
    // Open intervals end now: on this boot's clock if they belong to it.
    auto st = db_.prepare(
        "SELECT device, state, start_wall_us,"
        " coalesce(end_wall_us, start_wall_us + max(0, CASE WHEN boot_id = ?1 THEN ?2 ELSE heartbeat_boot_us END"
        "   - start_boot_us))"
        " FROM intervals WHERE start_wall_us < ?4 AND coalesce(end_wall_us, ?3) > ?5");
    if (!st) return st.error();
    st->bind_all(boot_id_, now.boottime.count(), now.boottime.count() + wall_offset_us_, to_wall.count(),
                 from_wall.count());
    std::map<std::tuple<std::string, std::string, std::string>, int64_t> sums;
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        std::string device = st->column_text(0);
        std::string state = st->column_text(1);
        int64_t begin = std::max(st->column_int64(2), from_wall.count());
        int64_t end = std::min(st->column_int64(3), to_wall.count());
        // Split at local midnights, so each day gets exactly its share.
        while (begin < end) {
            int64_t day_end = clock::next_local_day_start(clock::microseconds(begin)).count();
            int64_t piece_end = std::min(end, day_end);
            sums[{clock::local_day(clock::microseconds(begin)), device, state}] += piece_end - begin;
            begin = piece_end;
        }
    }
    std::vector<usage_row> out;
    out.reserve(sums.size());
    for (const auto& [key, us] : sums) {
        out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), us});
    }
    return out;
}

}  // namespace bbt::agent
