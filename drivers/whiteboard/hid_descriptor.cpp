#include "bbt/drivers/whiteboard/hid_descriptor.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>

namespace bbt::drivers::hid {
namespace {

class hid_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.hid"; }
    std::string message(int ev) const override {
        switch (static_cast<hid_errc>(ev)) {
            case hid_errc::truncated: return "descriptor truncated";
            case hid_errc::long_item: return "long item";
            case hid_errc::reserved_item: return "unknown item";
            case hid_errc::bad_value: return "value out of range";
            case hid_errc::stack: return "unbalanced push/pop or collection";
            case hid_errc::too_large: return "descriptor too large";
            case hid_errc::empty: return "no report fields";
        }
        return "HID error";
    }
};

// The global item state, saved and restored by Push and Pop.
struct globals {
    uint16_t usage_page = 0;
    int32_t logical_min = 0;
    int32_t logical_max = 0;
    int32_t physical_min = 0;
    int32_t physical_max = 0;
    int32_t unit_exponent = 0;
    uint32_t unit = 0;
    uint32_t report_size = 0;
    uint32_t report_count = 0;
    uint8_t report_id = 0;
};

// The local item state, reset after every main item.
struct locals {
    std::vector<usage_code> usages;
    std::vector<uint8_t> sizes;  // the item size each usage was declared with
    usage_code usage_min = 0;
    uint8_t usage_min_size = 0;
    bool has_usage_min = false;
    int delimiter_depth = 0;
    int delimiter_branch = 0;
};

// Global stack depth as in the kernel (HID_GLOBAL_STACK_SIZE).
constexpr size_t max_push_depth = 4;
// Collection nesting; real devices use fewer than 10.
constexpr size_t max_collection_depth = 64;
constexpr size_t max_collections = 4096;

error fail(hid_errc code, size_t offset, std::string_view what) {
    return error(
        code, i18n::format({"invalid HID report descriptor at byte {}: {}", "HID 报告描述符第 {} 字节无效：{}"}, offset,
                           what));
}

uint32_t udata(std::span<const uint8_t> d) {
    uint32_t v = 0;
    for (size_t i = 0; i < d.size(); ++i)
        v |= static_cast<uint32_t>(d[i]) << (8 * i);
    return v;
}

int32_t sdata(std::span<const uint8_t> d) {
    switch (d.size()) {
        case 1: return static_cast<int8_t>(d[0]);
        case 2: return static_cast<int16_t>(udata(d));
        case 4: return static_cast<int32_t>(udata(d));
        default: return 0;
    }
}

class parser {
public:
    result<descriptor> run(std::span<const uint8_t> bytes) {
        size_t pos = 0;
        while (pos < bytes.size()) {
            size_t at = pos;
            uint8_t prefix = bytes[pos++];
            if (prefix == 0xfe) {
                return fail(hid_errc::long_item, at,
                            i18n::text({"a long item, which HID 1.11 defines none of (the kernel refuses it too)",
                                        "长项目，HID 1.11 未定义任何长项目（内核同样拒绝）"}));
            }
            static constexpr std::array<size_t, 4> sizes{0, 1, 2, 4};
            size_t size = sizes[prefix & 3];
            if (bytes.size() - pos < size) {
                return fail(hid_errc::truncated, at,
                            i18n::format({"item 0x{:02x} needs {} data byte(s) but the descriptor ends",
                                          "项目 0x{:02x} 需要 {} 个数据字节，但描述符已结束"},
                                         prefix, size));
            }
            auto data = bytes.subspan(pos, size);
            pos += size;
            uint8_t type = (prefix >> 2) & 3;
            uint8_t tag = prefix >> 4;
            result<void> r;
            switch (type) {
                case 0: r = main_item(tag, data, at); break;
                case 1: r = global_item(tag, data, at); break;
                case 2: r = local_item(tag, data, at); break;
                default: break;  // reserved short items are skipped, as the kernel does
            }
            if (!r) return r.error();
        }
        if (!open_.empty()) {
            return fail(hid_errc::stack, bytes.size(),
                        i18n::format({"{} collection(s) never closed", "有 {} 个集合未关闭"}, open_.size()));
        }
        if (local_.delimiter_depth != 0) {
            return fail(hid_errc::stack, bytes.size(), i18n::text({"a delimiter set never closed", "分隔符集未关闭"}));
        }
        if (out_.reports.empty()) {
            return fail(hid_errc::empty, bytes.size(),
                        i18n::text({"no Input, Output or Feature item", "没有任何 Input、Output 或 Feature 项目"}));
        }
        return std::move(out_);
    }

private:
    result<void> global_item(uint8_t tag, std::span<const uint8_t> d, size_t at) {
        switch (tag) {
            case 0: g_.usage_page = static_cast<uint16_t>(udata(d)); break;
            case 1: g_.logical_min = sdata(d); break;
            case 2: g_.logical_max = g_.logical_min < 0 ? sdata(d) : static_cast<int32_t>(udata(d)); break;
            case 3: g_.physical_min = sdata(d); break;
            case 4: g_.physical_max = g_.physical_min < 0 ? sdata(d) : static_cast<int32_t>(udata(d)); break;
            case 5: {
                // A 4-bit two's complement nibble, or a plain signed value.
                int32_t raw = sdata(d);
                g_.unit_exponent = (raw & ~0xf) == 0 ? (raw & 0x8 ? raw - 16 : raw) : raw;
                break;
            }
            case 6: g_.unit = udata(d); break;
            case 7:
                g_.report_size = udata(d);
                if (g_.report_size > max_field_bits) {
                    return fail(hid_errc::bad_value, at,
                                i18n::format({"Report Size {} exceeds {} bits", "Report Size {} 超过 {} 位"},
                                             g_.report_size, max_field_bits));
                }
                break;
            case 8: {
                uint32_t id = udata(d);
                if (id == 0 || id > 255) {
                    return fail(hid_errc::bad_value, at,
                                i18n::format({"Report ID {} is not 1 to 255", "Report ID {} 不在 1 到 255 之间"}, id));
                }
                g_.report_id = static_cast<uint8_t>(id);
                out_.uses_report_ids = true;
                break;
            }
            case 9:
                g_.report_count = udata(d);
                if (g_.report_count > max_usages) {
                    return fail(hid_errc::too_large, at,
                                i18n::format({"Report Count {} exceeds {}", "Report Count {} 超过 {}"}, g_.report_count,
                                             max_usages));
                }
                break;
            case 10:
                if (stack_.size() >= max_push_depth) {
                    return fail(hid_errc::stack, at,
                                i18n::format({"Push nested deeper than {}", "Push 嵌套超过 {} 层"}, max_push_depth));
                }
                stack_.push_back(g_);
                break;
            case 11:
                if (stack_.empty()) {
                    return fail(hid_errc::stack, at, i18n::text({"Pop without a Push", "Pop 前没有 Push"}));
                }
                g_ = stack_.back();
                stack_.pop_back();
                break;
            default:
                return fail(hid_errc::reserved_item, at,
                            i18n::format({"unknown global item tag {}", "未知的全局项目标签 {}"}, tag));
        }
        return {};
    }

    result<void> add_usage(usage_code u, uint8_t size, size_t at) {
        if (local_.usages.size() >= max_usages) {
            return fail(
                hid_errc::too_large, at,
                i18n::format({"more than {} usages before one main item", "单个主项目前的用法超过 {} 个"}, max_usages));
        }
        // Short usages take the usage page in force now; see complete_usages().
        if (size <= 2) u = make_usage(g_.usage_page, static_cast<uint16_t>(u & 0xffff));
        local_.usages.push_back(u);
        local_.sizes.push_back(size);
        return {};
    }

    result<void> local_item(uint8_t tag, std::span<const uint8_t> d, size_t at) {
        uint32_t v = udata(d);
        auto size = static_cast<uint8_t>(d.size());
        switch (tag) {
            case 0:                                          // Usage
                if (local_.delimiter_branch > 1) return {};  // alternatives after the first are ignored
                return add_usage(v, size, at);
            case 1:  // Usage Minimum
                if (local_.delimiter_branch > 1) return {};
                local_.usage_min = v;
                local_.usage_min_size = size;
                local_.has_usage_min = true;
                return {};
            case 2: {  // Usage Maximum
                if (local_.delimiter_branch > 1) return {};
                uint32_t min = local_.has_usage_min ? local_.usage_min : 0;
                // Extended usages carry the page; short ones count within the page.
                if (size <= 2 && local_.usage_min_size <= 2) {
                    min &= 0xffff;
                    v &= 0xffff;
                }
                if (v < min) {
                    return fail(hid_errc::bad_value, at,
                                i18n::format({"Usage Maximum 0x{:x} is below Usage Minimum 0x{:x}",
                                              "Usage Maximum 0x{:x} 小于 Usage Minimum 0x{:x}"},
                                             v, min));
                }
                if (v - min >= max_usages - local_.usages.size()) {
                    return fail(
                        hid_errc::too_large, at,
                        i18n::format({"a usage range of {} usages exceeds {}", "用法范围包含 {} 个用法，超过 {}"},
                                     uint64_t{v} - min + 1, max_usages));
                }
                for (uint32_t u = min; u <= v; ++u) {
                    if (auto r = add_usage(u, std::max(size, local_.usage_min_size), at); !r) return r;
                    if (u == std::numeric_limits<uint32_t>::max()) break;
                }
                local_.has_usage_min = false;
                return {};
            }
            case 10:  // Delimiter
                if (v == 1) {
                    if (local_.delimiter_depth != 0) {
                        return fail(hid_errc::stack, at, i18n::text({"nested delimiter sets", "分隔符集嵌套"}));
                    }
                    ++local_.delimiter_depth;
                    ++local_.delimiter_branch;
                } else {
                    if (local_.delimiter_depth < 1) {
                        return fail(hid_errc::stack, at,
                                    i18n::text({"a delimiter closes a set never opened", "分隔符关闭了未打开的集"}));
                    }
                    --local_.delimiter_depth;
                }
                return {};
            default:  // designators and strings: not needed for the layout
                return {};
        }
    }

    // As the kernel: short usages declared before the last Usage Page take
    // that page too, back to the first one that already has it.
    void complete_usages() {
        for (size_t i = local_.usages.size(); i-- > 0;) {
            if (local_.sizes[i] > 2) continue;
            if (usage_page(local_.usages[i]) == g_.usage_page) break;
            local_.usages[i] = make_usage(g_.usage_page, usage_id(local_.usages[i]));
        }
    }

    report& report_for(report_type type, uint8_t id) {
        for (auto& r : out_.reports) {
            if (r.type == type && r.id == id) return r;
        }
        out_.reports.push_back(report{type, id, id > 0 ? 8u : 0u, {}});
        return out_.reports.back();
    }

    result<void> main_item(uint8_t tag, std::span<const uint8_t> d, size_t at) {
        uint32_t v = udata(d);
        result<void> r;
        switch (tag) {
            case 8: r = add_field(report_type::input, v, at); break;
            case 9: r = add_field(report_type::output, v, at); break;
            case 11: r = add_field(report_type::feature, v, at); break;
            case 10: {  // Collection
                if (open_.size() >= max_collection_depth || out_.collections.size() >= max_collections) {
                    return fail(hid_errc::too_large, at, i18n::text({"too many collections", "集合过多"}));
                }
                complete_usages();
                auto raw = static_cast<uint8_t>(v & 0xff);
                int parent = open_.empty() ? -1 : open_.back();
                int app = parent < 0 ? -1 : out_.collections[static_cast<size_t>(parent)].application;
                int index = static_cast<int>(out_.collections.size());
                if (raw == 1) app = index;
                out_.collections.push_back(
                    collection{raw <= 6 ? static_cast<collection_type>(raw) : collection_type::logical, raw,
                               local_.usages.empty() ? 0 : local_.usages.front(), parent, app});
                open_.push_back(index);
                break;
            }
            case 12:  // End Collection
                if (open_.empty()) {
                    return fail(
                        hid_errc::stack, at,
                        i18n::text({"End Collection without a Collection", "End Collection 前没有 Collection"}));
                }
                open_.pop_back();
                break;
            default:
                return fail(hid_errc::reserved_item, at,
                            i18n::format({"unknown main item tag {}", "未知的主项目标签 {}"}, tag));
        }
        if (!r) return r;
        local_ = locals{};
        return {};
    }

    result<void> add_field(report_type type, uint32_t flags, size_t at) {
        complete_usages();
        report& rep = report_for(type, g_.report_id);
        uint64_t bits = uint64_t{g_.report_size} * g_.report_count;
        if (rep.size_bits + bits > max_report_bits) {
            return fail(hid_errc::too_large, at,
                        i18n::format({"report {} grows past {} bytes", "报告 {} 超过 {} 字节"}, g_.report_id,
                                     max_report_bits / 8));
        }
        field f{type,
                g_.report_id,
                rep.size_bits,
                g_.report_size,
                g_.report_count,
                g_.logical_min,
                g_.logical_max,
                g_.physical_min,
                g_.physical_max,
                g_.unit,
                g_.unit_exponent,
                flags & 0x1ff,
                std::move(local_.usages),
                open_.empty() ? -1 : open_.back()};
        rep.size_bits += static_cast<uint32_t>(bits);
        if (g_.report_count > 0 && g_.report_size > 0) rep.fields.push_back(std::move(f));
        return {};
    }

    descriptor out_;
    globals g_;
    locals local_;
    std::vector<globals> stack_;
    std::vector<int> open_;
};

}  // namespace

const char* to_string(report_type t) noexcept {
    switch (t) {
        case report_type::input: return "input";
        case report_type::output: return "output";
        case report_type::feature: return "feature";
    }
    return "?";
}

std::vector<std::string> flag_names(uint32_t flags) {
    static constexpr std::array<const char*, 9> names{"constant",   "variable",  "relative",
                                                      "wrap",       "nonlinear", "no_preferred",
                                                      "null_state", "volatile",  "buffered_bytes"};
    std::vector<std::string> out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (flags & (1u << i)) out.emplace_back(names[i]);
    }
    return out;
}

const report* descriptor::find(report_type type, uint8_t id) const noexcept {
    for (const auto& r : reports) {
        if (r.type == type && r.id == id) return &r;
    }
    return nullptr;
}

std::vector<usage_code> descriptor::applications() const {
    std::vector<usage_code> out;
    for (const auto& c : collections) {
        if (c.parent < 0 && c.type == collection_type::application) out.push_back(c.usage);
    }
    return out;
}

usage_code descriptor::application_of(int collection) const noexcept {
    if (collection < 0 || static_cast<size_t>(collection) >= collections.size()) return 0;
    int app = collections[static_cast<size_t>(collection)].application;
    return app < 0 ? 0 : collections[static_cast<size_t>(app)].usage;
}

const std::error_category& hid_category() noexcept {
    static const hid_category_impl c;
    return c;
}

std::error_code make_error_code(hid_errc e) noexcept { return {static_cast<int>(e), hid_category()}; }

result<descriptor> parse_descriptor(std::span<const uint8_t> bytes) { return parser{}.run(bytes); }

result<std::vector<uint8_t>> parse_hex(std::string_view text) {
    std::vector<uint8_t> out;
    size_t i = 0;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    while (i < text.size()) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
            continue;
        }
        int hi = hex(c);
        int lo = i + 1 < text.size() ? hex(text[i + 1]) : -1;
        bool ends = i + 2 >= text.size() || text[i + 2] == ' ' || text[i + 2] == '\t' || text[i + 2] == '\n' ||
                    text[i + 2] == '\r';
        if (hi < 0 || lo < 0 || !ends) {
            return error(
                hid_errc::bad_value,
                i18n::format({"not hex bytes at character {}: expected pairs of hex digits separated by "
                              "spaces, like \"05 0d 09 04\"",
                              "第 {} 个字符处不是十六进制字节：应为以空格分隔的两位十六进制数，如“05 0d 09 04”"},
                             i + 1));
        }
        out.push_back(static_cast<uint8_t>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

int32_t resolution_per_mm(const field& f) {
    int64_t logical = int64_t{f.logical_max} - f.logical_min;
    int64_t physical = int64_t{f.physical_max} - f.physical_min;
    if (logical <= 0 || physical <= 0) return 0;
    // A descriptor may give any 32-bit exponent; beyond ±20 no resolution fits
    // in 32 bits anyway, and the adjustment below must not overflow.
    if (f.unit_exponent < -20 || f.unit_exponent > 20) return 0;
    int32_t exponent = f.unit_exponent;
    if (f.unit == 0x11) {  // centimetres
        exponent += 1;
    } else if (f.unit == 0x13) {  // inches
        physical *= 254;
        exponent -= 1;
    } else {
        return 0;
    }
    constexpr int64_t limit = std::numeric_limits<int32_t>::max();
    for (; exponent < 0; ++exponent) {
        logical *= 10;
        if (logical > limit) return 0;  // the kernel gives up on overflow too
    }
    for (; exponent > 0; --exponent) {
        physical *= 10;
        if (physical > limit) return 0;
    }
    if (physical > limit) return 0;
    return static_cast<int32_t>((logical + physical / 2) / physical);
}

}  // namespace bbt::drivers::hid
