// HID report descriptors (HID 1.11, section 6.2.2), parsed as the Linux
// kernel's hid-core does, into the layout of every report the device sends
// and accepts.
//
// Pure: bytes in, a layout or an error out; no I/O. Fuzzed.
#pragma once

#include "bbt/base/error.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bbt::drivers::hid {

enum class report_type : uint8_t { input, output, feature };
[[nodiscard]] const char* to_string(report_type t) noexcept;

// Bits of an Input, Output or Feature item's data (HID 1.11, 6.2.2.5).
namespace field_flag {
inline constexpr uint32_t constant = 1u << 0;
inline constexpr uint32_t variable = 1u << 1;
inline constexpr uint32_t relative = 1u << 2;
inline constexpr uint32_t wrap = 1u << 3;
inline constexpr uint32_t nonlinear = 1u << 4;
inline constexpr uint32_t no_preferred = 1u << 5;
inline constexpr uint32_t null_state = 1u << 6;
inline constexpr uint32_t volatile_ = 1u << 7;
inline constexpr uint32_t buffered_bytes = 1u << 8;
}  // namespace field_flag

// The names of the set bits ("constant", "variable" ...), for people and JSON.
[[nodiscard]] std::vector<std::string> flag_names(uint32_t flags);

// An extended usage: usage page in the high 16 bits, usage id in the low.
using usage_code = uint32_t;
[[nodiscard]] constexpr usage_code make_usage(uint16_t page, uint16_t id) noexcept {
    return (static_cast<uint32_t>(page) << 16) | id;
}
[[nodiscard]] constexpr uint16_t usage_page(usage_code u) noexcept { return static_cast<uint16_t>(u >> 16); }
[[nodiscard]] constexpr uint16_t usage_id(usage_code u) noexcept { return static_cast<uint16_t>(u & 0xffff); }

namespace usages {
inline constexpr usage_code generic_desktop_x = make_usage(0x01, 0x30);
inline constexpr usage_code generic_desktop_y = make_usage(0x01, 0x31);
inline constexpr usage_code digitizer = make_usage(0x0d, 0x01);
inline constexpr usage_code pen = make_usage(0x0d, 0x02);
inline constexpr usage_code touch_screen = make_usage(0x0d, 0x04);
inline constexpr usage_code touch_pad = make_usage(0x0d, 0x05);
inline constexpr usage_code whiteboard = make_usage(0x0d, 0x06);
inline constexpr usage_code stylus = make_usage(0x0d, 0x20);
inline constexpr usage_code finger = make_usage(0x0d, 0x22);
inline constexpr usage_code device_configuration = make_usage(0x0d, 0x0e);
inline constexpr usage_code tip_pressure = make_usage(0x0d, 0x30);
inline constexpr usage_code in_range = make_usage(0x0d, 0x32);
inline constexpr usage_code touch = make_usage(0x0d, 0x33);
inline constexpr usage_code tip_switch = make_usage(0x0d, 0x42);
inline constexpr usage_code barrel_switch = make_usage(0x0d, 0x44);
inline constexpr usage_code eraser = make_usage(0x0d, 0x45);
inline constexpr usage_code confidence = make_usage(0x0d, 0x47);
inline constexpr usage_code width = make_usage(0x0d, 0x48);
inline constexpr usage_code height = make_usage(0x0d, 0x49);
inline constexpr usage_code input_mode = make_usage(0x0d, 0x52);
inline constexpr usage_code contact_id = make_usage(0x0d, 0x51);
inline constexpr usage_code contact_count = make_usage(0x0d, 0x54);
inline constexpr usage_code contact_max = make_usage(0x0d, 0x55);
inline constexpr usage_code scan_time = make_usage(0x0d, 0x56);
inline constexpr usage_code invert = make_usage(0x0d, 0x3c);
inline constexpr usage_code secondary_barrel_switch = make_usage(0x0d, 0x5a);
}  // namespace usages

enum class collection_type : uint8_t {
    physical = 0,
    application = 1,
    logical = 2,
    report = 3,
    named_array = 4,
    usage_switch = 5,
    usage_modifier = 6,
};

struct collection {
    collection_type type;
    uint8_t raw_type;  // as in the descriptor; 0x80-0xff are vendor-defined
    usage_code usage;
    int parent;       // index in descriptor::collections, -1 at the top
    int application;  // index of the enclosing application collection, or -1
};

// One Input, Output or Feature item: `count` elements of `bit_size` bits.
struct field {
    report_type type;
    uint8_t report_id;    // 0 when the device uses no report ids
    uint32_t bit_offset;  // from the start of the report, counting the report id byte
    uint32_t bit_size;
    uint32_t count;
    int32_t logical_min;
    int32_t logical_max;
    int32_t physical_min;
    int32_t physical_max;
    uint32_t unit;
    int32_t unit_exponent;
    uint32_t flags;
    // Variable fields: the usage of each element (the last declared usage
    // repeats when fewer are declared). Array fields: the usages an element
    // may take. Empty for padding.
    std::vector<usage_code> usages;
    int collection;  // innermost collection, -1 at the top

    [[nodiscard]] bool is_variable() const noexcept { return (flags & field_flag::variable) != 0; }
    [[nodiscard]] bool is_constant() const noexcept { return (flags & field_flag::constant) != 0; }
    // The usage of element `i` of a variable field.
    [[nodiscard]] usage_code usage_of(uint32_t i) const noexcept {
        return usages.empty() ? 0 : usages[std::min<size_t>(i, usages.size() - 1)];
    }
};

struct report {
    report_type type;
    uint8_t id;          // 0 when the device uses no report ids
    uint32_t size_bits;  // counting the report id byte
    std::vector<field> fields;
    [[nodiscard]] uint32_t size_bytes() const noexcept { return (size_bits + 7) / 8; }
};

struct descriptor {
    bool uses_report_ids = false;
    std::vector<report> reports;  // in order of first appearance
    std::vector<collection> collections;

    [[nodiscard]] const report* find(report_type type, uint8_t id) const noexcept;
    // The top-level application collections, in order (e.g. Touch Screen, Pen).
    [[nodiscard]] std::vector<usage_code> applications() const;
    // The usage of the application collection around `collection`; 0 outside any.
    [[nodiscard]] usage_code application_of(int collection) const noexcept;
};

// Errors of the HID code, each documented where it is raised.
enum class hid_errc {
    truncated = 1,  // an item runs past the end of the descriptor
    long_item,      // a long item (none is defined by HID 1.11)
    reserved_item,  // an item of the reserved type, or an unknown tag
    bad_value,      // a value out of range (report size, count, id ...)
    stack,          // push/pop or collection nesting out of balance
    too_large,      // more usages, fields or report bits than any device has
    empty,          // no Input, Output or Feature item at all
};
const std::error_category& hid_category() noexcept;
std::error_code make_error_code(hid_errc e) noexcept;

// Limits as in the kernel (HID_MAX_USAGES, HID_MAX_BUFFER_SIZE ...).
inline constexpr uint32_t max_usages = 12288;
inline constexpr uint32_t max_report_bits = 16384 * 8;
inline constexpr uint32_t max_field_bits = 256;

// Parses a report descriptor. Errors name the byte offset of the bad item.
[[nodiscard]] result<descriptor> parse_descriptor(std::span<const uint8_t> bytes);

// Reads a descriptor written as hex text ("05 0d 09 04 ..."), as in .rdesc
// files and hid-recorder's R: lines; whitespace separates bytes.
[[nodiscard]] result<std::vector<uint8_t>> parse_hex(std::string_view text);

// Resolution in units per millimetre, computed as the kernel's
// hidinput_calc_abs_res does; 0 when the unit is not a length.
[[nodiscard]] int32_t resolution_per_mm(const field& f);

}  // namespace bbt::drivers::hid

template <>
struct std::is_error_code_enum<bbt::drivers::hid::hid_errc> : std::true_type {};
