#include "bbt/protocol/timetable.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/utf8.hpp"

#include <libical/ical.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

namespace bbt::protocol {
namespace {

// Occurrences of one event, and weeks looked at, at most: a term is some 20
// weeks; a rule that would run on past this is cut, with a warning.
constexpr int max_occurrences = 1000;
constexpr int64_t max_days = 3 * 366;

struct component_deleter {
    void operator()(icalcomponent* c) const noexcept { icalcomponent_free(c); }
};

error malformed(std::string_view what) {
    return error(base_errc::config_value,
                 i18n::format({"the timetable is not valid iCalendar: {}", "课表不是有效的 iCalendar：{}"}, what));
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t days_from_civil(int y, unsigned m, unsigned d) {
    auto date = std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d};
    return std::chrono::sys_days{date}.time_since_epoch().count();
}

bool valid(const icaltimetype& t) {
    return !icaltime_is_null_time(t) && t.year >= 1970 && t.year <= 2200 && t.month >= 1 && t.month <= 12 &&
           t.day >= 1 && t.day <= 31 && t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 && t.second >= 0 &&
           t.second <= 60;
}

// Seconds since the epoch: UTC when the time says so, else local time.
int64_t epoch_of(const icaltimetype& t, int64_t offset_s) {
    int64_t s = days_from_civil(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day)) * 86400;
    if (!t.is_date) s += t.hour * 3600 + t.minute * 60 + t.second;
    return icaltime_is_utc(t) ? s : s - offset_s;
}

// A property's text, valid UTF-8 whatever the file held (RFC 5545 says UTF-8;
// files exported by older school software are not always).
std::string text_of(const char* s) { return s ? utf8::repair(s) : std::string(); }

struct event {
    std::string uid;
    std::string summary, location;
    int64_t start = 0, length = 0;
    std::vector<std::string> resources;
    bool record = false;
    bool cancelled = false;
    std::optional<icalrecurrencetype> rule;
    std::set<int64_t> exdates;
    std::optional<int64_t> recurrence_id;  // an override of one occurrence
};

std::vector<std::string> split_ids(std::string_view v) {
    std::vector<std::string> out;
    while (!v.empty()) {
        auto comma = v.find(',');
        auto id = v.substr(0, comma);
        while (!id.empty() && id.front() == ' ')
            id.remove_prefix(1);
        while (!id.empty() && id.back() == ' ')
            id.remove_suffix(1);
        if (!id.empty()) out.emplace_back(id);
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return out;
}

std::optional<event> read_event(icalcomponent* c, int64_t offset_s, std::vector<std::string>& warnings) {
    event e;
    e.uid = text_of(icalcomponent_get_uid(c));
    e.summary = text_of(icalcomponent_get_summary(c));
    e.location = text_of(icalcomponent_get_location(c));
    icalproperty* ds = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
    if (ds == nullptr || !valid(icalproperty_get_dtstart(ds))) {
        warnings.push_back(fmt::format("event \"{}\" ({}): no valid DTSTART; left out", e.summary, e.uid));
        return std::nullopt;
    }
    auto start = icalproperty_get_dtstart(ds);
    e.start = epoch_of(start, offset_s);
    if (icalproperty* de = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY);
        de != nullptr && valid(icalproperty_get_dtend(de))) {
        e.length = epoch_of(icalproperty_get_dtend(de), offset_s) - e.start;
    } else if (icalproperty* du = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY); du != nullptr) {
        e.length = icaldurationtype_as_int(icalproperty_get_duration(du));
    } else if (start.is_date) {
        e.length = 86400;
    }
    if (e.length < 0 || e.length > 86400) {
        warnings.push_back(fmt::format("event \"{}\" ({}): it lasts {} s; left out", e.summary, e.uid, e.length));
        return std::nullopt;
    }
    if (icalproperty* st = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
        st != nullptr && icalproperty_get_status(st) == ICAL_STATUS_CANCELLED) {
        e.cancelled = true;
    }
    if (icalproperty* rid = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
        rid != nullptr && valid(icalproperty_get_recurrenceid(rid))) {
        e.recurrence_id = epoch_of(icalproperty_get_recurrenceid(rid), offset_s);
    }
    if (icalproperty* rr = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY); rr != nullptr) {
        e.rule = icalproperty_get_rrule(rr);
    }
    for (icalproperty* x = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY); x != nullptr;
         x = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY)) {
        if (valid(icalproperty_get_exdate(x))) e.exdates.insert(epoch_of(icalproperty_get_exdate(x), offset_s));
    }
    for (icalproperty* a = icalcomponent_get_first_property(c, ICAL_ATTACH_PROPERTY); a != nullptr;
         a = icalcomponent_get_next_property(c, ICAL_ATTACH_PROPERTY)) {
        icalattach* at = icalproperty_get_attach(a);
        if (at != nullptr && icalattach_get_is_url(at) && icalattach_get_url(at) != nullptr) {
            e.resources.emplace_back(icalattach_get_url(at));
        }
    }
    for (icalproperty* x = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); x != nullptr;
         x = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
        std::string name = text_of(icalproperty_get_x_name(x));
        std::string value = text_of(icalproperty_get_x(x));
        if (name == "X-BBT-RESOURCE") {
            for (auto& id : split_ids(value))
                e.resources.push_back(std::move(id));
        } else if (name == "X-BBT-RECORD") {
            e.record = value == "TRUE" || value == "true" || value == "1";
        }
    }
    return e;
}

// The starts of an event's occurrences up to `to`.
std::vector<int64_t> occurrences(const event& e, int64_t to, int64_t offset_s, std::vector<std::string>& warnings) {
    if (!e.rule) return {e.start};
    const auto& r = *e.rule;
    if (r.freq != ICAL_WEEKLY_RECURRENCE && r.freq != ICAL_DAILY_RECURRENCE) {
        warnings.push_back(
            fmt::format("event \"{}\" ({}): only daily and weekly recurrence is read; its first "
                        "occurrence alone is kept",
                        e.summary, e.uid));
        return {e.start};
    }
    int64_t interval = std::max<int64_t>(1, r.interval);
    int64_t until = to;
    if (valid(r.until)) until = std::min(until, epoch_of(r.until, offset_s) + (r.until.is_date ? 86400 - 1 : 0));
    int64_t local = e.start + offset_s;
    int64_t first_day = (local >= 0 ? local : local - 86399) / 86400;
    int64_t time_of_day = local - first_day * 86400;
    // Weekdays, 0 = Monday: BYDAY, else the weekday of DTSTART.
    std::vector<int> weekdays;
    if (r.freq == ICAL_WEEKLY_RECURRENCE) {
        for (int i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
            int dow = static_cast<int>(icalrecurrencetype_day_day_of_week(r.by_day[i]));  // 1 Sunday .. 7 Saturday
            if (dow >= 1 && dow <= 7) weekdays.push_back((dow + 5) % 7);
        }
        std::sort(weekdays.begin(), weekdays.end());
        weekdays.erase(std::unique(weekdays.begin(), weekdays.end()), weekdays.end());
        if (weekdays.empty()) weekdays.push_back(static_cast<int>((first_day + 3) % 7 + 7) % 7);
    }
    std::vector<int64_t> out;
    int counted = 0;
    auto add = [&](int64_t day) {
        int64_t s = day * 86400 + time_of_day - offset_s;
        if (s < e.start) return true;
        if (s > until) return false;
        ++counted;
        if (r.count > 0 && counted > r.count) return false;
        out.push_back(s);
        return static_cast<int>(out.size()) < max_occurrences;
    };
    if (r.freq == ICAL_DAILY_RECURRENCE) {
        for (int64_t d = first_day; d - first_day <= max_days; d += interval) {
            if (!add(d)) return out;
        }
    } else {
        int64_t monday = first_day - ((first_day + 3) % 7 + 7) % 7;
        for (int64_t w = monday; w - first_day <= max_days; w += 7 * interval) {
            for (int wd : weekdays) {
                if (!add(w + wd)) return out;
            }
        }
    }
    if (!out.empty() && static_cast<int>(out.size()) >= max_occurrences) {
        warnings.push_back(
            fmt::format("event \"{}\" ({}): more than {} occurrences; cut", e.summary, e.uid, max_occurrences));
    }
    return out;
}

}  // namespace

result<timetable> parse_timetable(std::string_view ics, int64_t from, int64_t to, int utc_offset_minutes) {
    if (ics.size() > max_timetable_bytes) {
        return malformed(
            i18n::format({"{} bytes, more than the {} a timetable may have", "{} 字节，超过课表上限 {} 字节"},
                         ics.size(), max_timetable_bytes));
    }
    if (ics.find('\0') != std::string_view::npos)
        return malformed(i18n::text({"it contains NUL bytes", "含有 NUL 字节"}));
    if (utc_offset_minutes < -14 * 60 || utc_offset_minutes > 14 * 60) {
        return malformed(i18n::text({"the UTC offset is out of range", "UTC 偏移超出范围"}));
    }
    icalerror_set_errors_are_fatal(0);
    std::string text(ics);
    std::unique_ptr<icalcomponent, component_deleter> root(icalparser_parse_string(text.c_str()));
    if (!root || icalcomponent_isa(root.get()) != ICAL_VCALENDAR_COMPONENT) {
        return malformed(i18n::text({"no VCALENDAR", "没有 VCALENDAR"}));
    }
    const int64_t offset_s = int64_t{utc_offset_minutes} * 60;
    timetable t;
    std::vector<event> events;
    for (icalcomponent* c = icalcomponent_get_first_component(root.get(), ICAL_VEVENT_COMPONENT); c != nullptr;
         c = icalcomponent_get_next_component(root.get(), ICAL_VEVENT_COMPONENT)) {
        if (auto e = read_event(c, offset_s, t.warnings)) events.push_back(std::move(*e));
    }
    // Overrides of single occurrences (moved or cancelled), by UID and original start.
    std::map<std::pair<std::string, int64_t>, const event*> overrides;
    for (const auto& e : events) {
        if (e.recurrence_id) overrides[{e.uid, *e.recurrence_id}] = &e;
    }
    auto emit = [&](const event& e, int64_t start) {
        if (e.cancelled || start < from || start >= to) return;
        t.lessons.push_back({e.uid, e.summary, e.location, start, start + e.length, e.resources, e.record});
    };
    for (const auto& e : events) {
        if (e.recurrence_id) continue;
        for (int64_t s : occurrences(e, to, offset_s, t.warnings)) {
            if (e.exdates.count(s) != 0) continue;
            if (auto o = overrides.find({e.uid, s}); o != overrides.end()) {
                emit(*o->second, o->second->start);
                continue;
            }
            emit(e, s);
        }
    }
    std::sort(t.lessons.begin(), t.lessons.end(),
              [](const lesson& a, const lesson& b) { return std::tie(a.start, a.uid) < std::tie(b.start, b.uid); });
    return t;
}

}  // namespace bbt::protocol
