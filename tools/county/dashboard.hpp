// What the county asset office sees: every school, classroom and set; online
// or offline and last seen; uptime and the 班班通 usage rate over school
// hours; hours used per day and week; lamp hours and replacements due; open
// alerts; sets not seen for N days. Read from the store's tables, shown as an
// HTML page (zh-CN or English), as JSON, and as CSV exports of every table.
//
// Definitions (the man page repeats them for the asset office):
// - online: a report arrived within `online_window`;
// - uptime %: the share of school hours (Monday to Friday, between
//   `school_day_start` and `school_day_end`, local time) of the last 7 days
//   during which the set was powered on, from its heartbeats;
// - usage rate %: the same share during which a device was in use (the
//   whiteboard touched, the projector on, a class running);
// - hours used: in-use time per local calendar day, all devices of a set
//   merged, so that two devices in use together count once;
// - courseware for tomorrow: of the resources tomorrow's lessons name, how
//   many the set holds verified and playable, as it last reported;
// - recorded lessons: uploads of the sets, "received" once the county has
//   every byte and its SHA-256 matches what the set said.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/sqlite.hpp"

#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::county {

struct dashboard_options {
    std::chrono::seconds online_window{300};
    int stale_days = 3;                 // "not seen for N days"
    int school_day_start_min = 8 * 60;  // minutes after local midnight
    int school_day_end_min = 17 * 60;
    double lamp_due_fraction = 0.9;  // of rated life
    int certificate_warning_days = 60;
};

// A set whose certificate runs out within certificate_warning_days.
struct certificate_view {
    std::string device_id;
    std::string school;
    std::string classroom;
    int64_t not_after_us = 0;
};

// One lamp of a set's projector.
struct lamp_view {
    std::string device;
    int64_t index = 1;
    double hours = 0;
    double rated_hours = 0;  // 0: not known
    bool due = false;        // at or past lamp_due_fraction of its rated life
};

// Whether a set has the courseware of a day's lessons, as it last reported.
struct readiness_view {
    int64_t lessons = 0;
    int64_t resources = 0;
    int64_t ready = 0;
    std::vector<std::string> missing;
    int64_t at_us = 0;
    [[nodiscard]] bool complete() const { return ready == resources; }
};

// One classroom set (one enrolment).
struct set_view {
    std::string device_id;
    std::string school;
    std::string classroom;
    std::string agent_version;
    std::optional<int64_t> last_seen_us;
    bool online = false;
    bool stale = false;  // not seen for stale_days (or never)
    double uptime_pct = 0;
    double usage_rate_pct = 0;
    std::array<double, 7> hours_by_day{};  // [6] is today
    double week_hours = 0;
    int64_t open_alerts = 0;
    int64_t queue_depth = 0;
    std::map<std::string, std::string> health;
    std::vector<lamp_view> lamps;
    std::optional<readiness_view> tomorrow;  // nothing reported for tomorrow yet: nullopt
};

struct school_view {
    std::string name;
    int64_t classrooms = 0;
    int64_t sets = 0;
    int64_t online = 0;
    int64_t open_alerts = 0;
    double usage_rate_pct = 0;  // mean over its sets
};

struct alert_view {
    std::string device_id;
    std::string school;
    std::string classroom;
    std::string device;
    std::string code;
    std::string severity;
    std::string message;
    int64_t opened_us = 0;
};

// A lesson recording a set uploads, and how far it has come.
struct recording_view {
    std::string device_id;
    std::string school;
    std::string classroom;
    std::string filename;
    std::string lesson;
    int64_t started_us = 0;
    int64_t duration_ms = 0;
    int64_t length = 0;
    int64_t offset = 0;
    std::string state;       // uploading, complete
    int64_t mismatches = 0;  // times it arrived damaged and started over
    int64_t updated_us = 0;
};

struct overview {
    int64_t now_us = 0;
    std::string school_filter;        // empty: every school
    std::array<std::string, 7> days;  // YYYY-MM-DD, local; [6] is today
    std::vector<school_view> schools;
    std::vector<set_view> sets;
    std::vector<alert_view> open_alerts;
    int64_t online = 0;
    int64_t stale = 0;
    int64_t lamps_due = 0;
    std::string tomorrow;                    // YYYY-MM-DD, local
    int64_t tomorrow_ready = 0;              // sets with all of tomorrow's courseware
    int64_t tomorrow_unready = 0;            // sets that reported something missing
    std::vector<recording_view> recordings;  // the newest first, at most 100
    int64_t recordings_week = 0;             // received in full over the last 7 days
    int64_t recordings_uploading = 0;
    int64_t recordings_waiting = 0;                       // recorded on a set, not yet at the county in full
    std::vector<certificate_view> certificates_expiring;  // the first to expire first
};

// Reads the picture at `now_us` (local time of the process decides the days),
// of one school or of all.
[[nodiscard]] result<overview> collect(sqlite::database& db, const dashboard_options& options, int64_t now_us,
                                       const std::string& school = {});

[[nodiscard]] boost::json::value to_json(const overview& o);
// Who is looking at a page: named in its header, with the sign-out form.
struct page_viewer {
    std::string name;
    std::string csrf;
};
[[nodiscard]] std::string render_html(const overview& o, const dashboard_options& options, i18n::language lang,
                                      const page_viewer* viewer = nullptr);
// The sign-in page: its form carries `csrf` (also in a cookie) and where to
// go after (`next`, a path of this dashboard); `problem` a message, or empty.
[[nodiscard]] std::string render_login(i18n::language lang, const std::string& csrf, const std::string& next,
                                       std::string_view problem);

// The tables the dashboard exports as CSV, by the name in /export/NAME.csv.
[[nodiscard]] std::span<const std::string_view> csv_tables() noexcept;
// Whether a table's export is made from the overview (collect() it first);
// the others are read from the database, of o.school_filter's sets.
[[nodiscard]] bool csv_needs_overview(std::string_view table) noexcept;

// A table as CSV (UTF-8 with a byte-order mark, so spreadsheets read the
// Chinese right), with headers in `lang`, given a piece at a time: a table of
// any size is sent while its query reads it, never held whole.
class csv_export {
public:
    // nullopt for a name not in csv_tables(). `db` must outlive the export.
    [[nodiscard]] static result<std::optional<csv_export>> open(sqlite::database& db, const overview& o,
                                                                std::string_view table, i18n::language lang);
    // Appends rows to `out` until it holds at least `bytes` or the table has
    // no more; whether rows remain. A database error ends the export.
    [[nodiscard]] result<bool> next(std::string& out, size_t bytes);

private:
    csv_export() = default;
    std::string pending_;  // the byte-order mark, the header, rows made from the overview
    std::optional<sqlite::statement> rows_;
    std::vector<bool> is_time_;
};

// A whole table as one string (csv_export read to its end).
[[nodiscard]] result<std::optional<std::string>> export_csv(sqlite::database& db, const overview& o,
                                                            std::string_view table, i18n::language lang);

// Where one string is put in an HTML text or attribute, or in a CSV cell.
[[nodiscard]] std::string html_escape(std::string_view s);
[[nodiscard]] std::string csv_cell(std::string_view s);

}  // namespace bbt::county
