// bbtctl: the command line for people at the classroom set.
#include "cache.hpp"
#include "client.hpp"
#include "common.hpp"
#include "county.hpp"
#include "hid.hpp"
#include "projector.hpp"
#include "record.hpp"
#include "whiteboard.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/protocol/county.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace i18n = bbt::i18n;
namespace json = boost::json;
using namespace bbtctl;

void usage(std::FILE* out) {
    fmt::print(
        out, "{}",
        i18n::text({"Usage: bbtctl [--json] [--socket PATH] [--timeout SECONDS] COMMAND\n"
                    "\n"
                    "Commands:\n"
                    "  status          the agent's version, uptime, services and today's usage\n"
                    "  usage [DAYS]    hours in each state per device per day, for the last DAYS days (default 7)\n"
                    "  inventory       the set's devices as reported to the county: PC, whiteboard, projector,\n"
                    "                  cameras, microphones (sound cards)\n"
                    "  hid decode --descriptor FILE | --recording FILE.hid\n"
                    "                  a HID report descriptor's layout, or a recording's frames, offline\n"
                    "  whiteboard status\n"
                    "                  the whiteboard: identity, state, output, calibration\n"
                    "  whiteboard calibrate [--points 4|9|16|25] [--check]\n"
                    "                  calibrate by touching targets; --check measures the accuracy (GB 50799: 2 mm)\n"
                    "  whiteboard udev-rules [--group G]\n"
                    "                  udev rules giving group G (default bbt) the supported boards and uinput\n"
                    "  whiteboard record [--seconds N] [--out FILE.hid]\n"
                    "                  record the board's reports for N seconds (default 10), to replay anywhere\n"
                    "  county enrol CODE | county status\n"
                    "                  enrol this set with the county; the link's queue, last success and error\n"
                    "  class start|end|key|status\n"
                    "                  start or end the class (projector, input, mains), as the front-panel key\n"
                    "  projector status|on|off|input CODE|blank on|off\n"
                    "                  the projector through the agent\n"
                    "  projector probe HOST[:PORT] [--password P]\n"
                    "                  ask a projector everything PJLink tells, directly (no agent needed)\n"
                    "  cache status|ls|verify|refresh\n"
                    "                  the courseware cache: room, catalogue, downloads; what it holds; re-hash all\n"
                    "  cache get ID [--no-wait] | pin ID [--hours N] | evict ID [--force]\n"
                    "                  a resource's file (fetched first when needed); keep it N hours; remove it\n"
                    "  timetable [today|tomorrow|DAYS]\n"
                    "                  a day's lessons and whether each one's courseware is ready\n"
                    "  record start [--lesson NAME] | stop | status | ls\n"
                    "                  record the lesson (camera or screen, and microphone); the recordings kept\n"
                    "\n"
                    "Options:\n"
                    "  --json             print the answer as JSON, for scripts\n"
                    "  --socket PATH      the agent's socket (default $BBT_SOCKET, else /run/bbt/agent.sock)\n"
                    "  --timeout SECONDS  how long to wait for the agent (default 5)\n"
                    "  --version, --help\n"
                    "\n"
                    "Exit codes: 0 ok, 1 the agent reported an error or a check failed, 2 bad usage, 3 the agent is "
                    "not running,\n"
                    "4 not allowed, 5 no valid answer in time.\n",
                    "用法：bbtctl [--json] [--socket 路径] [--timeout 秒] 命令\n"
                    "\n"
                    "命令：\n"
                    "  status          代理程序的版本、运行时长、各服务状态及今日使用情况\n"
                    "  usage [天数]    最近若干天（默认 7 天）每台设备每天在各状态下的小时数\n"
                    "  inventory       上报县级平台的本机设备清单：电脑、白板、投影机、摄像头、麦克风（声卡）\n"
                    "  hid decode --descriptor 文件 | --recording 文件.hid\n"
                    "                  离线解析 HID 报告描述符的布局，或录制文件的各帧\n"
                    "  whiteboard status\n"
                    "                  白板：型号标识、状态、输出、校准\n"
                    "  whiteboard calibrate [--points 4|9|16|25] [--check]\n"
                    "                  依次触摸目标点进行校准；--check 测量定位精度（GB 50799：2 毫米）\n"
                    "  whiteboard udev-rules [--group 组]\n"
                    "                  生成 udev 规则，使该组（默认 bbt）可访问受支持的白板和 uinput\n"
                    "  whiteboard record [--seconds 秒数] [--out 文件.hid]\n"
                    "                  录制白板报告若干秒（默认 10 秒），可在别处回放\n"
                    "  county enrol 注册码 | county status\n"
                    "                  向县级平台注册本设备；查看上报队列、最近成功和错误\n"
                    "  class start|end|key|status\n"
                    "                  上课或下课（投影机、输入源、电源），与面板按键相同\n"
                    "  projector status|on|off|input 代码|blank on|off\n"
                    "                  经代理程序控制投影机\n"
                    "  projector probe 主机[:端口] [--password 密码]\n"
                    "                  直接读取投影机经 PJLink 提供的全部信息（无需代理程序）\n"
                    "  cache status|ls|verify|refresh\n"
                    "                  课件缓存：空间、目录、下载；缓存内容；重新校验全部文件\n"
                    "  cache get 编号 [--no-wait] | pin 编号 [--hours 小时] | evict 编号 [--force]\n"
                    "                  取得资源文件（需要时先下载）；保留若干小时；删除\n"
                    "  timetable [today|tomorrow|天数]\n"
                    "                  某天的课程及各课课件是否就绪\n"
                    "  record start [--lesson 课程名] | stop | status | ls\n"
                    "                  录制课堂（摄像头或屏幕，以及麦克风）；查看已有录像\n"
                    "\n"
                    "选项：\n"
                    "  --json             以 JSON 输出结果，便于脚本处理\n"
                    "  --socket 路径      代理程序的套接字（默认取 $BBT_SOCKET，否则 /run/bbt/agent.sock）\n"
                    "  --timeout 秒       等待代理程序的时长（默认 5 秒）\n"
                    "  --version, --help\n"
                    "\n"
                    "退出码：0 成功，1 代理程序报告错误或检查未通过，2 用法错误，3 代理程序未运行，4 无权限，5 "
                    "未及时收到有效应答。\n"}));
}

std::string duration_text(double seconds) {
    auto s = static_cast<int64_t>(seconds);
    int64_t h = s / 3600, m = s / 60 % 60;
    if (h > 0) return i18n::format({"{} h {:02} min", "{} 小时 {:02} 分"}, h, m);
    if (m > 0) return i18n::format({"{} min {:02} s", "{} 分 {:02} 秒"}, m, s % 60);
    return i18n::format({"{} s", "{} 秒"}, s);
}

std::string_view service_state_text(std::string_view s) {
    if (s == "running") return i18n::text({"running", "运行中"});
    if (s == "failed") return i18n::text({"failed", "失败"});
    if (s == "starting") return i18n::text({"starting", "启动中"});
    if (s == "stopping") return i18n::text({"stopping", "停止中"});
    if (s == "stopped") return i18n::text({"stopped", "已停止"});
    return s;
}

// Device states as the ledger names them, for people.
std::string_view device_state_text(std::string_view s) {
    if (s == "on") return i18n::text({"on", "开启"});
    if (s == "off") return i18n::text({"off", "关闭"});
    if (s == "standby") return i18n::text({"standby", "待机"});
    if (s == "cooling") return i18n::text({"cooling", "散热中"});
    if (s == "in-use") return i18n::text({"in use", "使用中"});
    if (s == "idle") return i18n::text({"idle", "空闲"});
    if (s == "fault") return i18n::text({"fault", "故障"});
    if (s == "disconnected") return i18n::text({"disconnected", "未连接"});
    return s;
}

void print_status(const json::object& s) {
    bool zh = i18n::current() == i18n::language::zh;
    fmt::print("{}\n", i18n::format({"bbt-agent {}: running for {} (since {}), pid {}",
                                     "bbt-agent {}：已运行 {}（自 {} 起），进程号 {}"},
                                    str(s, "version"), duration_text(num(s, "uptime_s")), str(s, "started_at"),
                                    static_cast<int64_t>(num(s, "pid"))));
    if (const auto* b = s.if_contains("board"); b && b->is_object()) {
        const auto& bo = b->as_object();
        fmt::print("{}\n", i18n::format({"board:  {} ({})", "板卡：  {}（{}）"}, str(bo, "name"),
                                        str(bo, zh ? "description_zh" : "description")));
    }
    fmt::print("{}\n", i18n::format({"state:  {}", "状态目录：{}"}, str(s, "state_dir")));
    fmt::print("{}\n", i18n::text({"services:", "服务："}));
    if (const auto* sv = s.if_contains("services"); sv && sv->is_array()) {
        for (const auto& item : sv->as_array()) {
            if (!item.is_object()) continue;
            const auto& so = item.as_object();
            fmt::print("  {:<12} {}", str(so, "name"), service_state_text(str(so, "state")));
            if (auto e = str(so, "error"); !e.empty()) fmt::print("  ({})", e);
            fmt::print("\n");
        }
    }
    if (const auto* w = s.if_contains("whiteboard"); w && w->is_object()) {
        const auto& wo = w->as_object();
        if (!flag(wo, "configured")) {
            fmt::print("{}\n", i18n::text({"whiteboard: none configured", "白板：  未配置"}));
        } else {
            std::string name;
            if (const auto* id = wo.if_contains("identity"); id && id->is_object()) {
                name = fmt::format(" {}:{} \"{}\"", str(id->as_object(), "vendor"), str(id->as_object(), "product"),
                                   str(id->as_object(), "product_name"));
            }
            fmt::print("{}\n",
                       i18n::format({"whiteboard: {}{}", "白板：  {}{}"}, device_state_text(str(wo, "state")), name));
        }
    }
    if (const auto* c = s.if_contains("county"); c && c->is_object()) {
        const auto& co = c->as_object();
        if (!flag(co, "configured")) {
            fmt::print("{}\n", i18n::text({"county: not configured", "县级平台：未配置"}));
        } else if (!flag(co, "enrolled")) {
            fmt::print("{}\n",
                       i18n::format({"county: not enrolled ({} reports waiting)", "县级平台：未注册（{} 条待发送）"},
                                    num(co, "queue_depth")));
        } else if (!str(co, "last_error").empty()) {
            fmt::print("{}\n", i18n::format({"county: NOT reachable, {} reports waiting: {}",
                                             "县级平台：无法送达，{} 条待发送：{}"},
                                            num(co, "queue_depth"), str(co, "last_error")));
        } else {
            fmt::print("{}\n",
                       i18n::format({"county: {} as {}, {} reports waiting", "县级平台：{}，设备标识 {}，{} 条待发送"},
                                    str(co, "url"), str(co, "device_id"), num(co, "queue_depth")));
        }
    }
    if (const auto* t = s.if_contains("today"); t && t->is_object()) {
        const auto& to = t->as_object();
        fmt::print("{}\n", i18n::format({"today ({}):", "今日（{}）："}, str(to, "day")));
        const auto* usage = to.if_contains("usage");
        if (!usage || !usage->is_array() || usage->as_array().empty()) {
            fmt::print("  {}\n", i18n::text({"no usage recorded yet", "尚无使用记录"}));
        } else {
            for (const auto& item : usage->as_array()) {
                if (!item.is_object()) continue;
                const auto& u = item.as_object();
                fmt::print("  {:<12} {:<10} {}\n", str(u, "device"), device_state_text(str(u, "state")),
                           duration_text(num(u, "seconds")));
            }
        }
        if (auto e = str(to, "error"); !e.empty()) fmt::print("  {}\n", e);
    }
    if (const auto* c = s.if_contains("clock"); c && c->is_object()) {
        const auto& co = c->as_object();
        bool synced =
            co.if_contains("synchronized") && co.at("synchronized").is_bool() && co.at("synchronized").as_bool();
        fmt::print("{}\n", synced ? i18n::text({"clock:  synchronised", "时钟：  已同步"})
                                  : i18n::text({"clock:  NOT synchronised (usage times may be corrected later)",
                                                "时钟：  未同步（使用时间可能稍后校正）"}));
    }
}

void print_inventory(const json::object& inv) {
    fmt::print("{}\n", i18n::text({"devices of this set:", "本机设备："}));
    const auto* devices = inv.if_contains("devices");
    if (!devices || !devices->is_array() || devices->as_array().empty()) {
        fmt::print("  {}\n", i18n::text({"none found", "未发现设备"}));
        return;
    }
    for (const auto& d : devices->as_array()) {
        if (!d.is_object()) continue;
        const auto& o = d.as_object();
        auto kind = str(o, "kind");
        if (auto k = bbt::protocol::county::device_kind_from(kind)) {
            kind = std::string(i18n::text(bbt::protocol::county::display_name(*k)));
        }
        fmt::print("  {:<11} {} {}", kind, str(o, "vendor"), str(o, "model"));
        if (auto sn = str(o, "serial"); !sn.empty()) fmt::print("  {} {}", i18n::text({"serial", "序列号"}), sn);
        if (auto fw = str(o, "firmware"); !fw.empty()) fmt::print("  {} {}", i18n::text({"firmware", "固件"}), fw);
        fmt::print("\n");
    }
}

void print_usage_table(const json::object& u) {
    fmt::print("{}\n", i18n::format({"usage from {} to {}:", "使用情况（{} 至 {}）："}, str(u, "from"), str(u, "to")));
    const auto* rows = u.if_contains("usage");
    if (!rows || !rows->is_array() || rows->as_array().empty()) {
        fmt::print("  {}\n", i18n::text({"no usage recorded", "无使用记录"}));
        return;
    }
    fmt::print("  {:<12} {:<12} {:<10} {:>8}\n", i18n::text({"day", "日期"}), i18n::text({"device", "设备"}),
               i18n::text({"state", "状态"}), i18n::text({"hours", "小时"}));
    for (const auto& item : rows->as_array()) {
        if (!item.is_object()) continue;
        const auto& r = item.as_object();
        fmt::print("  {:<12} {:<12} {:<10} {:>8.2f}\n", str(r, "day"), str(r, "device"),
                   device_state_text(str(r, "state")), num(r, "hours"));
    }
}

}  // namespace

int main(int argc, char** argv) {
    i18n::set(i18n::from_environment());
    options opt;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--json") {
            opt.json = true;
        } else if (a == "--socket" && i + 1 < argc) {
            opt.socket = argv[++i];
        } else if (a == "--timeout" && i + 1 < argc) {
            char* end = nullptr;
            double s = std::strtod(argv[++i], &end);
            if (end == argv[i] || *end != '\0' || !(s > 0 && s <= 3600)) {
                fmt::print(stderr, "{}",
                           i18n::format({"bbtctl: --timeout needs seconds between 0 and 3600, not \"{}\"\n",
                                         "bbtctl：--timeout 需要 0 到 3600 之间的秒数，而不是“{}”\n"},
                                        argv[i]));
                return exit_usage;
            }
            opt.timeout = std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
        } else if (a == "--help" || a == "-h") {
            usage(stdout);
            return exit_ok;
        } else if (a == "--version") {
            fmt::print("bbtctl {}\n", bbt::bbt_version());
            return exit_ok;
        } else if (a.starts_with("--") && !opt.args.empty()) {
            opt.args.push_back(a);  // an option of the command (e.g. hid decode --descriptor)
        } else if (a.starts_with("--")) {
            fmt::print(stderr, "{}",
                       i18n::format({"bbtctl: unknown option \"{}\"\n\n", "bbtctl：未知选项“{}”\n\n"}, a));
            usage(stderr);
            return exit_usage;
        } else {
            opt.args.push_back(a);
        }
    }
    if (opt.args.empty()) {
        usage(stderr);
        return exit_usage;
    }
    if (opt.args[0] == "hid") return bbtctl::run_hid(opt.args, opt.json);
    if (opt.args[0] == "whiteboard") return bbtctl::run_whiteboard(opt);
    if (opt.args[0] == "county") return bbtctl::run_county(opt);
    if (opt.args[0] == "projector") return bbtctl::run_projector(opt);
    if (opt.args[0] == "class") return bbtctl::run_class(opt);
    if (opt.args[0] == "cache") return bbtctl::run_cache(opt);
    if (opt.args[0] == "timetable") return bbtctl::run_timetable(opt);
    if (opt.args[0] == "record") return bbtctl::run_record(opt);
    if (opt.args[0] == "status" && opt.args.size() == 1) return run_request(opt, "status", {}, print_status);
    if (opt.args[0] == "debug" && opt.args.size() == 3 && opt.args[1] == "hang") {
        // For tests of the watchdog: the agent answers only with debug_commands = true.
        double seconds = std::strtod(std::string(opt.args[2]).c_str(), nullptr);
        return run_request(opt, "debug.hang", {{"seconds", seconds}}, [](const json::object&) {});
    }
    if (opt.args[0] == "inventory" && opt.args.size() == 1) {
        return run_request(opt, "inventory", {}, print_inventory);
    }
    if (opt.args[0] == "usage" && opt.args.size() <= 2) {
        int64_t days = 7;
        if (opt.args.size() == 2) {
            std::string text(opt.args[1]);
            char* end = nullptr;
            days = std::strtoll(text.c_str(), &end, 10);
            if (end == text.c_str() || *end != '\0' || days < 1 || days > 366) {
                fmt::print(stderr, "{}",
                           i18n::format({"bbtctl: DAYS must be a whole number from 1 to 366, not \"{}\"\n",
                                         "bbtctl：天数必须是 1 到 366 的整数，而不是“{}”\n"},
                                        text));
                return exit_usage;
            }
        }
        return run_request(opt, "usage", {{"days", days}}, print_usage_table);
    }
    fmt::print(
        stderr, "{}",
        i18n::format({"bbtctl: unknown command \"{}\"\n\n", "bbtctl：未知命令“{}”\n\n"}, fmt::join(opt.args, " ")));
    usage(stderr);
    return exit_usage;
}
