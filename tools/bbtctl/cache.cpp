#include "cache.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace bbtctl {
namespace {

namespace i18n = bbt::i18n;
namespace json = boost::json;

std::string bytes_text(double b) {
    if (b >= 1e9) return fmt::format("{:.1f} GB", b / 1e9);
    if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
    if (b >= 1e3) return fmt::format("{:.0f} KB", b / 1e3);
    return fmt::format("{:.0f} B", b);
}

std::string when_text(double us) {
    if (us <= 0) return std::string(i18n::text({"never", "从未"}));
    return bbt::clock::format_local(bbt::clock::microseconds(static_cast<int64_t>(us)));
}

// A resource's state, for people.
std::string state_text(const json::object& r) {
    auto s = str(r, "state");
    if (s == "ready") return std::string(i18n::text({"ready", "已就绪"}));
    if (s == "unplayable") return std::string(i18n::text({"cannot be played", "无法播放"}));
    if (s == "downloading" || s == "queued" || s == "failed") {
        double size = num(r, "size"), got = num(r, "fetched");
        std::string pct = size > 0 ? fmt::format(" {:.0f}%", 100.0 * got / size) : "";
        if (s == "downloading") return i18n::format({"downloading{}", "下载中{}"}, pct);
        if (s == "queued") return std::string(i18n::text({"queued", "排队中"}));
        return i18n::format({"failed: {}", "失败：{}"}, str(r, "error"));
    }
    if (s == "waiting") return std::string(i18n::text({"to be fetched", "待下载"}));
    return std::string(i18n::text({"not in the county's catalogue", "不在县级平台目录中"}));
}

std::string clock_text(double t, double offset_minutes) {
    auto local = static_cast<int64_t>(t + offset_minutes * 60);
    int64_t s = ((local % 86400) + 86400) % 86400;
    return fmt::format("{:02}:{:02}", s / 3600, s / 60 % 60);
}

void print_status(const json::object& o) {
    fmt::print("{}\n", i18n::format({"courseware cache: {}", "课件缓存：{}"}, str(o, "dir")));
    std::string free_text = num(o, "free_bytes") >= 0 ? bytes_text(num(o, "free_bytes")) : "?";
    fmt::print("  {:<12} {}\n", i18n::text({"used:", "已用："}),
               i18n::format({"{} of {} (the disk has {} free)", "{} / {}（磁盘剩余 {}）"},
                            bytes_text(num(o, "used_bytes")), bytes_text(num(o, "quota_bytes")), free_text));
    fmt::print("  {:<12} {}\n", i18n::text({"items:", "条目："}),
               i18n::format({"{} ({} pinned for coming lessons, {} cannot be played)",
                             "{}（{} 项为即将上课锁定，{} 项无法播放）"},
                            num(o, "items"), num(o, "pinned"), num(o, "unplayable")));
    for (auto [key, label] : {std::pair{"catalogue", i18n::msg{"catalogue:", "课件目录："}},
                              std::pair{"timetable", i18n::msg{"timetable:", "课表："}}}) {
        const auto* d = o.if_contains(key);
        if (!d || !d->is_object()) continue;
        const auto& dd = d->as_object();
        std::string line = !flag(dd, "kept")
                               ? std::string(i18n::text({"none yet", "尚无"}))
                               : i18n::format({"last confirmed with the county {}", "最近与县级平台确认：{}"},
                                              when_text(num(dd, "fetched_us")));
        if (std::string_view(key) == "catalogue" && flag(dd, "kept")) {
            line = i18n::format({"{} resources, {}", "{} 项资源，{}"}, num(o, "catalogue_resources"), line);
        }
        if (!str(dd, "error").empty()) {
            line += i18n::format({" (now: {}; the kept copy is used)", "（当前：{}；使用本机保存的副本）"},
                                 str(dd, "error"));
        }
        fmt::print("  {:<12} {}\n", i18n::text(label), line);
    }
    double limit = num(o, "limit_bytes_per_s");
    std::string speed =
        limit > 0 ? fmt::format("{:.1f} Mbit/s", limit * 8 / 1e6) : std::string(i18n::text({"no limit", "不限速"}));
    fmt::print("  {:<12} {}\n", i18n::text({"bandwidth:", "带宽："}),
               flag(o, "in_class") ? i18n::format({"{} (a lesson is on)", "{}（正在上课）"}, speed) : speed);
    const auto* jobs = o.if_contains("downloads");
    if (jobs && jobs->is_array() && !jobs->as_array().empty()) {
        fmt::print("  {}\n", i18n::text({"downloads:", "下载："}));
        for (const auto& j : jobs->as_array()) {
            if (!j.is_object()) continue;
            fmt::print("    {:<20} {}  {}\n", str(j.as_object(), "id"), state_text(j.as_object()),
                       str(j.as_object(), "title"));
        }
    }
}

void print_list(const json::object& o) {
    const auto* items = o.if_contains("items");
    if (!items || !items->is_array() || items->as_array().empty()) {
        fmt::print("{}\n", i18n::text({"the cache holds no courseware", "缓存中没有课件"}));
        return;
    }
    fmt::print("{:<20} {:<9} {:>9} {:>9} {:<7} {}\n", i18n::text({"id", "编号"}), i18n::text({"type", "类型"}),
               i18n::text({"size", "大小"}), i18n::text({"length", "时长"}), i18n::text({"pinned", "锁定"}),
               i18n::text({"title", "标题"}));
    int64_t now = bbt::clock::wall_now().count();
    for (const auto& v : items->as_array()) {
        if (!v.is_object()) continue;
        const auto& it = v.as_object();
        std::string length = "-";
        if (const auto* p = it.if_contains("probe"); p && p->is_object()) {
            double d = num(p->as_object(), "duration_s");
            if (d > 0) length = fmt::format("{}:{:02}", static_cast<int64_t>(d) / 60, static_cast<int64_t>(d) % 60);
        }
        std::string title = str(it, "title");
        if (num(it, "playable") == 0) title += i18n::text({"  (cannot be played)", "  （无法播放）"});
        fmt::print("{:<20} {:<9} {:>9} {:>9} {:<7} {}\n", str(it, "id"), str(it, "type"), bytes_text(num(it, "size")),
                   length,
                   num(it, "pinned_until_us") > static_cast<double>(now) ? i18n::text({"yes", "是"})
                                                                         : i18n::text({"no", "否"}),
                   title);
    }
}

void print_timetable(const json::object& o) {
    double offset = num(o, "utc_offset_minutes");
    fmt::print("{}\n", i18n::format({"lessons of {}:", "{} 的课程："}, str(o, "date")));
    if (!flag(o, "kept")) {
        fmt::print("  {}\n", i18n::text({"no timetable yet: the county has not sent one (bbtctl cache status tells "
                                         "why)",
                                         "尚无课表：县级平台还未下发（bbtctl cache status 可查看原因）"}));
        return;
    }
    const auto* lessons = o.if_contains("lessons");
    if (!lessons || !lessons->is_array() || lessons->as_array().empty()) {
        fmt::print("  {}\n", i18n::text({"no lessons", "无课程"}));
        return;
    }
    for (const auto& v : lessons->as_array()) {
        if (!v.is_object()) continue;
        const auto& l = v.as_object();
        const auto* res = l.if_contains("resources");
        bool none = !res || !res->is_array() || res->as_array().empty();
        std::string ready = none ? std::string(i18n::text({"no courseware", "无课件"}))
                                 : std::string(flag(l, "ready") ? i18n::text({"courseware ready", "课件已就绪"})
                                                                : i18n::text({"courseware NOT ready", "课件未就绪"}));
        fmt::print("  {}-{}  {:<24} {}{}\n", clock_text(num(l, "start"), offset), clock_text(num(l, "end"), offset),
                   str(l, "summary"), ready, flag(l, "record") ? i18n::text({", recorded", "，录制"}) : "");
        if (none) continue;
        for (const auto& r : res->as_array()) {
            if (!r.is_object()) continue;
            fmt::print("      {:<20} {:<24} {}\n", str(r.as_object(), "id"), str(r.as_object(), "title"),
                       state_text(r.as_object()));
        }
    }
}

int usage_error() {
    fmt::print(
        stderr, "bbtctl: {}\n",
        i18n::text({"usage: bbtctl cache status | ls | get ID [--no-wait] | pin ID [--hours N] | evict ID "
                    "[--force] | verify | refresh",
                    "用法：bbtctl cache status | ls | get 编号 [--no-wait] | pin 编号 [--hours 小时] | evict 编号 "
                    "[--force] | verify | refresh"}));
    return exit_usage;
}

bool has(const options& opt, std::string_view flag_name) {
    for (auto a : opt.args)
        if (a == flag_name) return true;
    return false;
}

// `bbtctl cache get ID`: asks for the file and, unless --no-wait, waits while
// it downloads, showing progress on a terminal.
int get(const options& opt, std::string id) {
    bool wait = !has(opt, "--no-wait");
    bool tty = ::isatty(STDERR_FILENO) != 0;
    for (;;) {
        auto r = request(opt, "cache.get", {{"id", id}}, opt.timeout);
        if (!r) return report(r.error(), opt);
        auto state = str(*r, "state");
        if (state == "ready" || !wait || state == "failed") {
            if (tty) fmt::print(stderr, "\r\033[K");
            if (opt.json) {
                fmt::print("{}\n", json::serialize(*r));
            } else if (state == "ready") {
                fmt::print("{}\n", str(*r, "path"));
            } else {
                fmt::print("{}: {}\n", id, state_text(*r));
            }
            return state == "failed" ? exit_failed : exit_ok;
        }
        if (tty) fmt::print(stderr, "\r\033[K{}: {}", id, state_text(*r));
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
}

}  // namespace

int run_cache(const options& opt) {
    std::string_view cmd = opt.args.size() > 1 ? opt.args[1] : "status";
    std::string id = opt.args.size() > 2 && !opt.args[2].starts_with("--") ? std::string(opt.args[2]) : "";
    if (cmd == "status") return run_request(opt, "cache.status", {}, print_status);
    if (cmd == "ls") return run_request(opt, "cache.ls", {}, print_list);
    if (cmd == "verify") {
        // Hashes every file: as long as the disk takes to read them.
        return run_request(opt, "cache.verify", {}, [](const json::object& o) {
            const auto* removed = o.if_contains("removed");
            size_t n = removed && removed->is_array() ? removed->as_array().size() : 0;
            fmt::print("{}\n", i18n::format({"checked {} files: {} did not match their SHA-256 and were removed (they "
                                             "are fetched again when needed)",
                                             "已校验 {} 个文件：{} 个与 SHA-256 不符，已删除（需要时会重新下载）"},
                                            num(o, "checked"), n));
            if (n == 0) return;
            for (const auto& v : removed->as_array())
                if (v.is_string()) fmt::print("  {}\n", std::string_view(v.as_string()));
        });
    }
    if (cmd == "refresh") {
        return run_request(opt, "cache.refresh", {}, [](const json::object&) {
            fmt::print("{}\n", i18n::text({"asking the county for the catalogue and timetable now",
                                           "正在向县级平台获取课件目录和课表"}));
        });
    }
    if (id.empty()) return usage_error();
    if (cmd == "get") return get(opt, id);
    if (cmd == "pin") {
        int64_t hours = 24;
        for (size_t i = 3; i + 1 < opt.args.size(); ++i) {
            if (opt.args[i] == "--hours") hours = std::strtoll(std::string(opt.args[i + 1]).c_str(), nullptr, 10);
        }
        return run_request(opt, "cache.pin", {{"id", id}, {"hours", hours}}, [](const json::object& o) {
            if (num(o, "pinned_until_us") <= 0) {
                fmt::print("{}\n", i18n::format({"{} is no longer pinned", "{} 已解除锁定"}, str(o, "id")));
            } else {
                fmt::print("{}\n", i18n::format({"{} is kept until {}", "{} 保留至 {}"}, str(o, "id"),
                                                when_text(num(o, "pinned_until_us"))));
            }
        });
    }
    if (cmd == "evict") {
        return run_request(opt, "cache.evict", {{"id", id}, {"force", has(opt, "--force")}}, [](const json::object& o) {
            fmt::print("{}\n", i18n::format({"{} removed from the cache", "已从缓存删除 {}"}, str(o, "id")));
        });
    }
    return usage_error();
}

int run_timetable(const options& opt) {
    int64_t days = 0;
    auto usage = [] {
        fmt::print(stderr, "bbtctl: {}\n",
                   i18n::text({"usage: bbtctl timetable [today | tomorrow | DAYS from today, -31 to 31]",
                               "用法：bbtctl timetable [today | tomorrow | 距今天数，-31 到 31]"}));
        return exit_usage;
    };
    if (opt.args.size() > 2) return usage();
    if (opt.args.size() == 2) {
        std::string_view a = opt.args[1];
        if (a == "today") {
            days = 0;
        } else if (a == "tomorrow") {
            days = 1;
        } else {
            std::string text(a);
            char* end = nullptr;
            days = std::strtoll(text.c_str(), &end, 10);
            if (end == text.c_str() || *end != '\0' || days < -31 || days > 31) return usage();
        }
    }
    return run_request(opt, "timetable", {{"days", days}}, print_timetable);
}

}  // namespace bbtctl
