#include "bbt/drivers/whiteboard/hid_recording.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace bbt::drivers::hid {
namespace {

error bad_line(size_t line, std::string_view what) {
    return error(
        hid_errc::bad_value,
        i18n::format({"invalid hid-recorder file, line {}: {}", "hid-recorder 文件第 {} 行无效：{}"}, line, what));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::string_view next_word(std::string_view& s) {
    s = trim(s);
    auto end = s.find_first_of(" \t");
    std::string_view w = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view() : s.substr(end);
    return w;
}

template <class T>
bool parse_number(std::string_view w, T& out, int base) {
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), out, base);
    return ec == std::errc() && p == w.data() + w.size();
}

// "<len> <hex ...>": the bytes, which must number <len>.
result<std::vector<uint8_t>> sized_bytes(std::string_view rest, size_t line) {
    size_t len = 0;
    if (!parse_number(next_word(rest), len, 10)) {
        return bad_line(line, i18n::text({"expected a decimal byte count", "应为十进制字节数"}));
    }
    auto bytes = parse_hex(rest);
    if (!bytes) return bad_line(line, bytes.error().message());
    if (bytes->size() != len) {
        return bad_line(
            line, i18n::format({"says {} bytes but holds {}", "声明 {} 个字节，实际为 {} 个"}, len, bytes->size()));
    }
    return bytes;
}

std::string hex(const std::vector<uint8_t>& bytes) {
    std::string out;
    out.reserve(bytes.size() * 3);
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i) out += ' ';
        out += fmt::format("{:02x}", bytes[i]);
    }
    return out;
}

}  // namespace

result<void> recording_reader::feed(std::string_view line) {
    ++line_no_;
    line = trim(line);
    if (line.empty()) return {};
    if (line.front() == '#') {
        in_comment_ = true;
        return {};
    }
    if (line.size() < 2 || line[1] != ':') {
        // Recordings annotated by hand carry comments over several lines.
        if (in_comment_) return {};
        return bad_line(line_no_, i18n::text({"expected a line such as \"E: 0.000000 8 01 ...\"",
                                              "应为形如“E: 0.000000 8 01 ...”的行"}));
    }
    in_comment_ = false;
    char kind = line[0];
    std::string_view rest = line.substr(2);
    switch (kind) {
        case 'R': {
            if (have_descriptor_) {
                return bad_line(line_no_, i18n::text({"a second descriptor: record one device per file",
                                                      "出现第二个描述符：每个文件只应记录一个设备"}));
            }
            auto bytes = sized_bytes(rest, line_no_);
            if (!bytes) return bytes.error();
            rec_.descriptor = std::move(*bytes);
            have_descriptor_ = true;
            break;
        }
        case 'N': rec_.name = std::string(trim(rest)); break;
        case 'I': {
            uint16_t v[3]{};
            for (auto& x : v) {
                if (!parse_number(next_word(rest), x, 16)) {
                    return bad_line(line_no_, i18n::text({"expected bus, vendor and product in hex",
                                                          "应为十六进制的总线、厂商和产品编号"}));
                }
            }
            rec_.bus = v[0];
            rec_.vendor = v[1];
            rec_.product = v[2];
            have_ids_ = true;
            break;
        }
        case 'E': {
            std::string_view when = next_word(rest);
            double t = 0;
            auto [p, ec] = std::from_chars(when.data(), when.data() + when.size(), t);
            if (ec != std::errc() || p != when.data() + when.size() || !std::isfinite(t) || t < 0) {
                return bad_line(line_no_, i18n::text({"expected a time in seconds, such as 0.012998",
                                                      "应为以秒计的时间，如 0.012998"}));
            }
            auto bytes = sized_bytes(rest, line_no_);
            if (!bytes) return bytes.error();
            if (bytes->empty()) return bad_line(line_no_, i18n::text({"an empty report", "空报告"}));
            rec_.reports.push_back({t, std::move(*bytes)});
            break;
        }
        default: break;  // P:, D: and future kinds carry nothing the replay needs
    }
    return {};
}

result<void> recording_reader::finish() const {
    if (!have_descriptor_) {
        return error(hid_errc::empty, i18n::text({"the hid-recorder file has no \"R:\" descriptor line",
                                                  "hid-recorder 文件中没有“R:”描述符行"}));
    }
    return {};
}

result<recording> parse_recording(std::string_view text) {
    recording_reader reader;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (auto r = reader.feed(line); !r) return r.error();
    }
    if (auto r = reader.finish(); !r) return r.error();
    return std::move(reader.rec());
}

std::string serialize(const recording& r) {
    std::string out = fmt::format("R: {} {}\n", r.descriptor.size(), hex(r.descriptor));
    if (!r.name.empty()) out += fmt::format("N: {}\n", r.name);
    out += fmt::format("I: {:x} {:04x} {:04x}\n", r.bus, r.vendor, r.product);
    for (const auto& e : r.reports) {
        out += fmt::format("E: {:.6f} {} {}\n", e.time, e.data.size(), hex(e.data));
    }
    return out;
}

}  // namespace bbt::drivers::hid
