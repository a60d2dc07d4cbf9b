#include "projector.hpp"

#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/drivers/projector/pjlink_client.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <iostream>

namespace bbtctl {
namespace {

namespace i18n = bbt::i18n;
namespace json = boost::json;
namespace pj = bbt::drivers::pjlink;

int usage_error(std::string_view why) {
    fmt::print(stderr, "bbtctl: {}\n", why);
    fmt::print(
        stderr, "{}",
        i18n::text({"Usage: bbtctl projector status|on|off|input CODE|blank on|off\n"
                    "       bbtctl projector probe HOST[:PORT] [--password P] [--json]\n"
                    "       bbtctl projector search [--to ADDR] [--port P] [--local-port P] [--wait S]\n",
                    "用法：bbtctl projector status|on|off|input 代码|blank on|off\n"
                    "      bbtctl projector probe 主机[:端口] [--password 密码] [--json]\n"
                    "      bbtctl projector search [--to 地址] [--port 端口] [--local-port 端口] [--wait 秒]\n"}));
    return exit_usage;
}

// "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT".
bool split_host(std::string_view s, pj::endpoint& e) {
    std::string_view port;
    if (s.starts_with('[')) {
        auto close = s.find(']');
        if (close == std::string_view::npos) return false;
        e.host = std::string(s.substr(1, close - 1));
        auto rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':') return false;
            port = rest.substr(1);
        }
    } else {
        auto colon = s.find(':');
        if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) {
            e.host = std::string(s.substr(0, colon));
            port = s.substr(colon + 1);
        } else {
            e.host = std::string(s);  // a name, an IPv4 address or a bare IPv6 address
        }
    }
    if (e.host.empty()) return false;
    if (!port.empty()) {
        char* end = nullptr;
        std::string p(port);
        long v = std::strtol(p.c_str(), &end, 10);
        if (end == p.c_str() || *end != '\0' || v < 1 || v > 65535) return false;
        e.port = static_cast<uint16_t>(v);
    }
    return true;
}

std::string power_text(pj::power p) {
    switch (p) {
        case pj::power::standby: return std::string(i18n::text({"standby", "待机"}));
        case pj::power::on: return std::string(i18n::text({"on", "开机"}));
        case pj::power::cooling: return std::string(i18n::text({"cooling down", "散热中"}));
        case pj::power::warming: return std::string(i18n::text({"warming up", "预热中"}));
    }
    return {};
}

std::string flag_text(uint8_t f) {
    return std::string(f == 0   ? i18n::text({"ok", "正常"})
                       : f == 1 ? i18n::text({"WARNING", "警告"})
                                : i18n::text({"ERROR", "故障"}));
}

json::object to_json(const pj::projector_info& p) {
    json::object o{{"class", p.pjlink_class},
                   {"name", p.name},
                   {"manufacturer", p.manufacturer},
                   {"product", p.product},
                   {"other", p.other},
                   {"serial", p.serial},
                   {"software", p.software},
                   {"no_lamp", p.no_lamp},
                   {"replacement_lamp", p.replacement_lamp},
                   {"replacement_filter", p.replacement_filter}};
    o["power"] = p.power_state ? json::value(pj::to_string(*p.power_state)) : json::value(nullptr);
    o["input"] = p.current_input ? json::value(p.current_input->code()) : json::value(nullptr);
    json::array inputs;
    for (const auto& in : p.inputs) {
        json::object i{{"code", in.code()}, {"type", pj::input_type_name(in.type)}};
        if (auto n = p.input_names.find(in.code()); n != p.input_names.end()) i["name"] = n->second;
        inputs.push_back(std::move(i));
    }
    o["inputs"] = std::move(inputs);
    if (p.mute) o["mute"] = json::object{{"video", p.mute->video}, {"audio", p.mute->audio}};
    if (p.errors) {
        json::object e;
        for (size_t i = 0; i < 6; ++i) {
            static constexpr const char* names[] = {"ok", "warning", "error"};
            e[pj::error_status_parts[i]] = names[p.errors->flags[i]];
        }
        o["errors"] = std::move(e);
    }
    json::array lamps;
    for (const auto& l : p.lamps)
        lamps.push_back(json::object{{"hours", l.hours}, {"on", l.on}});
    o["lamps"] = std::move(lamps);
    o["filter_hours"] = p.filter_hours ? json::value(*p.filter_hours) : json::value(nullptr);
    // "WxH", "no-signal", "unknown" (the projector does not know), null (not answered).
    auto res = [](const std::optional<pj::resolution_reading>& r) {
        if (!r) return json::value(nullptr);
        switch (r->what) {
            case pj::resolution_reading::state::size:
                return json::value(fmt::format("{}x{}", r->size.width, r->size.height));
            case pj::resolution_reading::state::no_signal: return json::value("no-signal");
            case pj::resolution_reading::state::unknown: break;
        }
        return json::value("unknown");
    };
    o["input_resolution"] = res(p.input_resolution);
    o["recommended_resolution"] = res(p.recommended_resolution);
    json::object unanswered;
    for (const auto& [k, v] : p.unanswered)
        unanswered[k] = v;
    o["unanswered"] = std::move(unanswered);
    return o;
}

void print(const pj::projector_info& p, const pj::endpoint& e) {
    auto line = [](std::string_view label, std::string_view value) {
        if (!value.empty()) fmt::print("{:<14}{}\n", label, value);
    };
    fmt::print("{}\n", i18n::format({"PJLink class {} projector at {}:{}", "PJLink {} 类投影机，地址 {}:{}"},
                                    p.pjlink_class, e.host, e.port));
    line(i18n::text({"name", "名称"}), p.name);
    line(i18n::text({"manufacturer", "厂商"}), p.manufacturer);
    line(i18n::text({"product", "型号"}), p.product);
    line(i18n::text({"serial", "序列号"}), p.serial);
    line(i18n::text({"software", "软件版本"}), p.software);
    line(i18n::text({"other", "其他信息"}), p.other);
    line(i18n::text({"power", "电源"}), p.power_state ? power_text(*p.power_state) : "");
    if (p.current_input) {
        std::string in = fmt::format("{} ({})", p.current_input->code(), pj::input_type_name(p.current_input->type));
        if (auto n = p.input_names.find(p.current_input->code()); n != p.input_names.end()) in += " " + n->second;
        line(i18n::text({"input", "当前输入"}), in);
    }
    std::string all;
    for (const auto& in : p.inputs) {
        auto n = p.input_names.find(in.code());
        all += fmt::format("{}{}{}", all.empty() ? "" : ", ", in.code(),
                           n != p.input_names.end() ? " " + n->second : std::string());
    }
    line(i18n::text({"inputs", "输入源"}), all);
    if (p.mute) {
        line(i18n::text({"mute", "静音"}),
             fmt::format("{} {}, {} {}", i18n::text({"video", "画面"}),
                         p.mute->video ? i18n::text({"muted", "已静音"}) : i18n::text({"on", "正常"}),
                         i18n::text({"audio", "声音"}),
                         p.mute->audio ? i18n::text({"muted", "已静音"}) : i18n::text({"on", "正常"})));
    }
    if (p.no_lamp) {
        line(i18n::text({"lamps", "灯泡"}), i18n::text({"none (laser or LED light source)", "无（激光或 LED 光源）"}));
    }
    for (size_t i = 0; i < p.lamps.size(); ++i) {
        line(fmt::format("{} {}", i18n::text({"lamp", "灯泡"}), i + 1),
             i18n::format({"{} hours, {}", "{} 小时，{}"}, p.lamps[i].hours,
                          p.lamps[i].on ? i18n::text({"lit", "点亮"}) : i18n::text({"off", "熄灭"})));
    }
    if (p.filter_hours) line(i18n::text({"filter", "滤网"}), i18n::format({"{} hours", "{} 小时"}, *p.filter_hours));
    line(i18n::text({"spare lamp", "替换灯泡"}), p.replacement_lamp);
    line(i18n::text({"spare filter", "替换滤网"}), p.replacement_filter);
    auto res_text = [](const pj::resolution_reading& r) -> std::string {
        switch (r.what) {
            case pj::resolution_reading::state::size: return fmt::format("{}x{}", r.size.width, r.size.height);
            case pj::resolution_reading::state::no_signal: return std::string(i18n::text({"no signal", "无信号"}));
            case pj::resolution_reading::state::unknown: break;
        }
        return std::string(i18n::text({"not known to the projector", "投影机未提供"}));
    };
    if (p.input_resolution) line(i18n::text({"signal", "输入信号"}), res_text(*p.input_resolution));
    if (p.recommended_resolution)
        line(i18n::text({"best resolution", "推荐分辨率"}), res_text(*p.recommended_resolution));
    if (p.errors) {
        static constexpr i18n::msg parts[] = {{"fan", "风扇"},   {"lamp", "灯泡"},   {"temperature", "温度"},
                                              {"cover", "机盖"}, {"filter", "滤网"}, {"other", "其他"}};
        std::string text;
        for (size_t i = 0; i < 6; ++i) {
            text += fmt::format("{}{} {}", i ? ", " : "", i18n::text(parts[i]), flag_text(p.errors->flags[i]));
        }
        line(i18n::text({"errors", "错误状态"}), text);
    }
    for (const auto& [cmd, why] : p.unanswered)
        line(cmd, why);
}

std::string state_text(std::string_view s) {
    if (s == "on") return std::string(i18n::text({"on", "开机"}));
    if (s == "warming") return std::string(i18n::text({"warming up", "预热中"}));
    if (s == "cooling") return std::string(i18n::text({"cooling down", "散热中"}));
    if (s == "standby") return std::string(i18n::text({"standby", "待机"}));
    if (s == "unreachable") return std::string(i18n::text({"NOT reachable", "无法连接"}));
    if (s == "idle") return std::string(i18n::text({"no class", "未上课"}));
    if (s == "starting") return std::string(i18n::text({"starting", "正在上课准备"}));
    if (s == "in-class") return std::string(i18n::text({"in class", "上课中"}));
    if (s == "ending") return std::string(i18n::text({"ending", "正在下课"}));
    if (s == "fault") return std::string(i18n::text({"in class, with a FAULT", "上课中（有故障）"}));
    return std::string(s.empty() ? i18n::text({"not known yet", "尚未知"}) : s);
}

void print_projector_status(const json::object& o) {
    if (!flag(o, "configured")) {
        fmt::print("{}\n", i18n::text({"projector: none configured", "投影机：未配置"}));
        return;
    }
    fmt::print("{}\n",
               i18n::format({"projector at {}: {}", "投影机 {}：{}"}, str(o, "address"), state_text(str(o, "state"))));
    if (const auto* id = o.if_contains("identity"); id && id->is_object()) {
        const auto& i = id->as_object();
        fmt::print("  {} {}  {} {}\n", str(i, "manufacturer"), str(i, "product"), i18n::text({"serial", "序列号"}),
                   str(i, "serial"));
    }
    if (!str(o, "input").empty()) fmt::print("  {} {}\n", i18n::text({"input", "输入源"}), str(o, "input"));
    if (const auto* l = o.if_contains("lamps"); l && l->is_array()) {
        for (size_t i = 0; i < l->as_array().size(); ++i) {
            const auto& lamp = l->as_array()[i].as_object();
            fmt::print("  {}\n", i18n::format({"lamp {}: {} hours", "灯泡 {}：{} 小时"}, i + 1, num(lamp, "hours")));
        }
    }
    if (const auto* e = o.if_contains("errors"); e && e->is_object()) {
        for (const auto& [part, v] : e->as_object()) {
            if (v.is_string() && v.as_string() != "ok") {
                fmt::print("  {}\n", i18n::format({"error status: {} {}", "错误状态：{} {}"}, std::string_view(part),
                                                  std::string_view(v.as_string())));
            }
        }
    }
    if (!str(o, "last_error").empty()) {
        fmt::print("  {}\n", i18n::format({"last error: {}", "最近错误：{}"}, str(o, "last_error")));
    }
}

void print_class_status(const json::object& o) {
    std::string state = str(o, "state"), goal = str(o, "goal");
    bool moving = (goal == "in-class") != (state == "in-class" || state == "fault" || state == "starting");
    fmt::print("{}\n", moving ? i18n::format({"class: {} (asked: {})", "课堂：{}（请求：{}）"}, state_text(state),
                                             state_text(goal))
                              : i18n::format({"class: {}", "课堂：{}"}, state_text(state)));
    if (!str(o, "step").empty()) fmt::print("  {}\n", str(o, "step"));
    if (!str(o, "fault").empty()) fmt::print("  {}\n", i18n::format({"fault: {}", "故障：{}"}, str(o, "fault")));
    if (const auto* m = o.if_contains("mains"); m && m->is_object()) {
        std::string text;
        for (const auto& [relay, on] : m->as_object()) {
            text +=
                fmt::format("{}{} {}", text.empty() ? "" : ", ", std::string_view(relay),
                            on.is_bool() && on.as_bool() ? i18n::text({"on", "通电"}) : i18n::text({"off", "断电"}));
        }
        fmt::print("  {}\n", i18n::format({"mains: {}", "电源：{}"}, text));
    }
}

// `bbtctl projector search [--to ADDR] [--port P] [--local-port P] [--wait S]`.
int run_search(const options& opt) {
    const auto& a = opt.args;
    std::string to = "255.255.255.255";
    long port = pj::default_port, local_port = pj::default_port;
    double wait = 5;
    for (size_t i = 2; i < a.size(); ++i) {
        auto value = [&](long min, long max, long& out) {
            if (i + 1 >= a.size()) return false;
            std::string t(a[++i]);
            char* end = nullptr;
            long v = std::strtol(t.c_str(), &end, 10);
            if (end == t.c_str() || *end != '\0' || v < min || v > max) return false;
            out = v;
            return true;
        };
        if (a[i] == "--to" && i + 1 < a.size()) {
            to = std::string(a[++i]);
        } else if (a[i] == "--port") {
            if (!value(1, 65535, port)) return usage_error(i18n::text({"--port needs 1-65535", "--port 须为 1-65535"}));
        } else if (a[i] == "--local-port") {
            if (!value(0, 65535, local_port)) {
                return usage_error(i18n::text({"--local-port needs 0-65535", "--local-port 须为 0-65535"}));
            }
        } else if (a[i] == "--wait") {
            long w = 0;
            if (!value(1, 120, w))
                return usage_error(i18n::text({"--wait needs 1-120 seconds", "--wait 须为 1-120 秒"}));
            wait = static_cast<double>(w);
        } else {
            return usage_error(i18n::format({"unexpected \"{}\"", "多余的参数“{}”"}, a[i]));
        }
    }
    boost::asio::io_context ioc;
    auto fut = boost::asio::co_spawn(
        ioc,
        pj::search(ioc.get_executor(), to, static_cast<uint16_t>(port), static_cast<uint16_t>(local_port),
                   std::chrono::milliseconds(static_cast<int64_t>(wait * 1000))),
        boost::asio::use_future);
    ioc.run();
    auto found = fut.get();
    if (!found) return report(found.error(), opt);
    if (opt.json) {
        json::array list;
        for (const auto& f : *found)
            list.push_back(json::object{{"address", f.address}, {"mac", f.mac}});
        fmt::print("{}\n", json::serialize(json::object{{"projectors", std::move(list)}}));
    } else if (found->empty()) {
        fmt::print("{}\n",
                   i18n::format({"no PJLink Class 2 projector answered within {} s (Class 1 projectors do not "
                                 "answer searches; try bbtctl projector probe HOST)",
                                 "{} 秒内没有 PJLink 2 类投影机应答（1 类投影机不应答搜索；可试 bbtctl projector "
                                 "probe 主机）"},
                                wait));
    } else {
        for (const auto& f : *found)
            fmt::print("{}  {}\n", f.address, f.mac);
    }
    return exit_ok;
}

}  // namespace

int run_projector(const options& opt) {
    const auto& a = opt.args;
    if (a.size() == 2 && a[1] == "status") return run_request(opt, "projector.status", {}, print_projector_status);
    if (a.size() == 2 && (a[1] == "on" || a[1] == "off")) {
        return run_request(opt, "projector.control", {{"power", a[1] == "on"}}, print_projector_status);
    }
    if (a.size() == 3 && a[1] == "input") {
        return run_request(opt, "projector.control", {{"input", std::string(a[2])}}, print_projector_status);
    }
    if (a.size() == 3 && a[1] == "blank" && (a[2] == "on" || a[2] == "off")) {
        return run_request(opt, "projector.control", {{"blank", a[2] == "on"}}, print_projector_status);
    }
    if (a.size() >= 2 && a[1] == "search") return run_search(opt);
    if (a.size() < 2 || a[1] != "probe") {
        return usage_error(i18n::text({"projector needs status, on, off, input CODE, blank on|off or probe HOST",
                                       "projector 需要 status、on、off、input 代码、blank on|off 或 probe 主机"}));
    }
    pj::endpoint e;
    bool have_host = false;
    for (size_t i = 2; i < a.size(); ++i) {
        if (a[i] == "--password-file" && i + 1 < a.size()) {
            // A secret never goes on the command line (ps shows it to every
            // user): from a file, or standard input for "-".
            std::string from(a[++i]);
            std::string text;
            if (from == "-") {
                std::getline(std::cin, text);
            } else {
                auto read = bbt::read_file(from, 4096);
                if (!read) {
                    return usage_error(i18n::format({"the password file cannot be read: {}", "无法读取密码文件：{}"},
                                                    read.error().what()));
                }
                text = read->substr(0, read->find('\n'));
            }
            if (!text.empty() && text.back() == '\r') text.pop_back();
            e.password = std::move(text);
        } else if (a[i] == "--password") {
            return usage_error(
                i18n::text({"give the PJLink password with --password-file FILE (or - for standard "
                            "input), never on the command line",
                            "请用 --password-file 文件（或 - 表示标准输入）提供 PJLink 密码，切勿写在命令行上"}));
        } else if (!a[i].starts_with("--") && !have_host) {
            if (!split_host(a[i], e)) {
                return usage_error(
                    i18n::format({"\"{}\" is not HOST or HOST:PORT", "“{}”不是 主机 或 主机:端口"}, a[i]));
            }
            have_host = true;
        } else {
            return usage_error(i18n::format({"unexpected \"{}\"", "多余的参数“{}”"}, a[i]));
        }
    }
    if (!have_host) return usage_error(i18n::text({"which projector? give HOST[:PORT]", "请给出投影机的 主机[:端口]"}));
    e.connect_timeout = std::min(opt.timeout, std::chrono::milliseconds(e.connect_timeout));
    boost::asio::io_context ioc;
    auto fut = boost::asio::co_spawn(ioc, pj::probe(ioc.get_executor(), e), boost::asio::use_future);
    ioc.run();
    auto info = fut.get();
    if (!info) return report(info.error(), opt);
    if (opt.json) {
        fmt::print("{}\n", json::serialize(to_json(*info)));
    } else {
        print(*info, e);
    }
    return exit_ok;
}

int run_class(const options& opt) {
    const auto& a = opt.args;
    if (a.size() == 2) {
        if (a[1] == "start") return run_request(opt, "class.start", {}, print_class_status);
        if (a[1] == "end") return run_request(opt, "class.end", {}, print_class_status);
        if (a[1] == "key") return run_request(opt, "class.key", {}, print_class_status);
        if (a[1] == "status") return run_request(opt, "class.status", {}, print_class_status);
    }
    fmt::print(stderr, "{}",
               i18n::text({"Usage: bbtctl class start|end|key|status\n", "用法：bbtctl class start|end|key|status\n"}));
    return exit_usage;
}

}  // namespace bbtctl
