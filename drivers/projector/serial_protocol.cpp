#include "bbt/drivers/projector/serial_protocol.hpp"

#include "bbt/base/i18n.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bbt::drivers::serial {
namespace {

using pjlink::pjlink_errc;
using pjlink::power;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == '\r' || s.front() == '\n' || s.front() == ' ' || s.front() == '\0'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\0'))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
           });
}

bool istarts(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// The answer without its ending and surrounding line breaks.
std::string_view body(const command_set& cs, std::string_view answer) {
    answer = trim(answer);
    if (!cs.answer_end.empty() && answer.ends_with(trim(cs.answer_end))) {
        answer.remove_suffix(trim(cs.answer_end).size());
    }
    return trim(answer);
}

result<void> check_refusals(const command_set& cs, std::string_view b, std::string_view what) {
    for (const auto& busy : cs.busy_answers) {
        if (iequals(b, busy)) {
            return error(pjlink_errc::unavailable_time,
                         i18n::format({"the projector cannot do {} now, it is busy (warming up or cooling down); "
                                       "try again shortly",
                                       "投影机正忙（预热或散热中），暂时无法执行 {}；请稍后重试"},
                                      what));
        }
    }
    for (const auto& refused : cs.refused_answers) {
        if (iequals(b, refused)) {
            return error(pjlink_errc::undefined_command,
                         i18n::format({"the projector does not support {} in the {} command set; check the "
                                       "command set configured for its model",
                                       "投影机不支持 {} 命令集中的 {}；请核对为此型号配置的命令集"},
                                      cs.name, what));
        }
    }
    return {};
}

error unreadable(const command_set& cs, std::string_view what, std::string_view answer) {
    return error(pjlink_errc::malformed, i18n::format({"the projector's answer to {} cannot be read as {}: \"{}\"",
                                                       "无法按 {1} 命令集读取投影机对 {0} 的应答：“{2}”"},
                                                      what, cs.name, pjlink::decode_text(answer.substr(0, 40))));
}

}  // namespace

const std::vector<command_set>& command_sets() {
    static const std::vector<command_set> all = [] {
        command_set epson;
        epson.name = "epson-escvp21";
        epson.baud = 9600;
        epson.power_on = "PWR ON\r";
        epson.power_off = "PWR OFF\r";
        epson.power_query = "PWR?\r";
        epson.lamp_query = "LAMP?\r";
        epson.input_prefix = "SOURCE ";
        epson.line_end = "\r";
        epson.blank_on = "MUTE ON\r";
        epson.blank_off = "MUTE OFF\r";
        epson.answer_end = ":";
        epson.power_prefix = "PWR=";
        epson.lamp_prefix = "LAMP=";
        epson.power_values = {{"00", power::standby}, {"01", power::on},      {"02", power::warming},
                              {"03", power::cooling}, {"04", power::standby}, {"05", power::standby},
                              {"09", power::standby}};
        epson.busy_answers = {"ERR"};

        command_set benq;
        benq.name = "benq";
        benq.baud = 115200;
        benq.power_on = "\r*pow=on#\r";
        benq.power_off = "\r*pow=off#\r";
        benq.power_query = "\r*pow=?#\r";
        benq.lamp_query = "\r*ltim=?#\r";
        benq.input_prefix = "\r*sour=";
        benq.line_end = "#\r";
        benq.blank_on = "\r*blank=on#\r";
        benq.blank_off = "\r*blank=off#\r";
        benq.answer_end = "#";
        benq.power_prefix = "*POW=";
        benq.lamp_prefix = "*LTIM=";
        benq.power_values = {{"ON", power::on}, {"OFF", power::standby}};
        benq.busy_answers = {"*Block item", "Block item"};
        benq.refused_answers = {"*Illegal format", "Illegal format"};
        benq.echoes = true;
        return std::vector<command_set>{epson, benq};
    }();
    return all;
}

result<command_set> find_command_set(std::string_view name) {
    std::string known;
    for (const auto& cs : command_sets()) {
        if (cs.name == name) return cs;
        known += (known.empty() ? "" : ", ") + cs.name;
    }
    return error(pjlink_errc::undefined_command,
                 i18n::format({"no serial command set is named \"{}\"; the known ones are: {}",
                               "没有名为“{}”的串口命令集；可用的命令集为：{}"},
                              name, known));
}

std::optional<std::string> take_answer(const command_set& cs, std::string& buffer, std::string_view sent,
                                       bool& echo_seen) {
    const std::string_view end = trim(cs.answer_end).empty() ? std::string_view(cs.answer_end) : trim(cs.answer_end);
    for (;;) {
        size_t at = buffer.find(end);
        if (at == std::string::npos) return std::nullopt;
        std::string answer = buffer.substr(0, at + end.size());
        buffer.erase(0, at + end.size());
        if (cs.echoes && !echo_seen && trim(answer) == trim(sent)) {
            echo_seen = true;  // the projector repeating us
            continue;
        }
        return answer;
    }
}

result<power> parse_power(const command_set& cs, std::string_view answer) {
    auto b = body(cs, answer);
    if (auto r = check_refusals(cs, b, "power"); !r) return r.error();
    if (!istarts(b, cs.power_prefix)) return unreadable(cs, "power", answer);
    auto value = trim(b.substr(cs.power_prefix.size()));
    for (const auto& [text, p] : cs.power_values) {
        if (iequals(value, text)) return p;
    }
    return unreadable(cs, "power", answer);
}

result<int64_t> parse_lamp_hours(const command_set& cs, std::string_view answer) {
    auto b = body(cs, answer);
    if (auto r = check_refusals(cs, b, "lamp"); !r) return r.error();
    if (!istarts(b, cs.lamp_prefix)) return unreadable(cs, "lamp", answer);
    auto value = trim(b.substr(cs.lamp_prefix.size()));  // BenQ: "*LTIM= 1383"
    int64_t hours = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), hours);
    if (ec != std::errc() || p != value.data() + value.size() || hours < 0 || value.size() > 7) {
        return unreadable(cs, "lamp", answer);
    }
    return hours;
}

result<void> parse_ack(const command_set& cs, std::string_view answer) {
    auto b = body(cs, answer);
    return check_refusals(cs, b, "the command");
}

}  // namespace bbt::drivers::serial
