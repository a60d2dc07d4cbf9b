#include "whiteboard.hpp"

#include "bbt/drivers/whiteboard/usb_boards.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace bbtctl {
namespace {

namespace i18n = bbt::i18n;
namespace json = boost::json;
using namespace std::chrono_literals;

// A calibration that sees no touch for this long is given up.
constexpr auto no_touch_limit = 120s;
// How often the agent is asked how far the calibration is.
constexpr auto poll_interval = 100ms;

volatile std::sig_atomic_t interrupted = 0;

std::string_view state_text(std::string_view s) {
    if (s == "in-use") return i18n::text({"in use", "使用中"});
    if (s == "idle") return i18n::text({"connected, not touched", "已连接，未触摸"});
    if (s == "disconnected") return i18n::text({"disconnected", "未连接"});
    return s;
}

void print_status(const json::object& o) {
    if (!flag(o, "configured")) {
        fmt::print("{}\n", i18n::text({"whiteboard: none configured (whiteboard.device in agent.toml)",
                                       "白板：未配置（agent.toml 中的 whiteboard.device）"}));
        return;
    }
    fmt::print("{}\n", i18n::format({"whiteboard: {}", "白板：{}"}, state_text(str(o, "state"))));
    if (const auto* id = o.if_contains("identity"); id && id->is_object()) {
        const auto& i = id->as_object();
        std::string serial = str(i, "serial");
        fmt::print("  {:<12} {}:{} \"{}\" {} {}, {} {}\n", i18n::text({"board:", "型号："}), str(i, "vendor"),
                   str(i, "product"), str(i, "product_name"), i18n::text({"serial", "序列号"}),
                   serial.empty() ? "-" : serial, i18n::text({"at", "位于"}), str(i, "where"));
    }
    if (const auto* t = o.if_contains("touch"); t && t->is_object()) {
        const auto& tt = t->as_object();
        const auto& x = tt.at("x").as_object();
        const auto& y = tt.at("y").as_object();
        fmt::print("  {:<12} {} {}, {} {}, {} {}, X 0..{} ({}/mm), Y 0..{} ({}/mm)\n", i18n::text({"touch:", "触摸："}),
                   i18n::text({"class", "类别"}), str(tt, "class"), str(tt, "mode"), i18n::text({"mode", "模式"}),
                   num(tt, "max_contacts"), i18n::text({"contacts", "点"}), num(x, "logical_max"), num(x, "resolution"),
                   num(y, "logical_max"), num(y, "resolution"));
        fmt::print("  {:<12} {}; {} {}\n", i18n::text({"pen:", "笔："}),
                   flag(o, "pen") ? i18n::text({"its own pen", "自带笔"}) : i18n::text({"none", "无"}),
                   i18n::text({"tools by size", "按大小识别笔/板擦"}),
                   flag(tt, "tools_by_size") ? i18n::text({"on", "开启"}) : i18n::text({"off", "关闭"}));
    }
    if (const auto* out = o.if_contains("output"); out && out->is_object()) {
        const auto& oo = out->as_object();
        if (!str(oo, "error").empty()) {
            fmt::print("  {:<12} {} {}\n", i18n::text({"output:", "输出："}), i18n::text({"NOT WORKING:", "故障："}),
                       str(oo, "error"));
        } else if (!str(oo, "touch_node").empty()) {
            fmt::print("  {:<12} {} ({}), {} ({})\n", i18n::text({"output:", "输出："}), str(oo, "touch_node"),
                       i18n::text({"touch", "触摸"}), str(oo, "pen_node"), i18n::text({"pen", "笔"}));
        } else {
            fmt::print("  {:<12} {}\n", i18n::text({"output:", "输出："}), str(oo, "kind"));
        }
    }
    if (const auto* c = o.if_contains("calibration"); c && c->is_object()) {
        const auto& cc = c->as_object();
        if (flag(cc, "present")) {
            fmt::print("  {:<12} {}\n", i18n::text({"calibration:", "校准："}),
                       i18n::format({"{} points, max error {:.2f} mm, mean {:.2f} mm, made {}",
                                     "{} 点，最大误差 {:.2f} 毫米，平均 {:.2f} 毫米，于 {}"},
                                    num(cc, "points"), num(cc, "max_error_mm"), num(cc, "mean_error_mm"),
                                    str(cc, "created_at")));
        } else {
            fmt::print("  {:<12} {}\n", i18n::text({"calibration:", "校准："}),
                       i18n::text({"none (the board's range is stretched over the screen area)",
                                   "无（白板范围直接拉伸到屏幕区域）"}));
        }
    }
    if (const auto* n = o.if_contains("counters"); n && n->is_object()) {
        const auto& nn = n->as_object();
        fmt::print("  {:<12} {}\n", i18n::text({"reports:", "报告："}),
                   i18n::format({"{} ({} frames, {} dropped as malformed)", "{}（{} 帧，{} 个格式错误已丢弃）"},
                                num(nn, "reports"), num(nn, "frames"), num(nn, "dropped")));
    }
    if (!str(o, "last_error").empty()) {
        fmt::print("  {:<12} {}\n", i18n::text({"last error:", "最近错误："}), str(o, "last_error"));
    }
}

// The value after `name` among the command's arguments, if any.
std::optional<std::string_view> option_value(const std::vector<std::string_view>& args, std::string_view name) {
    for (size_t i = 2; i + 1 < args.size(); ++i) {
        if (args[i] == name) return args[i + 1];
    }
    return std::nullopt;
}

bool has(const std::vector<std::string_view>& args, std::string_view name) {
    for (size_t i = 2; i < args.size(); ++i) {
        if (args[i] == name) return true;
    }
    return false;
}

int usage_error(std::string_view what) {
    fmt::print(stderr, "bbtctl: {}\n", what);
    return exit_usage;
}

int calibrate(const options& opt) {
    bool check = has(opt.args, "--check");
    json::object params{{"action", "start"}, {"mode", check ? "check" : "calibrate"}};
    if (auto p = option_value(opt.args, "--points")) {
        int n = std::atoi(std::string(*p).c_str());
        if (n != 4 && n != 9 && n != 16 && n != 25) {
            return usage_error(i18n::text({"--points must be 4, 9, 16 or 25", "--points 必须为 4、9、16 或 25"}));
        }
        params["points"] = n;
    }
    auto started = request(opt, "whiteboard.calibrate", params, opt.timeout);
    if (!started) return report(started.error(), opt);
    if (!opt.json) {
        fmt::print("{}\n", check ? i18n::text({"Accuracy check: touch the centre of each target with a finger, "
                                               "one after the other.",
                                               "精度检查：请用手指依次触摸每个目标点的中心。"})
                                 : i18n::text({"Calibration: touch the centre of each target with a finger, "
                                               "one after the other.",
                                               "校准：请用手指依次触摸每个目标点的中心。"}));
    }
    std::signal(SIGINT, [](int) { interrupted = 1; });
    std::signal(SIGTERM, [](int) { interrupted = 1; });
    size_t shown = static_cast<size_t>(-1);
    auto last_progress = std::chrono::steady_clock::now();
    json::object s = *started;
    for (;;) {
        size_t next = static_cast<size_t>(num(s, "next"));
        size_t total = static_cast<size_t>(num(s, "total"));
        if (next != shown && !opt.json) {
            if (next > 0 && next <= total) {
                const auto& t = s.at("touches").as_array()[next - 1].as_object();
                fmt::print("  {}\n", i18n::format({"target {} touched at ({:.0f}, {:.0f}) in board units",
                                                   "目标 {} 已触摸，白板坐标 ({:.0f}, {:.0f})"},
                                                  next, num(t, "x"), num(t, "y")));
            }
            if (next < total) {
                const auto& t = s.at("targets").as_array()[next].as_object();
                fmt::print("{}\n", i18n::format({"Touch target {} of {} at ({:.0f}, {:.0f}) on the screen",
                                                 "请触摸第 {}/{} 个目标点，屏幕坐标 ({:.0f}, {:.0f})"},
                                                next + 1, total, num(t, "x"), num(t, "y")));
            }
            shown = next;
            last_progress = std::chrono::steady_clock::now();
        }
        if (flag(s, "done")) break;
        if (interrupted || std::chrono::steady_clock::now() - last_progress > no_touch_limit) {
            (void)request(opt, "whiteboard.calibrate", {{"action", "cancel"}}, opt.timeout);
            return report(bbt::error(client_errc::failed,
                                     interrupted ? i18n::text({"cancelled; the earlier calibration stays",
                                                               "已取消；原校准保持不变"})
                                                 : i18n::text({"no touch for 2 minutes; cancelled, the earlier "
                                                               "calibration stays",
                                                               "2 分钟内没有触摸，已取消；原校准保持不变"})),
                          opt);
        }
        std::this_thread::sleep_for(poll_interval);
        auto r = request(opt, "whiteboard.calibrate", {{"action", "status"}}, opt.timeout);
        if (!r) return report(r.error(), opt);
        s = std::move(*r);
    }
    if (opt.json) fmt::print("{}\n", json::serialize(s));
    if (!str(s, "error").empty() && !s.contains("result")) {
        return report(bbt::error(client_errc::failed, str(s, "error")), opt);
    }
    const auto& res = s.at("result").as_object();
    bool within = flag(res, "within_limit");
    if (!opt.json) {
        fmt::print("{}\n",
                   i18n::format({"{}: max error {:.2f} mm, mean {:.2f} mm, limit {:.1f} mm: {}",
                                 "{}：最大误差 {:.2f} 毫米，平均 {:.2f} 毫米，限值 {:.1f} 毫米：{}"},
                                check ? i18n::text({"Accuracy", "精度"}) : i18n::text({"Calibrated", "校准完成"}),
                                num(res, "max_error_mm"), num(res, "mean_error_mm"), num(res, "limit_mm"),
                                within ? i18n::text({"PASS", "合格"}) : i18n::text({"FAIL", "不合格"})));
        if (!str(s, "error").empty()) fmt::print(stderr, "bbtctl: {}\n", str(s, "error"));
        if (!check && !within) {
            fmt::print("{}\n", i18n::text({"The touches disagree with each other by more than the limit: "
                                           "calibrate again, touching each target's centre.",
                                           "各次触摸之间的偏差超过限值：请重新校准，并触摸每个目标点的中心。"}));
        }
    }
    if (!str(s, "error").empty()) return exit_failed;
    return check && !within ? exit_failed : exit_ok;
}

int record(const options& opt) {
    int64_t seconds = 10;
    if (auto p = option_value(opt.args, "--seconds")) {
        char* end = nullptr;
        std::string text(*p);
        seconds = std::strtoll(text.c_str(), &end, 10);
        if (end == text.c_str() || *end != '\0' || seconds < 1 || seconds > 600) {
            return usage_error(i18n::format({"--seconds needs a whole number from 1 to 600, not \"{}\"",
                                             "--seconds 需要 1 到 600 的整数，而不是“{}”"},
                                            text));
        }
    }
    if (!opt.json) {
        fmt::print("{}\n", i18n::format({"Recording the whiteboard for {} s ...", "正在录制白板 {} 秒……"}, seconds));
    }
    auto r = request(opt, "whiteboard.record", {{"seconds", seconds}}, opt.timeout + std::chrono::seconds(seconds));
    if (!r) return report(r.error(), opt);
    std::string path = str(*r, "path");
    if (auto out = option_value(opt.args, "--out")) {
        std::error_code ec;
        std::filesystem::copy_file(path, std::filesystem::path(*out), std::filesystem::copy_options::overwrite_existing,
                                   ec);
        if (ec) {
            return report(
                bbt::error(client_errc::failed, i18n::format({"the recording is at {}, but copying it to {} failed: {}",
                                                              "录制文件位于 {}，但复制到 {} 失败：{}"},
                                                             path, *out, ec.message())),
                opt);
        }
        path = std::string(*out);
        (*r)["path"] = path;
    }
    if (opt.json) {
        fmt::print("{}\n", json::serialize(*r));
    } else {
        fmt::print("{}\n",
                   i18n::format({"{} reports recorded to {}", "已录制 {} 个报告到 {}"}, num(*r, "reports"), path));
    }
    return exit_ok;
}

}  // namespace

int run_whiteboard(const options& opt) {
    std::string_view cmd = opt.args.size() > 1 ? opt.args[1] : "status";
    if (cmd == "status" && opt.args.size() <= 2) {
        return run_request(opt, "whiteboard.status", {}, print_status);
    }
    if (cmd == "calibrate") return calibrate(opt);
    if (cmd == "record") return record(opt);
    if (cmd == "udev-rules" && (opt.args.size() == 2 || (opt.args.size() == 4 && opt.args[2] == "--group"))) {
        // Offline: the rules that let the agent's group open the supported boards and uinput.
        fmt::print("{}", bbt::drivers::whiteboard::udev_rules(opt.args.size() == 4 ? opt.args[3] : "bbt"));
        return exit_ok;
    }
    return usage_error(i18n::format({"unknown whiteboard command \"{}\"; use status, calibrate, record or udev-rules",
                                     "未知的白板命令“{}”；可用 status、calibrate、record 或 udev-rules"},
                                    cmd));
}

}  // namespace bbtctl
