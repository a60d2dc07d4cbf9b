#include "bbt/drivers/whiteboard/mt_decoder.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace bbt::drivers::hid {
namespace {

constexpr usage_code win8_blob = make_usage(0xff00, 0xc5);

}  // namespace

value_location location_of(const field& f, uint32_t element) noexcept {
    return {f.bit_offset + element * f.bit_size, f.bit_size, f.logical_min < 0, true};
}

result<uint32_t> quirks_from_names(const std::vector<std::string>& names) {
    static constexpr std::array<std::pair<const char*, uint32_t>, 14> table{{
        {"NOT_SEEN_MEANS_UP", quirk::not_seen_means_up},
        {"SLOT_IS_CONTACTID", quirk::slot_is_contactid},
        {"ALWAYS_VALID", quirk::always_valid},
        {"VALID_IS_INRANGE", quirk::valid_is_inrange},
        {"VALID_IS_CONFIDENCE", quirk::valid_is_confidence},
        {"CONFIDENCE", quirk::confidence},
        {"SLOT_IS_CONTACTID_MINUS_ONE", quirk::slot_is_contactid_minus_one},
        {"NO_AREA", quirk::no_area},
        {"IGNORE_DUPLICATES", quirk::ignore_duplicates},
        {"HOVERING", quirk::hovering},
        {"CONTACT_CNT_ACCURATE", quirk::contact_cnt_accurate},
        {"TOUCH_SIZE_SCALING", quirk::touch_size_scaling},
        {"STICKY_FINGERS", quirk::sticky_fingers},
        {"WIN8_PTP_BUTTONS", quirk::win8_ptp_buttons},
    }};
    uint32_t out = 0;
    for (const auto& n : names) {
        bool found = false;
        for (const auto& [name, bit] : table) {
            if (n == name) {
                out |= bit;
                found = true;
            }
        }
        if (!found) {
            std::string known;
            for (const auto& [name, bit] : table)
                known += (known.empty() ? "" : ", ") + std::string(name);
            return error(hid_errc::bad_value, i18n::format({"unknown multitouch quirk \"{}\"; known quirks: {}",
                                                            "未知的多点触控特性“{}”；可用：{}"},
                                                           n, known));
        }
    }
    return out;
}

uint32_t default_quirks(const descriptor& d) {
    for (const auto& r : d.reports) {
        if (r.type != report_type::feature) continue;
        for (const auto& f : r.fields) {
            if (f.usage_of(0) == win8_blob) {
                // The kernel adds CONFIDENCE for Win8 touch screens and pads.
                return quirk::always_valid | quirk::ignore_duplicates | quirk::hovering | quirk::contact_cnt_accurate |
                       quirk::sticky_fingers | quirk::win8_ptp_buttons | quirk::confidence;
            }
        }
    }
    return quirk::always_valid | quirk::contact_cnt_accurate;
}

device_class class_for(uint16_t vendor, uint16_t product, const descriptor& d) {
    // Boards whose frames need a class other than the default, as the
    // kernel's hid-multitouch binds them.
    struct entry {
        uint16_t vendor, product;
        device_class cls;
    };
    static constexpr uint32_t cls_3m =
        quirk::valid_is_confidence | quirk::slot_is_contactid | quirk::touch_size_scaling;
    static constexpr uint32_t cls_egalax_serial = quirk::slot_is_contactid | quirk::always_valid;
    static constexpr uint32_t cls_smart = quirk::always_valid | quirk::ignore_duplicates | quirk::contact_cnt_accurate;
    static constexpr entry table[] = {
        {0x0596, 0x0500, {"3M", cls_3m, 60, 2048}},
        {0x0596, 0x0506, {"3M", cls_3m, 60, 2048}},
        {0x0eef, 0x7224, {"eGalax serial", cls_egalax_serial, 0, 4096}},
        {0x0eef, 0x7349, {"eGalax serial", cls_egalax_serial, 0, 4096}},
        {0x0b8c, 0x0092, {"SMART", cls_smart, 0}},
        {0x1ff7, 0x0013, {"not seen means up (CVTouch)", quirk::not_seen_means_up, 0}},
        {0x202e,
         0x0006,
         {"confidence, id minus one (Lumio)", quirk::valid_is_confidence | quirk::slot_is_contactid_minus_one, 0}},
        {0x25b5, 0x0002, {"FlatFrog", quirk::not_seen_means_up | quirk::no_area, 40, 2048}},
    };
    for (const auto& e : table) {
        if (e.vendor == vendor && e.product == product) return e.cls;
    }
    uint32_t q = default_quirks(d);
    return {q & quirk::win8_ptp_buttons ? "Windows 8" : "default", q, 0, 0};
}

// The per-contact usages and where each is kept.
constexpr std::pair<usage_code, value_location contact_location::*> contact_usages[] = {
    {usages::contact_id, &contact_location::contact_id}, {usages::tip_switch, &contact_location::tip},
    {usages::in_range, &contact_location::in_range},     {usages::confidence, &contact_location::confidence},
    {usages::generic_desktop_x, &contact_location::x},   {usages::generic_desktop_y, &contact_location::y},
    {usages::width, &contact_location::width},           {usages::height, &contact_location::height},
    {usages::tip_pressure, &contact_location::pressure},
};

mt_layout make_mt_layout(const descriptor& d, const touch_layout& t) {
    mt_layout out;
    out.report_id = t.report_id;
    const report* r = d.find(report_type::input, t.report_id);
    if (r == nullptr) return out;
    out.report_bytes = r->size_bytes();
    contact_location current;
    bool started = false;
    auto store = [&](value_location contact_location::*member, const value_location& v) {
        if ((current.*member).present) {
            // The usage repeats: the next contact begins, if this one is whole.
            if (!current.contact_id.present || !current.x.present || !current.y.present) return;
            out.contacts.push_back(current);
            current = contact_location{};
        }
        current.*member = v;
        started = true;
    };
    for (const auto& f : r->fields) {
        if (f.is_constant() || !f.is_variable()) continue;
        for (uint32_t i = 0; i < f.count; ++i) {
            usage_code u = f.usage_of(i);
            auto v = location_of(f, i);
            // An X or Y repeated right after itself in one field is the tool's position.
            if (i > 0 && f.usage_of(i - 1) == u && u == usages::generic_desktop_x) {
                store(&contact_location::tool_x, v);
            } else if (i > 0 && f.usage_of(i - 1) == u && u == usages::generic_desktop_y) {
                store(&contact_location::tool_y, v);
            } else if (u == usages::contact_count) {
                out.contact_count = v;
            } else if (u == usages::scan_time) {
                out.scan_time = v;
                out.scan_time_max = f.logical_max;
            } else {
                for (const auto& [usage, member] : contact_usages) {
                    if (u == usage) store(member, v);
                }
            }
        }
    }
    if (started) out.contacts.push_back(current);
    return out;
}

int64_t extract(std::span<const uint8_t> report, const value_location& at) noexcept {
    if (!at.present || at.bit_size == 0) return 0;
    uint64_t v = 0;
    uint32_t size = std::min<uint32_t>(at.bit_size, 32);
    for (uint32_t i = 0; i < size; ++i) {
        uint32_t bit = at.bit_offset + i;
        if (bit / 8 >= report.size()) break;
        if (report[bit / 8] & (1u << (bit % 8))) v |= uint64_t{1} << i;
    }
    if (at.is_signed && size < 64 && (v & (uint64_t{1} << (size - 1)))) {
        return static_cast<int64_t>(v) - (int64_t{1} << size);
    }
    return static_cast<int64_t>(v);
}

const char* to_string(contact_tool t) noexcept {
    switch (t) {
        case contact_tool::finger: return "finger";
        case contact_tool::pen: return "pen";
        case contact_tool::palm: return "palm";
        case contact_tool::eraser: return "eraser";
    }
    return "finger";
}

mt_decoder::mt_decoder(mt_layout layout, uint32_t quirks, uint32_t max_contacts)
    : layout_(std::move(layout)),
      quirks_(quirks),
      slots_(max_contacts),
      used_(max_contacts, false),
      pending_palm_(max_contacts, false) {}

// input_mt_get_slot_by_key: the slot this contact already has, else the
// first slot neither active nor used in this frame.
int mt_decoder::slot_for(int32_t contact_id) {
    if (quirks_ & quirk::slot_is_contactid) return contact_id;
    if (quirks_ & quirk::slot_is_contactid_minus_one) return contact_id - 1;
    for (size_t s = 0; s < slots_.size(); ++s) {
        if (slots_[s].tracking_id >= 0 && slots_[s].key == contact_id) return static_cast<int>(s);
    }
    for (size_t s = 0; s < slots_.size(); ++s) {
        if (slots_[s].tracking_id < 0 && !used_[s]) {
            slots_[s].key = contact_id;
            return static_cast<int>(s);
        }
    }
    return -1;
}

void mt_decoder::report_slot(int slot, bool active, const slot_state& values) {
    auto& s = slots_[static_cast<size_t>(slot)];
    used_[static_cast<size_t>(slot)] = true;
    if (!active) {
        s.tracking_id = -1;
        return;
    }
    if (s.tracking_id < 0) s.tracking_id = next_tracking_id_++;
    s.x = values.x;
    s.y = values.y;
    s.tool = values.tool;
    s.width = values.width;
    s.height = values.height;
    s.pressure = values.pressure;
}

mt_frame mt_decoder::sync() {
    if (quirks_ & quirk::not_seen_means_up) {
        for (size_t s = 0; s < slots_.size(); ++s) {
            if (!used_[s]) slots_[s].tracking_id = -1;
        }
    }
    mt_frame f;
    f.slots = slots_;
    f.reported = used_;
    f.scan_time = scan_time_;
    for (const auto& s : slots_)
        f.touch = f.touch || s.tracking_id >= 0;
    std::fill(used_.begin(), used_.end(), false);
    received_ = 0;
    return f;
}

result<std::optional<mt_frame>> mt_decoder::feed(std::span<const uint8_t> report) {
    if (layout_.report_id != 0 && (report.empty() || report[0] != layout_.report_id)) {
        return std::optional<mt_frame>{};
    }
    if (report.size() < layout_.report_bytes) {
        return error(hid_errc::truncated,
                     i18n::format({"touch report {} has {} bytes, the descriptor says {}; the report is dropped",
                                   "触摸报告 {} 长 {} 字节，描述符规定为 {}；该报告已丢弃"},
                                  layout_.report_id, report.size(), layout_.report_bytes));
    }
    // A non-zero Contact Count starts a frame; hybrid devices send 0 in the
    // reports that follow.
    if (layout_.scan_time.present) scan_time_ = extract(report, layout_.scan_time);
    if (layout_.contact_count.present) {
        auto count = extract(report, layout_.contact_count);
        if (count > 0) expected_ = static_cast<uint32_t>(count);
    } else {
        expected_ = static_cast<uint32_t>(layout_.contacts.size());
    }
    for (const auto& c : layout_.contacts) {
        if ((quirks_ & quirk::contact_cnt_accurate) && received_ >= expected_) break;
        bool tip = c.tip.present ? extract(report, c.tip) != 0 : true;
        bool in_range = c.in_range.present ? extract(report, c.in_range) != 0 : false;
        bool confident = c.confidence.present ? extract(report, c.confidence) != 0 : true;
        ++received_;
        if (!(quirks_ & quirk::always_valid)) {
            bool valid = true;
            if (quirks_ & quirk::valid_is_inrange) valid = in_range;
            if (quirks_ & quirk::not_seen_means_up) valid = tip;
            if (quirks_ & quirk::valid_is_confidence) valid = confident;
            if (!valid) continue;
        }
        auto id = static_cast<int32_t>(extract(report, c.contact_id));
        int slot = slot_for(id);
        if (slot < 0 || slot >= static_cast<int>(slots_.size())) continue;
        if ((quirks_ & quirk::ignore_duplicates) && used_[static_cast<size_t>(slot)] &&
            slots_[static_cast<size_t>(slot)].tracking_id >= 0) {
            continue;
        }
        bool active = tip || ((quirks_ & quirk::hovering) && in_range);
        slot_state values;
        values.x = static_cast<int32_t>(extract(report, c.x));
        values.y = static_cast<int32_t>(extract(report, c.y));
        if (!(quirks_ & quirk::no_area)) {
            values.width = static_cast<int32_t>(extract(report, c.width));
            values.height = static_cast<int32_t>(extract(report, c.height));
        }
        values.pressure = static_cast<int32_t>(extract(report, c.pressure));
        if ((quirks_ & quirk::confidence) && !confident) {
            values.tool = contact_tool::palm;
            // A palm that lifts as it is recognised: a palm frame, then the lift.
            auto& s = slots_[static_cast<size_t>(slot)];
            if (!active && s.tracking_id >= 0) {
                active = true;
                pending_palm_[static_cast<size_t>(slot)] = true;
            }
        }
        report_slot(slot, active, values);
    }
    if (received_ >= expected_) return std::optional<mt_frame>(sync());
    return std::optional<mt_frame>{};
}

mt_frame mt_decoder::release_all() {
    for (size_t s = 0; s < slots_.size(); ++s) {
        if (slots_[s].tracking_id >= 0) report_slot(static_cast<int>(s), false, {});
    }
    std::fill(pending_palm_.begin(), pending_palm_.end(), false);
    expected_ = 0;
    return sync();
}

std::optional<mt_frame> mt_decoder::release_pending_palms() {
    bool any = false;
    for (size_t s = 0; s < slots_.size(); ++s) {
        if (!pending_palm_[s]) continue;
        pending_palm_[s] = false;
        report_slot(static_cast<int>(s), false, {});
        any = true;
    }
    if (!any) return std::nullopt;
    return sync();
}

result<touch_device> touch_device_for(const descriptor& d, uint16_t vendor, uint16_t product,
                                      std::optional<uint32_t> quirks) {
    auto t = find_touch(d);
    if (!t) {
        return error(hid_errc::empty, i18n::text({"the device has no touch report (no Contact ID in any input report)",
                                                  "该设备没有触摸报告（所有输入报告均无 Contact ID）"}));
    }
    auto cls = class_for(vendor, product, d);
    if (quirks) {
        cls.name = "configured";
        cls.quirks = *quirks;
    }
    uint32_t slots = cls.max_contacts ? cls.max_contacts : t->max_contacts;
    return touch_device{*t, cls, mt_decoder(make_mt_layout(d, *t), cls.quirks, slots)};
}

}  // namespace bbt::drivers::hid
