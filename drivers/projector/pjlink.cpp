#include "bbt/drivers/projector/pjlink.hpp"

#include "bbt/base/digest.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/utf8.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bbt::drivers::pjlink {
namespace {

class category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.pjlink"; }
    std::string message(int ev) const override {
        switch (static_cast<pjlink_errc>(ev)) {
            case pjlink_errc::malformed: return "not a PJLink line";
            case pjlink_errc::undefined_command: return "undefined command (ERR1)";
            case pjlink_errc::out_of_parameter: return "out of parameter (ERR2)";
            case pjlink_errc::unavailable_time: return "unavailable time (ERR3)";
            case pjlink_errc::projector_failure: return "projector failure (ERR4)";
            case pjlink_errc::authentication_failed: return "authentication failed (ERRA)";
            case pjlink_errc::password_required: return "password required";
            case pjlink_errc::unexpected_reply: return "reply to another command";
            case pjlink_errc::line_too_long: return "line too long";
        }
        return "PJLink error";
    }
};

error fail(pjlink_errc code, std::string_view message) { return error(code, message); }

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
           });
}

// The body's words, split at single or repeated spaces.
std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ')
            ++i;
        size_t j = i;
        while (j < s.size() && s[j] != ' ')
            ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::optional<int64_t> digits(std::string_view s, size_t max_digits) {
    if (s.empty() || s.size() > max_digits) return std::nullopt;
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

error bad_body(std::string_view what, std::string_view body) {
    return fail(pjlink_errc::malformed, i18n::format({"the projector's answer to {} cannot be read: \"{}\"",
                                                      "无法读取投影机对 {} 的应答：“{}”"},
                                                     what, decode_text(body.substr(0, 64))));
}

// A command's four letters.
bool valid_command(std::string_view c) {
    return c.size() == 4 && std::all_of(c.begin(), c.end(), [](unsigned char ch) { return std::isalnum(ch) != 0; });
}

}  // namespace

const std::error_category& pjlink_category() noexcept {
    static const category_impl c;
    return c;
}
std::error_code make_error_code(pjlink_errc e) noexcept { return {static_cast<int>(e), pjlink_category()}; }

result<greeting> parse_greeting(std::string_view line) {
    auto not_pjlink = [&] {
        return fail(pjlink_errc::malformed,
                    i18n::format({"this is not a PJLink projector: it greeted with \"{}\" instead of \"PJLINK 0\" or "
                                  "\"PJLINK 1 <random>\"; check the address and port (PJLink uses 4352)",
                                  "这不是 PJLink 投影机：它的问候是“{}”，而不是“PJLINK 0”或“PJLINK 1 <随机数>”；"
                                  "请检查地址和端口（PJLink 使用 4352）"},
                                 decode_text(line.substr(0, 40))));
    };
    if (line.size() < 8 || !iequals(line.substr(0, 7), "PJLINK ")) return not_pjlink();
    auto rest = line.substr(7);
    if (iequals(rest, "ERRA")) {
        return fail(pjlink_errc::authentication_failed,
                    i18n::text({"the projector refused the password (PJLINK ERRA); check the PJLink password set "
                                "on the projector",
                                "投影机拒绝了密码（PJLINK ERRA）；请核对投影机上设置的 PJLink 密码"}));
    }
    greeting g;
    if (rest == "0") return g;
    if (rest.size() == 10 && rest.substr(0, 2) == "1 " && is_hex(rest.substr(2))) {
        g.authentication = true;
        g.random = std::string(rest.substr(2));
        return g;
    }
    return not_pjlink();
}

std::string auth_digest(std::string_view random, std::string_view password) {
    std::string input(random);
    input += password;
    return digest::hex(digest::of(digest::algorithm::md5, input));
}

request query(std::string_view command, char cls) { return {cls, std::string(command), "?"}; }

std::string encode(const request& r, std::string_view digest) {
    std::string line(digest);
    line += '%';
    line += r.cls;
    line += r.command;
    line += ' ';
    line += r.param;
    line += '\r';
    return line;
}

result<received_request> parse_request(std::string_view line) {
    received_request out;
    size_t pct = line.find('%');
    if (pct == std::string_view::npos) {
        return fail(pjlink_errc::malformed, i18n::text({"a PJLink command starts with %", "PJLink 命令应以 % 开头"}));
    }
    if (pct != 0) {
        if (pct != 32 || !is_hex(line.substr(0, 32))) {
            return fail(pjlink_errc::malformed,
                        i18n::text({"what comes before % is not a 32-digit digest", "% 之前不是 32 位摘要"}));
        }
        out.digest = std::string(line.substr(0, 32));
    }
    auto cmd = line.substr(pct);
    if (cmd.size() < 7 || (cmd[1] != '1' && cmd[1] != '2') || !valid_command(cmd.substr(2, 4)) || cmd[6] != ' ') {
        return fail(pjlink_errc::malformed,
                    i18n::text({"a PJLink command is %, a class, four letters and a space", "PJLink 命令格式错误"}));
    }
    out.req.cls = cmd[1];
    out.req.command = upper(cmd.substr(2, 4));
    out.req.param = std::string(cmd.substr(7));
    return out;
}

std::string encode_reply(char cls, std::string_view command, std::string_view body) {
    std::string line = "%";
    line += cls;
    line += command;
    line += '=';
    line += body;
    line += '\r';
    return line;
}

result<reply> parse_reply(std::string_view line) {
    if (line.size() >= 6 && iequals(line.substr(0, 6), "PJLINK")) {
        if (line.size() >= 11 && iequals(line.substr(7), "ERRA")) {
            return fail(pjlink_errc::authentication_failed,
                        i18n::text({"the projector refused the password (PJLINK ERRA); check the PJLink password set "
                                    "on the projector",
                                    "投影机拒绝了密码（PJLINK ERRA）；请核对投影机上设置的 PJLink 密码"}));
        }
    }
    if (line.size() < 7 || line[0] != '%' || (line[1] != '1' && line[1] != '2') || !valid_command(line.substr(2, 4)) ||
        line[6] != '=') {
        return fail(pjlink_errc::malformed,
                    i18n::format({"the projector answered something that is not a PJLink reply: \"{}\"",
                                  "投影机的应答不是 PJLink 格式：“{}”"},
                                 decode_text(line.substr(0, 40))));
    }
    reply r;
    r.cls = line[1];
    r.command = upper(line.substr(2, 4));
    r.body = std::string(line.substr(7));
    while (!r.body.empty() && r.body.back() == ' ')
        r.body.pop_back();
    if (iequals(r.body, "ERRA")) {
        return fail(pjlink_errc::authentication_failed,
                    i18n::text({"the projector refused the password (ERRA); check the PJLink password set on the "
                                "projector",
                                "投影机拒绝了密码（ERRA）；请核对投影机上设置的 PJLink 密码"}));
    }
    return r;
}

result<void> check_body(const reply& r) {
    if (r.body.size() != 4 || !iequals(r.body.substr(0, 3), "ERR")) return {};
    switch (r.body[3]) {
        case '1':
            return fail(
                pjlink_errc::undefined_command,
                i18n::format({"the projector does not support {} (ERR1)", "投影机不支持 {}（ERR1）"}, r.command));
        case '2':
            return fail(pjlink_errc::out_of_parameter,
                        i18n::format({"the projector does not accept that value for {} (ERR2)",
                                      "投影机不接受 {} 的此参数（ERR2）"},
                                     r.command));
        case '3':
            return fail(pjlink_errc::unavailable_time,
                        i18n::format({"the projector cannot do {} now, it is busy (ERR3: warming up, cooling down or "
                                      "switching); try again shortly",
                                      "投影机正忙，暂时无法执行 {}（ERR3：预热、散热或切换中）；请稍后重试"},
                                     r.command));
        case '4':
            return fail(pjlink_errc::projector_failure,
                        i18n::format({"the projector reports a failure (ERR4) to {}; see its error status",
                                      "投影机对 {} 报告故障（ERR4）；请查看其错误状态"},
                                     r.command));
        default: return {};
    }
}

void line_reader::feed(std::string_view bytes) {
    for (char c : bytes) {
        if (c == '\0') continue;
        buffer_ += c;
    }
}

std::optional<result<std::string>> line_reader::next() {
    for (;;) {
        size_t end = buffer_.find_first_of("\r\n");
        if (end == std::string::npos) {
            if (buffer_.size() > max_line) {
                buffer_.clear();
                discarding_ = true;
                return result<std::string>(
                    fail(pjlink_errc::line_too_long,
                         i18n::format({"the projector sent a line longer than {} bytes", "投影机发送的行超过 {} 字节"},
                                      max_line)));
            }
            return std::nullopt;
        }
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        if (discarding_) {
            discarding_ = false;
            continue;
        }
        if (line.empty()) continue;
        if (line.size() + 1 > max_line) {
            return result<std::string>(
                fail(pjlink_errc::line_too_long,
                     i18n::format({"the projector sent a line longer than {} bytes", "投影机发送的行超过 {} 字节"},
                                  max_line)));
        }
        return result<std::string>(std::move(line));
    }
}

result<power> decode_power(std::string_view body) {
    if (body.size() == 1 && body[0] >= '0' && body[0] <= '3') return static_cast<power>(body[0] - '0');
    return bad_body("POWR", body);
}

std::string_view to_string(power p) noexcept {
    switch (p) {
        case power::standby: return "standby";
        case power::on: return "on";
        case power::cooling: return "cooling";
        case power::warming: return "warming";
    }
    return "standby";
}

bool error_status::any_warning() const noexcept {
    return std::any_of(flags.begin(), flags.end(), [](uint8_t f) { return f == 1; });
}
bool error_status::any_error() const noexcept {
    return std::any_of(flags.begin(), flags.end(), [](uint8_t f) { return f == 2; });
}

result<error_status> decode_error_status(std::string_view body) {
    if (body.size() != 6) return bad_body("ERST", body);
    error_status e;
    for (size_t i = 0; i < 6; ++i) {
        if (body[i] < '0' || body[i] > '2') return bad_body("ERST", body);
        e.flags[i] = static_cast<uint8_t>(body[i] - '0');
    }
    return e;
}

result<std::vector<lamp>> decode_lamps(std::string_view body) {
    auto w = words(body);
    if (w.empty() || w.size() % 2 != 0 || w.size() > 16) return bad_body("LAMP", body);
    std::vector<lamp> out;
    for (size_t i = 0; i < w.size(); i += 2) {
        auto hours = digits(w[i], 5);
        if (!hours || (w[i + 1] != "0" && w[i + 1] != "1")) return bad_body("LAMP", body);
        out.push_back({*hours, w[i + 1] == "1"});
    }
    return out;
}

result<input> decode_input(std::string_view body) {
    if (body.size() != 2 || body[0] < '1' || body[0] > '6') return bad_body("INPT", body);
    char t = static_cast<char>(std::toupper(static_cast<unsigned char>(body[1])));
    if (!((t >= '1' && t <= '9') || (t >= 'A' && t <= 'Z'))) return bad_body("INPT", body);
    return input{body[0], t};
}

result<std::vector<input>> decode_inputs(std::string_view body) {
    std::vector<input> out;
    auto w = words(body);
    if (w.size() > 64) return bad_body("INST", body);
    for (auto code : w) {
        auto in = decode_input(code);
        if (!in) return bad_body("INST", body);
        out.push_back(*in);
    }
    return out;
}

std::string_view input_type_name(char type) noexcept {
    switch (type) {
        case '1': return "RGB";
        case '2': return "VIDEO";
        case '3': return "DIGITAL";
        case '4': return "STORAGE";
        case '5': return "NETWORK";
        case '6': return "INTERNAL";
        default: return "?";
    }
}

result<av_mute> decode_av_mute(std::string_view body) {
    if (body.size() != 2 || (body[1] != '0' && body[1] != '1')) return bad_body("AVMT", body);
    bool on = body[1] == '1';
    switch (body[0]) {
        case '1': return av_mute{on, false};
        case '2': return av_mute{false, on};
        case '3': return av_mute{on, on};
        default: return bad_body("AVMT", body);
    }
}

result<int> decode_class(std::string_view body) {
    auto digit = std::find_if(body.begin(), body.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    if (digit == body.end()) return bad_body("CLSS", body);
    // A class this side does not know yet is spoken to as the highest it knows.
    return std::clamp(*digit - '0', 1, 2);
}

result<int64_t> decode_hours(std::string_view body) {
    auto h = digits(body, 5);
    if (!h) return bad_body("FILT", body);
    return *h;
}

result<resolution_reading> decode_resolution(std::string_view body) {
    using state = resolution_reading::state;
    if (body == "-") return resolution_reading{state::no_signal, {}};
    if (body == "*") return resolution_reading{state::unknown, {}};
    size_t x = body.find_first_of("xX");
    if (x == std::string_view::npos) return bad_body("IRES", body);
    auto w = digits(body.substr(0, x), 5), h = digits(body.substr(x + 1), 5);
    if (!w || !h) return bad_body("IRES", body);
    return resolution_reading{state::size, {static_cast<int>(*w), static_cast<int>(*h)}};
}

std::string search_line() { return "%2SRCH\r"; }

result<std::string> decode_mac(std::string_view body) {
    if (body.size() != 17) return bad_body("ACKN", body);
    for (size_t i = 0; i < 17; ++i) {
        bool colon = i % 3 == 2;
        if (colon ? body[i] != ':' : !std::isxdigit(static_cast<unsigned char>(body[i]))) return bad_body("ACKN", body);
    }
    std::string mac(body);
    for (char& c : mac)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return mac;
}

std::string decode_text(std::string_view body) {
    // Valid UTF-8 stays as it is; else GBK (GB18030), as Chinese projectors
    // name themselves; else each byte is a Latin-1 character.
    std::string out;
    auto printable = [&out](std::string_view text) {
        for (char c : text) {
            if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
        }
        return out;
    };
    if (utf8::valid(body)) return printable(body);
    if (auto gb = utf8::from_gb18030(body)) return printable(*gb);
    for (char ch : body) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xA0)) continue;
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

}  // namespace bbt::drivers::pjlink
