#include "record.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>

namespace bbtctl {
namespace {

namespace i18n = bbt::i18n;
namespace json = boost::json;

std::string size_text(double b) {
    return b >= 1e6 ? fmt::format("{:.1f} MB", b / 1e6) : fmt::format("{:.0f} KB", b / 1e3);
}

std::string length_text(double s) {
    auto n = static_cast<int64_t>(s);
    return fmt::format("{}:{:02}:{:02}", n / 3600, n / 60 % 60, n % 60);
}

// A picture track's name in the reader's language.
std::string track_name(std::string_view name) {
    if (name == "Camera") return std::string(i18n::text({"camera", "摄像头"}));
    if (name == "Screen") return std::string(i18n::text({"screen", "屏幕"}));
    if (name == "Composed") return std::string(i18n::text({"picture-in-picture", "画中画"}));
    return std::string(name);
}

void print_status(const json::object& o) {
    if (!flag(o, "recording")) {
        fmt::print("{}\n", flag(o, "busy")
                               ? i18n::text({"recorder: finishing the last recording", "录制：正在完成上一段录像"})
                               : i18n::text({"recorder: not recording", "录制：未在录制"}));
    } else {
        fmt::print("{}\n", i18n::format({"recorder: recording {} — {} , {}", "录制：正在录制 {} —— {}，{}"},
                                        str(o, "file"), length_text(num(o, "duration_s")), size_text(num(o, "bytes"))));
    }
    if (const auto* t = o.if_contains("tracks"); t && t->is_array() && !t->as_array().empty()) {
        std::string names;
        for (const auto& v : t->as_array()) {
            if (!v.is_string()) continue;
            if (!names.empty()) names += i18n::text({", ", "、"});
            names += track_name(v.as_string());
        }
        fmt::print("  {}\n",
                   i18n::format({"pictures: {}; H.264 by {}", "画面：{}；H.264 编码器 {}"}, names, str(o, "encoder")));
    }
    if (o.contains("audio_level_db")) {
        fmt::print("  {}\n", flag(o, "microphone_silent")
                                 ? i18n::text({"sound: SILENT — is the microphone muted or unplugged?",
                                               "声音：无声——麦克风是否被静音或未连接？"})
                                 : i18n::format({"sound: {:.0f} dB", "声音：{:.0f} dB"}, num(o, "audio_level_db")));
    }
    if (const auto* s = o.if_contains("scheduled"); s && s->is_object()) {
        fmt::print("  {}\n", i18n::format({"by the timetable: {}, part {}", "按课表录制：{}，第 {} 段"},
                                          str(s->as_object(), "lesson"), num(s->as_object(), "part")));
    }
    if (!str(o, "last_error").empty()) {
        fmt::print("  {}\n", i18n::format({"last error: {}", "最近错误：{}"}, str(o, "last_error")));
    }
}

// Where its upload to the county is.
std::string upload_text(const json::object& r) {
    const auto* u = r.if_contains("upload");
    if (!u || !u->is_object()) return {};
    const auto& o = u->as_object();
    auto state = str(o, "state");
    if (state == "uploaded") return std::string(i18n::text({"at the county", "已上传"}));
    if (state == "removed") return std::string(i18n::text({"at the county, removed here", "已上传，本机已删除"}));
    if (state == "uploading") {
        double total = num(o, "bytes");
        return i18n::format({"uploading {:.0f} %", "上传中 {:.0f}%"}, total > 0 ? 100 * num(o, "offset") / total : 0.0);
    }
    return std::string(i18n::text({"to upload", "待上传"}));
}

void print_list(const json::object& o) {
    const auto* list = o.if_contains("recordings");
    if (!list || !list->is_array() || list->as_array().empty()) {
        fmt::print("{}\n", i18n::text({"no recordings", "没有录像"}));
        return;
    }
    for (const auto& v : list->as_array()) {
        if (!v.is_object()) continue;
        const auto& r = v.as_object();
        fmt::print("{:>10}  {:<14}  {}{}\n", size_text(num(r, "bytes")), upload_text(r), str(r, "file"),
                   flag(r, "interrupted")
                       ? i18n::text({"  (interrupted: readable up to its last second)", "  （中断：可读取至最后一秒）"})
                       : "");
        // A long lesson name is cut in the file's: said whole.
        if (auto lesson = str(r, "lesson"); !lesson.empty() && str(r, "file").find(lesson) == std::string::npos) {
            fmt::print("{:>10}  {}\n", "", i18n::format({"lesson: {}", "课程：{}"}, lesson));
        }
    }
}

}  // namespace

int run_record(const options& opt) {
    std::string_view cmd = opt.args.size() > 1 ? opt.args[1] : "status";
    if (cmd == "start") {
        std::string lesson;
        for (size_t i = 2; i + 1 < opt.args.size(); ++i) {
            if (opt.args[i] == "--lesson") lesson = std::string(opt.args[i + 1]);
        }
        // Opening a camera can take a few seconds.
        auto r = request(opt, "record.start", {{"lesson", lesson}}, opt.timeout * 3);
        if (!r) return report(r.error(), opt);
        if (opt.json) {
            fmt::print("{}\n", json::serialize(*r));
        } else {
            fmt::print("{}\n", i18n::format({"recording to {}", "开始录制：{}"}, str(*r, "file")));
        }
        return exit_ok;
    }
    bool force = opt.args.size() == 3 && opt.args[2] == "--force";
    if (cmd == "stop" && (opt.args.size() == 2 || force)) {
        // Finishing a long lesson's file takes a while.
        json::object params;
        if (force) params["force"] = true;
        auto r = request(opt, "record.stop", params, opt.timeout * 24);
        if (!r) return report(r.error(), opt);
        if (opt.json) {
            fmt::print("{}\n", json::serialize(*r));
        } else {
            fmt::print("{}\n", i18n::format({"recorded {}: {}, {}", "已录制 {}：{}，{}"}, str(*r, "file"),
                                            length_text(num(*r, "duration_s")), size_text(num(*r, "bytes"))));
        }
        return exit_ok;
    }
    if (cmd == "status" && opt.args.size() <= 2) return run_request(opt, "record.status", {}, print_status);
    if (cmd == "ls" && opt.args.size() == 2) return run_request(opt, "record.ls", {}, print_list);
    fmt::print(stderr, "bbtctl: {}\n",
               i18n::text({"usage: bbtctl record start [--lesson NAME] | stop [--force] | status | ls",
                           "用法：bbtctl record start [--lesson 课程名] | stop [--force] | status | ls"}));
    return exit_usage;
}

}  // namespace bbtctl
