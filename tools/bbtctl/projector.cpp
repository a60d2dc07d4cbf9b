#include "projector.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/drivers/projector/pjlink_client.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace bbtctl {
namespace {

namespace i18n = bbt::i18n;
namespace json = boost::json;
namespace pj = bbt::drivers::pjlink;

int usage_error(std::string_view why) {
    fmt::print(stderr, "bbtctl: {}\n", why);
    fmt::print(stderr, "{}",
               i18n::text({"Usage: bbtctl projector probe HOST[:PORT] [--password P] [--json]\n",
                           "用法：bbtctl projector probe 主机[:端口] [--password 密码] [--json]\n"}));
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
    auto res = [](const std::optional<pj::resolution>& r) {
        return r ? json::value(fmt::format("{}x{}", r->width, r->height)) : json::value(nullptr);
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
    if (p.input_resolution) {
        line(i18n::text({"signal", "输入信号"}),
             fmt::format("{}x{}", p.input_resolution->width, p.input_resolution->height));
    }
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

}  // namespace

int run_projector(const options& opt) {
    const auto& a = opt.args;
    if (a.size() < 2 || a[1] != "probe") {
        return usage_error(i18n::text({"projector needs a subcommand", "projector 需要子命令"}));
    }
    pj::endpoint e;
    bool have_host = false;
    for (size_t i = 2; i < a.size(); ++i) {
        if (a[i] == "--password" && i + 1 < a.size()) {
            e.password = std::string(a[++i]);
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

}  // namespace bbtctl
