#include "dashboard.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/utf8.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/protocol/county.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <limits>
#include <set>

namespace bbt::county {
namespace {

namespace json = boost::json;
using i18n::language;

constexpr int64_t us_per_s = 1'000'000;
constexpr int64_t us_per_hour = 3600 * us_per_s;

std::string_view tr(language lang, const i18n::msg& m) { return lang == language::zh ? m.zh : m.en; }

// States of the usage ledger that count as use.
constexpr std::string_view used_states_sql = "('in-use', 'on', 'in-class')";

// Local time, `minutes` into the local day `days_back` days before the day
// of `now_us` (the system zone, daylight saving included).
int64_t local_day_at(int64_t now_us, int days_back, int minutes) {
    auto today = clock::local_day_of(clock::microseconds(now_us)).date;
    auto day = std::chrono::year_month_day{std::chrono::sys_days{today} - std::chrono::days{days_back}};
    return clock::local_time_on(day, std::chrono::minutes(minutes)).count();
}

std::tm local_tm(int64_t at_us) {
    std::time_t t = static_cast<std::time_t>(at_us / us_per_s);
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm;
}

std::string local_date(int64_t at_us) { return clock::local_day(clock::microseconds(at_us)); }

std::string local_time(std::optional<int64_t> at_us) {
    if (!at_us) return {};
    auto tm = local_tm(*at_us);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min);
}

using span_list = std::vector<std::pair<int64_t, int64_t>>;

// Sorted, with overlapping and touching spans joined.
span_list merged(span_list spans) {
    std::sort(spans.begin(), spans.end());
    span_list out;
    for (auto [a, b] : spans) {
        if (b <= a) continue;
        if (!out.empty() && a <= out.back().second) {
            out.back().second = std::max(out.back().second, b);
        } else {
            out.emplace_back(a, b);
        }
    }
    return out;
}

int64_t overlap(const span_list& spans, int64_t from, int64_t to) {
    int64_t total = 0;
    for (auto [a, b] : spans) {
        int64_t lo = std::max(a, from), hi = std::min(b, to);
        if (hi > lo) total += hi - lo;
    }
    return total;
}

double round1(double v) { return std::round(v * 10) / 10; }

int severity_rank(std::string_view s) { return s == "critical" ? 0 : s == "warning" ? 1 : 2; }

template <class F>
result<void> each_row(sqlite::database& db, std::string_view sql, F&& row, const auto&... args) {
    auto st = db.prepare(sql);
    if (!st) return st.error();
    st->bind_all(args...);
    for (;;) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        row(*st);
    }
}

}  // namespace

std::string html_escape(std::string_view text) {
    auto s = utf8::repair(text);  // what an older set sent is shown, not passed on broken
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string csv_cell(std::string_view s) {
    std::string v = utf8::repair(s);
    // A cell a spreadsheet would run as a formula is kept as text.
    if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r')) {
        bool number = v.size() > 1 && v[0] == '-' && v.find_first_not_of("0123456789.", 1) == std::string::npos;
        if (!number) v.insert(v.begin(), '\'');
    }
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

result<overview> collect(sqlite::database& db, const dashboard_options& options, int64_t now_us,
                         const std::string& school) {
    overview o;
    o.now_us = now_us;
    o.school_filter = school;
    std::array<int64_t, 8> day_start{};
    for (int i = 0; i < 7; ++i) {
        day_start[static_cast<size_t>(i)] = local_day_at(now_us, 6 - i, 0);
        o.days[static_cast<size_t>(i)] = local_date(day_start[static_cast<size_t>(i)]);
    }
    day_start[7] = local_day_at(now_us, -1, 0);
    const int64_t from = day_start[0];

    // School hours of the last 7 days, up to now.
    span_list school_hours;
    for (int i = 0; i < 7; ++i) {
        int64_t mid = day_start[static_cast<size_t>(i)] + 12 * us_per_hour;
        int wday = local_tm(mid).tm_wday;
        if (wday == 0 || wday == 6) continue;
        int64_t a = local_day_at(now_us, 6 - i, options.school_day_start_min);
        int64_t b = std::min(local_day_at(now_us, 6 - i, options.school_day_end_min), now_us);
        if (b > a) school_hours.emplace_back(a, b);
    }
    int64_t school_total = 0;
    for (auto [a, b] : school_hours)
        school_total += b - a;

    std::map<std::string, span_list> used, powered;
    std::map<std::string, size_t> index;
    auto r = each_row(
        db,
        "SELECT device_id, school, classroom, coalesce(agent_version, ''), last_seen_us, coalesce(health, '{}'), "
        "coalesce(queue_depth, 0) FROM devices WHERE (?1 = '' OR school = ?1) AND retired_us IS NULL "
        "ORDER BY school, classroom, device_id",
        [&](sqlite::statement& st) {
            set_view s;
            s.device_id = st.column_text(0);
            s.school = st.column_text(1);
            s.classroom = st.column_text(2);
            s.agent_version = st.column_text(3);
            s.last_seen_us = st.column_opt_int64(4);
            boost::system::error_code ec;
            auto h = json::parse(st.column_text(5), ec);
            if (!ec && h.is_object()) {
                for (const auto& [k, v] : h.as_object()) {
                    if (v.is_string()) s.health[std::string(k)] = std::string(v.as_string());
                }
            }
            s.queue_depth = st.column_int64(6);
            s.online = s.last_seen_us && *s.last_seen_us >= now_us - options.online_window.count() * us_per_s;
            s.stale = !s.last_seen_us || *s.last_seen_us < now_us - options.stale_days * 24 * us_per_hour;
            index[s.device_id] = o.sets.size();
            o.sets.push_back(std::move(s));
        },
        school);
    if (!r) return r.error();

    r = each_row(
        db,
        fmt::format("SELECT device_id, start_us, end_us FROM usage WHERE end_us > ? AND start_us < ? AND state IN {}",
                    used_states_sql),
        [&](sqlite::statement& st) { used[st.column_text(0)].emplace_back(st.column_int64(1), st.column_int64(2)); },
        from, now_us);
    if (!r) return r.error();
    r = each_row(
        db, "SELECT device_id, boot_us, last_us FROM power WHERE last_us > ?",
        [&](sqlite::statement& st) { powered[st.column_text(0)].emplace_back(st.column_int64(1), st.column_int64(2)); },
        from);
    if (!r) return r.error();
    r = each_row(db, "SELECT device_id, device, lamp, hours, rated_hours FROM lamps ORDER BY device_id, device, lamp",
                 [&](sqlite::statement& st) {
                     auto it = index.find(st.column_text(0));
                     if (it == index.end()) return;
                     lamp_view l{st.column_text(1), st.column_int64(2), st.column_double(3), st.column_double(4)};
                     l.due = l.rated_hours > 0 && l.hours >= l.rated_hours * options.lamp_due_fraction;
                     o.lamps_due += l.due ? 1 : 0;
                     o.sets[it->second].lamps.push_back(std::move(l));
                 });
    if (!r) return r.error();
    r = each_row(
        db,
        "SELECT a.device_id, d.school, d.classroom, a.device, a.code, a.severity, a.message, a.opened_us "
        "FROM alerts a JOIN devices d USING (device_id) WHERE a.cleared_us IS NULL ORDER BY a.opened_us DESC",
        [&](sqlite::statement& st) {
            auto it = index.find(st.column_text(0));
            if (it == index.end()) return;
            o.sets[it->second].open_alerts++;
            o.open_alerts.push_back({st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3),
                                     st.column_text(4), st.column_text(5), st.column_text(6), st.column_int64(7)});
        });
    if (!r) return r.error();
    o.tomorrow = local_date(local_day_at(now_us, -1, 12 * 60));
    r = each_row(
        db, "SELECT device_id, lessons, resources, ready, missing, at_us FROM readiness WHERE day = ?",
        [&](sqlite::statement& st) {
            auto it = index.find(st.column_text(0));
            if (it == index.end()) return;
            readiness_view v{st.column_int64(1), st.column_int64(2), st.column_int64(3), {}, st.column_int64(5)};
            boost::system::error_code ec;
            auto m = json::parse(st.column_text(4), ec);
            if (!ec && m.is_array()) {
                for (const auto& id : m.as_array())
                    if (id.is_string()) v.missing.emplace_back(id.as_string());
            }
            (v.complete() ? o.tomorrow_ready : o.tomorrow_unready) += 1;
            o.sets[it->second].tomorrow = std::move(v);
        },
        o.tomorrow);
    if (!r) return r.error();
    r = each_row(
        db,
        "SELECT u.device_id, d.school, d.classroom, u.filename, u.lesson, u.started_us, u.duration_ms, u.length, "
        "u.offset, u.state, u.mismatches, u.updated_us FROM uploads u JOIN devices d USING (device_id) "
        "WHERE ?1 = '' OR d.school = ?1 ORDER BY u.created_us DESC",
        [&](sqlite::statement& st) {
            recording_view v{st.column_text(0),  st.column_text(1),  st.column_text(2),   st.column_text(3),
                             st.column_text(4),  st.column_int64(5), st.column_int64(6),  st.column_int64(7),
                             st.column_int64(8), st.column_text(9),  st.column_int64(10), st.column_int64(11)};
            if (v.state == "complete" && v.updated_us >= now_us - 7 * 86'400'000'000LL) ++o.recordings_week;
            if (v.state != "complete") ++o.recordings_uploading;
            if (o.recordings.size() < 100) o.recordings.push_back(std::move(v));
        },
        school);
    if (!r) return r.error();
    // Certificates a set has not managed to renew (it renews at two thirds of
    // their life, so one listed here has been offline or refused for long).
    r = each_row(
        db,
        "SELECT device_id, school, classroom, cert_not_after_us FROM devices WHERE (?1 = '' OR school = ?1) AND "
        "retired_us IS NULL AND cert_not_after_us < ?2 ORDER BY cert_not_after_us, device_id",
        [&](sqlite::statement& st) {
            o.certificates_expiring.push_back(
                {st.column_text(0), st.column_text(1), st.column_text(2), st.column_int64(3)});
        },
        school, now_us + int64_t{options.certificate_warning_days} * 24 * us_per_hour);
    if (!r) return r.error();
    // Recorded on a set (as it reported) and not at the county in full.
    r = each_row(
        db,
        "SELECT count(*) FROM set_recordings r JOIN devices d USING (device_id) WHERE (?1 = '' OR d.school = ?1) "
        "AND r.state IN ('recorded', 'interrupted') AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.device_id = "
        "r.device_id AND u.sha256 = r.sha256 AND u.state = 'complete')",
        [&](sqlite::statement& st) { o.recordings_waiting = st.column_int64(0); }, school);
    if (!r) return r.error();
    std::stable_sort(o.open_alerts.begin(), o.open_alerts.end(), [](const alert_view& a, const alert_view& b) {
        return severity_rank(a.severity) < severity_rank(b.severity);
    });

    std::map<std::string, school_view> schools;
    std::map<std::string, std::set<std::string>> classrooms;
    for (auto& s : o.sets) {
        auto u = merged(std::move(used[s.device_id]));
        auto p = powered[s.device_id];
        // A set that reports now is on now, between two heartbeats.
        if (s.online && !p.empty()) {
            auto last = std::max_element(p.begin(), p.end(), [](auto& a, auto& b) { return a.second < b.second; });
            last->second = std::max(last->second, now_us);
        }
        p = merged(std::move(p));
        for (size_t i = 0; i < 7; ++i) {
            s.hours_by_day[i] = round1(static_cast<double>(overlap(u, day_start[i], day_start[i + 1])) / us_per_hour);
        }
        s.week_hours = round1(static_cast<double>(overlap(u, from, day_start[7])) / us_per_hour);
        if (school_total > 0) {
            int64_t up = 0, in_use = 0;
            for (auto [a, b] : school_hours) {
                up += overlap(p, a, b);
                in_use += overlap(u, a, b);
            }
            s.uptime_pct = round1(100.0 * static_cast<double>(up) / static_cast<double>(school_total));
            s.usage_rate_pct = round1(100.0 * static_cast<double>(in_use) / static_cast<double>(school_total));
        }
        o.online += s.online ? 1 : 0;
        o.stale += s.stale ? 1 : 0;
        auto& sv = schools[s.school];
        sv.name = s.school;
        sv.sets++;
        sv.online += s.online ? 1 : 0;
        sv.open_alerts += s.open_alerts;
        sv.usage_rate_pct += s.usage_rate_pct;
        classrooms[s.school].insert(s.classroom);
    }
    for (auto& [name, sv] : schools) {
        sv.classrooms = static_cast<int64_t>(classrooms[name].size());
        sv.usage_rate_pct = round1(sv.usage_rate_pct / static_cast<double>(sv.sets));
        o.schools.push_back(sv);
    }
    return o;
}

json::value to_json(const overview& o) {
    json::array days(o.days.begin(), o.days.end());
    json::array schools, sets, alerts;
    for (const auto& s : o.schools) {
        schools.push_back(json::object{{"school", s.name},
                                       {"classrooms", s.classrooms},
                                       {"sets", s.sets},
                                       {"online", s.online},
                                       {"open_alerts", s.open_alerts},
                                       {"usage_rate_pct", s.usage_rate_pct}});
    }
    for (const auto& s : o.sets) {
        json::object health;
        for (const auto& [k, v] : s.health)
            health[k] = v;
        json::array lamps;
        for (const auto& l : s.lamps) {
            lamps.push_back(json::object{{"device", l.device},
                                         {"index", l.index},
                                         {"hours", l.hours},
                                         {"rated_hours", l.rated_hours},
                                         {"replacement_due", l.due}});
        }
        json::object row{{"device_id", s.device_id},
                         {"school", s.school},
                         {"classroom", s.classroom},
                         {"agent_version", s.agent_version},
                         {"online", s.online},
                         {"not_seen_for_days", s.stale},
                         {"uptime_pct", s.uptime_pct},
                         {"usage_rate_pct", s.usage_rate_pct},
                         {"hours_by_day", json::array(s.hours_by_day.begin(), s.hours_by_day.end())},
                         {"week_hours", s.week_hours},
                         {"open_alerts", s.open_alerts},
                         {"queue_depth", s.queue_depth},
                         {"health", std::move(health)},
                         {"lamps", std::move(lamps)}};
        row["last_seen_us"] = s.last_seen_us ? json::value(*s.last_seen_us) : json::value(nullptr);
        if (s.tomorrow) {
            json::array missing;
            for (const auto& id : s.tomorrow->missing)
                missing.push_back(json::string(id));
            row["courseware_tomorrow"] = json::object{{"lessons", s.tomorrow->lessons},
                                                      {"resources", s.tomorrow->resources},
                                                      {"ready", s.tomorrow->ready},
                                                      {"missing", std::move(missing)},
                                                      {"reported_us", s.tomorrow->at_us}};
        } else {
            row["courseware_tomorrow"] = nullptr;
        }
        sets.push_back(std::move(row));
    }
    for (const auto& a : o.open_alerts) {
        alerts.push_back(json::object{{"device_id", a.device_id},
                                      {"school", a.school},
                                      {"classroom", a.classroom},
                                      {"device", a.device},
                                      {"code", a.code},
                                      {"severity", a.severity},
                                      {"message", a.message},
                                      {"opened_us", a.opened_us}});
    }
    json::array recordings;
    for (const auto& r : o.recordings) {
        recordings.push_back(json::object{{"device_id", r.device_id},
                                          {"school", r.school},
                                          {"classroom", r.classroom},
                                          {"file", r.filename},
                                          {"lesson", r.lesson},
                                          {"started_us", r.started_us},
                                          {"duration_ms", r.duration_ms},
                                          {"bytes", r.length},
                                          {"received_bytes", r.offset},
                                          {"state", r.state},
                                          {"mismatches", r.mismatches}});
    }
    json::array certificates;
    for (const auto& c : o.certificates_expiring) {
        certificates.push_back(json::object{{"device_id", c.device_id},
                                            {"school", c.school},
                                            {"classroom", c.classroom},
                                            {"not_after_us", c.not_after_us},
                                            {"expired", c.not_after_us <= o.now_us}});
    }
    return json::object{{"now_us", o.now_us},
                        {"certificates_expiring", std::move(certificates)},
                        {"recordings", std::move(recordings)},
                        {"recordings_week", o.recordings_week},
                        {"recordings_uploading", o.recordings_uploading},
                        {"recordings_waiting", o.recordings_waiting},
                        {"school", o.school_filter},
                        {"days", std::move(days)},
                        {"online", o.online},
                        {"offline", static_cast<int64_t>(o.sets.size()) - o.online},
                        {"not_seen", o.stale},
                        {"lamps_due", o.lamps_due},
                        {"tomorrow", o.tomorrow},
                        {"tomorrow_ready", o.tomorrow_ready},
                        {"tomorrow_unready", o.tomorrow_unready},
                        {"schools", std::move(schools)},
                        {"sets", std::move(sets)},
                        {"open_alerts", std::move(alerts)}};
}

namespace {

std::string fmt1(double v) { return fmt::format("{:.1f}", v); }

std::string severity_text(language lang, std::string_view s) {
    if (s == "critical") return std::string(tr(lang, {"critical", "严重"}));
    if (s == "warning") return std::string(tr(lang, {"warning", "警告"}));
    return std::string(tr(lang, {"info", "提示"}));
}

// The name of a part of a set, as people in the office call it.
std::string device_text(language lang, std::string_view d) {
    if (auto k = protocol::county::device_kind_from(d))
        return std::string(tr(lang, protocol::county::display_name(*k)));
    if (d == "agent") return std::string(tr(lang, {"agent", "代理程序"}));
    return std::string(d);
}

std::string_view weekday_text(language lang, int wday) {
    static constexpr std::array<i18n::msg, 7> days{{{"Sun", "周日"},
                                                    {"Mon", "周一"},
                                                    {"Tue", "周二"},
                                                    {"Wed", "周三"},
                                                    {"Thu", "周四"},
                                                    {"Fri", "周五"},
                                                    {"Sat", "周六"}}};
    return tr(lang, days[static_cast<size_t>(wday % 7)]);
}

// A query-string-safe form of a school's name for a link.
std::string url_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

constexpr std::string_view style = R"css(
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:0;color:#1d2733;background:#f4f6f8}
header{background:#1f4e79;color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:20px;margin:0}header a{color:#fff}
main{padding:16px 24px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}
.card{background:#fff;border-radius:6px;padding:10px 16px;min-width:120px;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:24px}
section{background:#fff;border-radius:6px;padding:8px 16px 16px;margin-bottom:16px;box-shadow:0 1px 2px #0002}
h2{font-size:16px;margin:8px 0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e3e7eb;padding:4px 6px;text-align:left;white-space:nowrap}
th{background:#eef2f6;vertical-align:bottom}th.n{text-align:right}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.on{color:#1a7f37}.off{color:#b42318}.stale{background:#fff4e5}
.critical{color:#b42318;font-weight:bold}.warning{color:#b54708}
.due{color:#b42318;font-weight:bold}
.bar{display:inline-block;height:8px;background:#2e7d32;vertical-align:middle}
.muted{color:#667}
)css";

}  // namespace

std::string render_login(language lang, const std::string& csrf, const std::string& next, std::string_view problem) {
    auto t = [&](const i18n::msg& m) { return tr(lang, m); };
    std::string h;
    auto out = [&](auto&&... parts) { (h.append(parts), ...); };
    out("<!DOCTYPE html>\n<html lang=\"", lang == language::zh ? "zh-CN" : "en",
        "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>",
        t({"bbt county: sign in", "班班通县级平台：登录"}), "</title><style>", style,
        "form.login{max-width:22em;margin:3em auto;background:#fff;padding:1.5em;border-radius:6px}"
        "form.login label{display:block;margin:.8em 0 .2em}form.login input{width:100%;padding:.4em}"
        "form.login button{margin-top:1.2em;padding:.5em 1.5em}</style></head><body>\n<header><h1>",
        t({"Classroom sets of the county", "全县班班通设备"}), "</h1><span>",
        lang == language::zh ? "<a href=\"/login?lang=en\">English</a>" : "<a href=\"/login?lang=zh-CN\">中文</a>",
        "</span></header>\n<main><form class=\"login\" method=\"post\" action=\"/login?lang=",
        lang == language::zh ? "zh-CN" : "en", "\"><h2>", t({"Sign in", "登录"}), "</h2>");
    if (!problem.empty()) out("<p class=\"critical\" id=\"problem\">", html_escape(problem), "</p>");
    out("<input type=\"hidden\" name=\"csrf\" value=\"", html_escape(csrf),
        "\"><input type=\"hidden\" name=\"next\" value=\"", html_escape(next), "\"><label for=\"name\">",
        t({"Account", "账号"}),
        "</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required autofocus>"
        "<label for=\"password\">",
        t({"Password", "密码"}),
        "</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" "
        "required><button type=\"submit\">",
        t({"Sign in", "登录"}), "</button><p class=\"muted\">",
        t({"Accounts are made by the county's administrator (bbt-county account add).",
           "账号由县级管理员创建（bbt-county account add）。"}),
        "</p></form></main></body></html>\n");
    return h;
}

std::string render_html(const overview& o, const dashboard_options& options, language lang, const page_viewer* viewer) {
    auto t = [&](const i18n::msg& m) { return tr(lang, m); };
    const std::string lang_q = lang == language::zh ? "zh-CN" : "en";
    const std::string school_q = o.school_filter.empty() ? "" : "&amp;school=" + url_encode(o.school_filter);
    std::string h;
    h.reserve(16384 + o.sets.size() * 1024);
    auto out = [&](auto&&... parts) { (h.append(parts), ...); };
    out("<!DOCTYPE html>\n<html lang=\"", lang == language::zh ? "zh-CN" : "en",
        "\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"60\">"
        "<meta name=\"viewport\" content=\"width=device-width\"><title>",
        t({"bbt county: classroom sets", "班班通县级平台：教室设备"}), "</title><style>", style,
        "</style></head><body>\n<header><h1>", t({"Classroom sets of the county", "全县班班通设备"}));
    if (!o.school_filter.empty()) out(" · ", html_escape(o.school_filter));
    out("</h1><span>",
        lang == language::zh ? fmt::format("<a href=\"?lang=en{}\">English</a>", school_q)
                             : fmt::format("<a href=\"?lang=zh-CN{}\">中文</a>", school_q),
        " · <span class=\"muted\" style=\"color:#cfe0f0\">", local_time(o.now_us), "</span>");
    if (viewer) {
        out(" · <span id=\"viewer\">", html_escape(viewer->name),
            "</span> <form method=\"post\" action=\"/logout\" style=\"display:inline\"><input type=\"hidden\" "
            "name=\"csrf\" value=\"",
            html_escape(viewer->csrf), "\"><button type=\"submit\">", t({"Sign out", "退出登录"}), "</button></form>");
    }
    out("</span></header>\n<main>\n");

    // Summary cards.
    int64_t total = static_cast<int64_t>(o.sets.size());
    out("<div class=\"cards\">");
    auto card = [&](std::string_view id, std::string_view label, std::string value) {
        out("<div class=\"card\" id=\"", id, "\"><b>", value, "</b>", label, "</div>");
    };
    card("card-sets", t({"sets", "套设备"}), std::to_string(total));
    card("card-online", t({"online", "在线"}), std::to_string(o.online));
    card("card-offline", t({"offline", "离线"}), std::to_string(total - o.online));
    card("card-not-seen", fmt::format(fmt::runtime(t({"not seen for {} days", "{} 天未上线"})), options.stale_days),
         std::to_string(o.stale));
    card("card-alerts", t({"open alerts", "未处理告警"}), std::to_string(o.open_alerts.size()));
    card("card-lamps", t({"lamps due", "灯泡待更换"}), std::to_string(o.lamps_due));
    card("card-courseware", t({"sets missing courseware for tomorrow", "明日课件未就绪"}),
         std::to_string(o.tomorrow_unready));
    card("card-recordings", t({"lessons recorded this week", "本周课堂录像"}), std::to_string(o.recordings_week));
    card("card-recordings-waiting", t({"recordings not yet at the county", "尚未上传的录像"}),
         std::to_string(o.recordings_waiting));
    out("</div>\n");

    // Schools.
    out("<section id=\"schools\"><h2>", t({"Schools", "学校"}), "</h2><table><thead><tr><th>", t({"school", "学校"}),
        "</th><th class=\"n\">", t({"classrooms", "教室数"}), "</th><th class=\"n\">", t({"sets", "设备套数"}),
        "</th><th class=\"n\">", t({"online", "在线"}), "</th><th class=\"n\">",
        t({"usage rate (7 days)", "使用率（7 天）"}), "</th><th class=\"n\">", t({"open alerts", "未处理告警"}),
        "</th></tr></thead><tbody>");
    for (const auto& s : o.schools) {
        out("<tr><td><a href=\"?lang=", lang_q, "&amp;school=", url_encode(s.name), "\">", html_escape(s.name),
            "</a></td><td class=\"n\">", std::to_string(s.classrooms), "</td><td class=\"n\">", std::to_string(s.sets),
            "</td><td class=\"n\">", std::to_string(s.online), "</td><td class=\"n\">", fmt1(s.usage_rate_pct),
            " %</td><td class=\"n\">", std::to_string(s.open_alerts), "</td></tr>");
    }
    out("</tbody></table></section>\n");

    // Sets.
    out("<section id=\"sets\"><h2>", t({"Classrooms", "教室"}), "</h2><table><thead><tr><th>", t({"school", "学校"}),
        "</th><th>", t({"classroom", "教室"}), "</th><th>", t({"status", "状态"}), "</th><th>",
        t({"last seen", "最后上线"}), "</th><th class=\"n\">", t({"uptime", "开机率"}), "</th><th class=\"n\">",
        t({"usage rate", "使用率"}), "</th>");
    for (size_t i = 0; i < 7; ++i) {
        std::tm day{};
        day.tm_year = std::stoi(o.days[i].substr(0, 4)) - 1900;
        day.tm_mon = std::stoi(o.days[i].substr(5, 2)) - 1;
        day.tm_mday = std::stoi(o.days[i].substr(8, 2));
        day.tm_hour = 12;
        day.tm_isdst = -1;
        std::mktime(&day);
        out("<th class=\"n\">", o.days[i].substr(5), "<br>", weekday_text(lang, day.tm_wday), "</th>");
    }
    out("<th class=\"n\">", t({"week (h)", "本周（小时）"}), "</th><th>", t({"courseware tomorrow", "明日课件"}),
        "</th><th>", t({"lamp hours", "灯泡小时"}), "</th><th class=\"n\">", t({"alerts", "告警"}), "</th><th>",
        t({"agent", "代理版本"}), "</th></tr></thead><tbody>");
    for (const auto& s : o.sets) {
        out("<tr id=\"set-", html_escape(s.device_id), "\"", s.stale ? " class=\"stale\"" : "", "><td>",
            html_escape(s.school), "</td><td>", html_escape(s.classroom), "</td><td class=\"",
            s.online ? "on\">● " : "off\">○ ",
            s.online ? std::string(t({"online", "在线"}))
            : s.stale ? fmt::format(fmt::runtime(t({"not seen for {}+ days", "超过 {} 天未上线"})), options.stale_days)
                      : std::string(t({"offline", "离线"})),
            "</td><td>", s.last_seen_us ? local_time(s.last_seen_us) : std::string(t({"never", "从未"})),
            "</td><td class=\"n\">", fmt1(s.uptime_pct), " %</td><td class=\"n\"><span class=\"bar\" style=\"width:",
            std::to_string(static_cast<int>(std::min(100.0, s.usage_rate_pct) * 0.4)), "px\"></span> ",
            fmt1(s.usage_rate_pct), " %</td>");
        for (double hours : s.hours_by_day)
            out("<td class=\"n\">", fmt1(hours), "</td>");
        out("<td class=\"n\">", fmt1(s.week_hours), "</td>");
        if (!s.tomorrow) {
            out("<td class=\"muted\">", t({"not reported", "未上报"}), "</td><td>");
        } else if (s.tomorrow->resources == 0) {
            out("<td class=\"muted\">", t({"none needed", "无需课件"}), "</td><td>");
        } else {
            std::string missing;
            for (const auto& id : s.tomorrow->missing)
                missing += (missing.empty() ? "" : ", ") + id;
            out("<td class=\"", s.tomorrow->complete() ? "on" : "due", "\" title=\"", html_escape(missing), "\">",
                s.tomorrow->complete() ? "✓ " : "✗ ", std::to_string(s.tomorrow->ready), " / ",
                std::to_string(s.tomorrow->resources), "</td><td>");
        }
        for (const auto& l : s.lamps) {
            out(l.due ? "<span class=\"due\">" : "<span>", fmt::format("{:.0f}", l.hours),
                l.rated_hours > 0 ? fmt::format(" / {:.0f}", l.rated_hours) : "", "</span> ");
        }
        out("</td><td class=\"n\">", std::to_string(s.open_alerts), "</td><td class=\"muted\">",
            html_escape(s.agent_version), "</td></tr>");
    }
    out("</tbody></table></section>\n");

    // Open alerts.
    out("<section id=\"alerts\"><h2>", t({"Open alerts", "未处理告警"}), "</h2>");
    if (o.open_alerts.empty()) {
        out("<p class=\"muted\">", t({"none", "无"}), "</p>");
    } else {
        out("<table><thead><tr><th>", t({"severity", "级别"}), "</th><th>", t({"school", "学校"}), "</th><th>",
            t({"classroom", "教室"}), "</th><th>", t({"device", "设备"}), "</th><th>", t({"alert", "告警"}),
            "</th><th>", t({"since", "开始时间"}), "</th></tr></thead><tbody>");
        for (const auto& a : o.open_alerts) {
            out("<tr><td class=\"", html_escape(a.severity), "\">", severity_text(lang, a.severity), "</td><td>",
                html_escape(a.school), "</td><td>", html_escape(a.classroom), "</td><td>",
                html_escape(device_text(lang, a.device)), "</td><td>", html_escape(a.message),
                " <span class=\"muted\">", html_escape(a.code), "</span></td><td>", local_time(a.opened_us),
                "</td></tr>");
        }
        out("</tbody></table>");
    }
    out("</section>\n");

    // Certificates running out.
    out("<section id=\"certificates\"><h2>",
        fmt::format(fmt::runtime(t({"Certificates expiring within {} days", "{} 天内到期的证书"})),
                    options.certificate_warning_days),
        "</h2>");
    if (o.certificates_expiring.empty()) {
        out("<p class=\"muted\">", t({"none: every set renews its own in time", "无：各设备均已按时自动续期"}), "</p>");
    } else {
        out("<p class=\"muted\">",
            t({"A set renews its certificate by itself two thirds into its life; one listed here has been offline "
               "or refused since. Once expired it re-enrols with a new code and keeps its history.",
               "设备在证书有效期过去三分之二时自动续期；此处列出的设备此后一直离线或被拒绝。证书过期后，用新注册码重新"
               "注册即可，"
               "历史记录保留。"}),
            "</p><table><thead><tr><th>", t({"set", "设备编号"}), "</th><th>", t({"school", "学校"}), "</th><th>",
            t({"classroom", "教室"}), "</th><th>", t({"expires", "到期时间"}), "</th></tr></thead><tbody>");
        for (const auto& c : o.certificates_expiring) {
            out("<tr><td>", html_escape(c.device_id), "</td><td>", html_escape(c.school), "</td><td>",
                html_escape(c.classroom), "</td><td", c.not_after_us <= o.now_us ? " class=\"critical\">" : ">",
                local_time(c.not_after_us),
                c.not_after_us <= o.now_us ? std::string(" · ") + std::string(t({"expired", "已过期"})) : "",
                "</td></tr>");
        }
        out("</tbody></table>");
    }
    out("</section>\n");

    // Lamps due.
    out("<section id=\"lamps\"><h2>", t({"Lamp replacements due", "待更换灯泡"}), "</h2>");
    bool any = false;
    for (const auto& s : o.sets) {
        for (const auto& l : s.lamps) {
            if (!l.due) continue;
            if (!any) {
                out("<table><thead><tr><th>", t({"school", "学校"}), "</th><th>", t({"classroom", "教室"}), "</th><th>",
                    t({"lamp", "灯泡"}), "</th><th>", t({"hours", "小时"}), "</th><th>", t({"rated", "额定寿命"}),
                    "</th></tr></thead><tbody>");
                any = true;
            }
            out("<tr><td>", html_escape(s.school), "</td><td>", html_escape(s.classroom), "</td><td>",
                html_escape(device_text(lang, l.device)), " ", std::to_string(l.index), "</td><td class=\"n due\">",
                fmt::format("{:.0f}", l.hours), "</td><td class=\"n\">", fmt::format("{:.0f}", l.rated_hours),
                "</td></tr>");
        }
    }
    out(any ? "</tbody></table>" : fmt::format("<p class=\"muted\">{}</p>", t({"none", "无"})), "</section>\n");

    // Recorded lessons.
    out("<section id=\"recordings\"><h2>", t({"Recorded lessons", "课堂录像"}), "</h2>");
    if (o.recordings.empty()) {
        out("<p class=\"muted\">", t({"none", "无"}), "</p>");
    } else {
        out("<table><thead><tr><th>", t({"school", "学校"}), "</th><th>", t({"classroom", "教室"}), "</th><th>",
            t({"lesson", "课程"}), "</th><th>", t({"recorded", "录制时间"}), "</th><th>", t({"length", "时长"}),
            "</th><th>", t({"size", "大小"}), "</th><th>", t({"upload", "上传"}), "</th></tr></thead><tbody>");
        for (const auto& r : o.recordings) {
            std::string state;
            if (r.state == "complete") {
                state = std::string(t({"received, checksum matches", "已接收，校验一致"}));
            } else {
                state = fmt::format(
                    fmt::runtime(t({"uploading {:.0f} %", "上传中 {:.0f}%"})),
                    r.length > 0 ? 100.0 * static_cast<double>(r.offset) / static_cast<double>(r.length) : 0.0);
            }
            if (r.mismatches > 0) {
                state += fmt::format(
                    fmt::runtime(t({" (arrived damaged {} times, sent again)", "（{} 次传输损坏，已重传）"})),
                    r.mismatches);
            }
            int64_t secs = r.duration_ms / 1000;
            out("<tr><td>", html_escape(r.school), "</td><td>", html_escape(r.classroom), "</td><td>",
                html_escape(r.lesson.empty() ? r.filename : r.lesson), " <span class=\"muted\">",
                html_escape(r.filename), "</span></td><td>",
                local_time(r.started_us > 0 ? std::optional<int64_t>(r.started_us) : std::nullopt),
                "</td><td class=\"n\">", fmt::format("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60),
                "</td><td class=\"n\">", fmt::format("{:.1f} MB", static_cast<double>(r.length) / 1e6), "</td><td",
                r.state == "complete" ? ">" : " class=\"due\">", html_escape(state), "</td></tr>");
        }
        out("</tbody></table>");
    }
    out("</section>\n");

    // Exports.
    out("<section id=\"exports\"><h2>", t({"Export (CSV)", "导出（CSV）"}), "</h2><p>");
    for (auto name : csv_tables()) {
        out("<a href=\"/export/", name, ".csv?lang=", lang_q, school_q, "\">", name, ".csv</a> ");
    }
    out("</p><p class=\"muted\">",
        fmt::format(
            fmt::runtime(t({"Uptime and usage rate: share of school hours (Monday to Friday, {:02}:{:02} to "
                            "{:02}:{:02}) of the last 7 days with the set on, and in use. JSON: /api/v1/overview",
                            "开机率和使用率：最近 7 天上课时段（周一至周五 {:02}:{:02}–{:02}:{:02}）中设备开机、"
                            "使用的时间占比。JSON 接口：/api/v1/overview"})),
            options.school_day_start_min / 60, options.school_day_start_min % 60, options.school_day_end_min / 60,
            options.school_day_end_min % 60),
        " · bbt-county ", bbt_version(), "</p></section>\n</main></body></html>\n");
    return h;
}

namespace {

constexpr std::array<std::string_view, 12> table_names{"schools",  "sets",      "inventory",  "usage",
                                                       "power",    "alerts",    "lamps",      "events",
                                                       "commands", "readiness", "recordings", "certificates"};

std::string csv_row(const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
        if (i) line += ',';
        line += csv_cell(cells[i]);
    }
    return line + "\r\n";
}

std::string csv_header(language lang, std::initializer_list<i18n::msg> headers) {
    std::vector<std::string> cells;
    for (const auto& m : headers)
        cells.emplace_back(tr(lang, m));
    return csv_row(cells);
}

// One column of an exported query: its header, and whether it holds a time
// in microseconds (written as local time).
struct column {
    i18n::msg header;
    bool time = false;
};

// What a query table's export reads: its columns and its query, where ?1 is
// the school (empty: all).
struct query_table {
    std::string_view name;
    std::vector<column> columns;
    std::string sql;
};

// Rows of sets of the chosen school (or all).
constexpr std::string_view of_school =
    " JOIN devices d USING (device_id) WHERE ?1 = '' OR d.school = ?1 ORDER BY d.school, d.classroom";

const std::vector<query_table>& query_tables() {
    static const std::vector<query_table> tables{
        {"readiness",
         // Each set's last report of each day's courseware, the missing resources by id.
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"day", "日期"}},
          {{"lessons", "课节数"}},
          {{"resources", "课件数"}},
          {{"ready", "已就绪"}},
          {{"missing", "缺少的课件"}},
          {{"reported", "上报时间"}, true}},
         fmt::format("SELECT device_id, d.school, d.classroom, r.day, r.lessons, r.resources, r.ready, "
                     "(SELECT group_concat(value, ' ') FROM json_each(r.missing)), r.at_us FROM readiness r{}, r.day",
                     of_school)},
        {"recordings",
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"file", "文件"}},
          {{"lesson", "课程"}},
          {{"recorded", "录制时间"}, true},
          {{"seconds", "秒"}},
          {{"bytes", "字节"}},
          {{"received bytes", "已接收字节"}},
          {{"state", "状态"}},
          {{"SHA-256", "SHA-256"}}},
         fmt::format("SELECT device_id, d.school, d.classroom, u.filename, u.lesson, u.started_us, "
                     "u.duration_ms / 1000, u.length, u.offset, u.state, u.received_sha256 FROM uploads u{}, "
                     "u.started_us",
                     of_school)},
        {"inventory",
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"kind", "类型"}},
          {{"vendor", "厂商"}},
          {{"model", "型号"}},
          {{"serial", "序列号"}},
          {{"firmware", "固件"}},
          {{"reported", "上报时间"}, true}},
         fmt::format("SELECT device_id, d.school, d.classroom, i.kind, i.vendor, i.model, i.serial, i.firmware, "
                     "d.inventory_at_us FROM inventory i{}, i.position",
                     of_school)},
        {"usage",
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"device", "设备"}},
          {{"state", "状态"}},
          {{"from", "开始"}, true},
          {{"to", "结束"}, true},
          {{"minutes", "分钟"}}},
         fmt::format("SELECT device_id, d.school, d.classroom, u.device, u.state, u.start_us, u.end_us, "
                     "round((u.end_us - u.start_us) / 60e6, 1) FROM usage u{}, u.start_us",
                     of_school)},
        {"power",
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"powered on", "开机"}, true},
          {{"last heartbeat", "最后心跳"}, true},
          {{"hours", "小时"}}},
         fmt::format("SELECT device_id, d.school, d.classroom, p.boot_us, p.last_us, "
                     "round((p.last_us - p.boot_us) / 3600e6, 2) FROM power p{}, p.boot_us",
                     of_school)},
        {"alerts",
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"device", "设备"}},
          {{"code", "代码"}},
          {{"severity", "级别"}},
          {{"message", "内容"}},
          {{"opened", "开始"}, true},
          {{"cleared", "解除"}, true}},
         fmt::format("SELECT device_id, d.school, d.classroom, a.device, a.code, a.severity, a.message, "
                     "a.opened_us, a.cleared_us FROM alerts a{}, a.opened_us",
                     of_school)},
        {"lamps",
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"device", "设备"}},
          {{"lamp", "灯泡"}},
          {{"hours", "小时"}},
          {{"rated hours", "额定寿命"}},
          {{"reported", "上报时间"}, true}},
         fmt::format("SELECT device_id, d.school, d.classroom, l.device, l.lamp, l.hours, l.rated_hours, l.at_us "
                     "FROM lamps l{}, l.device, l.lamp",
                     of_school)},
        {"events",
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"time", "时间"}, true},
          {{"device", "设备"}},
          {{"event", "事件"}},
          {{"detail", "详情"}}},
         "SELECT device_id, d.school, d.classroom, r.at_us, json_extract(r.body, '$.device'), "
         "json_extract(r.body, '$.type'), json_extract(r.body, '$.detail') FROM reports r JOIN devices d "
         "USING (device_id) WHERE r.kind = 'event' AND (?1 = '' OR d.school = ?1) ORDER BY d.school, "
         "d.classroom, r.at_us"},
        {"certificates",
         // Every set's current certificate, renewals and retirement.
         {{{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"enrolled", "注册时间"}, true},
          {{"serial", "证书序列号"}},
          {{"expires", "到期时间"}, true},
          {{"renewals", "续期次数"}},
          {{"last renewed", "最近续期"}, true},
          {{"retired", "停用时间"}, true}},
         "SELECT device_id, school, classroom, enrolled_us, printf('%016X', cert_serial), cert_not_after_us, "
         "renewals, renewed_us, retired_us FROM devices WHERE ?1 = '' OR school = ?1 ORDER BY school, classroom, "
         "device_id"},
        {"commands",
         {{{"command", "命令编号"}},
          {{"set", "设备编号"}},
          {{"school", "学校"}},
          {{"classroom", "教室"}},
          {{"verb", "命令"}},
          {{"arguments", "参数"}},
          {{"expires", "过期时间"}, true},
          {{"delivered", "送达时间"}, true},
          {{"succeeded", "成功"}},
          {{"detail", "详情"}}},
         fmt::format("SELECT c.id, device_id, d.school, d.classroom, c.verb, c.args, c.expires_us, "
                     "c.delivered_us, c.ok, c.detail FROM commands c{}, c.rowid",
                     of_school)},
    };
    return tables;
}

// The schools table, made from the overview.
std::string schools_csv(const overview& o, language lang) {
    std::string out = csv_header(lang, {{"school", "学校"},
                                        {"classrooms", "教室数"},
                                        {"sets", "设备套数"},
                                        {"online", "在线"},
                                        {"usage rate %", "使用率 %"},
                                        {"open alerts", "未处理告警"}});
    for (const auto& s : o.schools) {
        out += csv_row({s.name, std::to_string(s.classrooms), std::to_string(s.sets), std::to_string(s.online),
                        fmt1(s.usage_rate_pct), std::to_string(s.open_alerts)});
    }
    return out;
}

// The sets table, made from the overview: one row per set, its worst lamp.
std::string sets_csv(const overview& o, language lang) {
    std::vector<std::string> header;
    for (const auto& m : std::initializer_list<i18n::msg>{{"set", "设备编号"},
                                                          {"school", "学校"},
                                                          {"classroom", "教室"},
                                                          {"online", "在线"},
                                                          {"last seen", "最后上线"},
                                                          {"uptime %", "开机率 %"},
                                                          {"usage rate %", "使用率 %"}}) {
        header.emplace_back(tr(lang, m));
    }
    for (const auto& d : o.days)
        header.push_back(fmt::format(fmt::runtime(tr(lang, {"hours {}", "{} 小时"})), d));
    for (const auto& m : std::initializer_list<i18n::msg>{{"week hours", "本周小时"},
                                                          {"open alerts", "未处理告警"},
                                                          {"lamp hours", "灯泡小时"},
                                                          {"lamp rated hours", "灯泡额定寿命"},
                                                          {"lamp due", "灯泡待更换"},
                                                          {"agent version", "代理版本"}}) {
        header.emplace_back(tr(lang, m));
    }
    std::string out = csv_row(header);
    auto yes_no = [&](bool b) { return std::string(b ? tr(lang, {"yes", "是"}) : tr(lang, {"no", "否"})); };
    for (const auto& s : o.sets) {
        std::vector<std::string> row{s.device_id,
                                     s.school,
                                     s.classroom,
                                     yes_no(s.online),
                                     local_time(s.last_seen_us),
                                     fmt1(s.uptime_pct),
                                     fmt1(s.usage_rate_pct)};
        for (double hours : s.hours_by_day)
            row.push_back(fmt1(hours));
        const lamp_view* worst = nullptr;
        for (const auto& l : s.lamps) {
            if (!worst || l.hours > worst->hours) worst = &l;
        }
        row.insert(
            row.end(),
            {fmt1(s.week_hours), std::to_string(s.open_alerts), worst ? fmt::format("{:.0f}", worst->hours) : "",
             worst ? fmt::format("{:.0f}", worst->rated_hours) : "", worst ? yes_no(worst->due) : "", s.agent_version});
        out += csv_row(row);
    }
    return out;
}

}  // namespace

std::span<const std::string_view> csv_tables() noexcept { return table_names; }

bool csv_needs_overview(std::string_view table) noexcept { return table == "schools" || table == "sets"; }

result<std::optional<csv_export>> csv_export::open(sqlite::database& db, const overview& o, std::string_view table,
                                                   language lang) {
    csv_export e;
    e.pending_ = "\xEF\xBB\xBF";
    if (table == "schools") {
        e.pending_ += schools_csv(o, lang);
        return std::optional<csv_export>(std::move(e));
    }
    if (table == "sets") {
        e.pending_ += sets_csv(o, lang);
        return std::optional<csv_export>(std::move(e));
    }
    const auto& tables = query_tables();
    auto it = std::find_if(tables.begin(), tables.end(), [&](const query_table& t) { return t.name == table; });
    if (it == tables.end()) return std::optional<csv_export>();
    std::vector<std::string> header;
    for (const auto& c : it->columns) {
        header.emplace_back(tr(lang, c.header));
        e.is_time_.push_back(c.time);
    }
    e.pending_ += csv_row(header);
    auto st = db.prepare(it->sql);
    if (!st) return st.error();
    st->bind_all(o.school_filter);
    e.rows_ = std::move(*st);
    return std::optional<csv_export>(std::move(e));
}

result<bool> csv_export::next(std::string& out, size_t bytes) {
    out += pending_;
    pending_.clear();
    std::vector<std::string> cells;
    while (rows_ && out.size() < bytes) {
        auto r = rows_->step();
        if (!r) {
            rows_.reset();
            return r.error();
        }
        if (!*r) {
            rows_.reset();  // the read ends here, and with it its snapshot
            break;
        }
        cells.clear();
        for (size_t i = 0; i < is_time_.size(); ++i) {
            int c = static_cast<int>(i);
            if (rows_->column_is_null(c)) {
                cells.emplace_back();
            } else if (is_time_[i]) {
                cells.push_back(local_time(rows_->column_int64(c)));
            } else {
                cells.push_back(rows_->column_text(c));
            }
        }
        out += csv_row(cells);
    }
    return rows_.has_value();
}

result<std::optional<std::string>> export_csv(sqlite::database& db, const overview& o, std::string_view table,
                                              language lang) {
    auto e = csv_export::open(db, o, table, lang);
    if (!e) return e.error();
    if (!*e) return std::optional<std::string>();
    std::string out;
    for (;;) {
        auto more = (*e)->next(out, std::numeric_limits<size_t>::max());
        if (!more) return more.error();
        if (!*more) return std::optional<std::string>(std::move(out));
    }
}

}  // namespace bbt::county
