#include "bbt/drivers/whiteboard/pen.hpp"

#include "bbt/base/i18n.hpp"

#include <linux/input-event-codes.h>

#include <algorithm>
#include <array>
#include <deque>

namespace bbt::drivers::hid {
namespace {

bool is_digitizer_application(usage_code u) { return usage_page(u) == 0x0d; }

constexpr size_t phase_count = 9;

// The kernel's valid_transitions; a state not listed as a source (the rubber
// end with a button) is never entered: buttons are dropped while erasing.
constexpr std::array<std::array<bool, phase_count>, phase_count> allowed = [] {
    std::array<std::array<bool, phase_count>, phase_count> t{};
    auto allow = [&](pen_phase from, std::initializer_list<pen_phase> to) {
        for (auto p : to)
            t[static_cast<size_t>(from)][static_cast<size_t>(p)] = true;
    };
    using enum pen_phase;
    allow(out_of_range,
          {out_of_range, in_range, in_range_button, hover_erasing, in_contact, in_contact_button, erasing});
    allow(in_range, {in_range, in_range_button, out_of_range, in_contact});
    allow(in_contact, {in_contact, in_contact_button, in_range});
    allow(hover_erasing, {hover_erasing, out_of_range, erasing});
    allow(erasing, {erasing, hover_erasing});
    allow(in_range_button, {in_range_button, in_range, out_of_range, in_contact_button});
    allow(in_contact_button, {in_contact_button, in_contact, in_range_button});
    return t;
}();

struct keys {
    int tool;  // 0, BTN_TOOL_PEN or BTN_TOOL_RUBBER
    bool touch;
    bool button;
};

keys keys_of(pen_phase p) {
    switch (p) {
        case pen_phase::out_of_range: return {0, false, false};
        case pen_phase::in_range: return {BTN_TOOL_PEN, false, false};
        case pen_phase::in_range_button: return {BTN_TOOL_PEN, false, true};
        case pen_phase::in_contact: return {BTN_TOOL_PEN, true, false};
        case pen_phase::in_contact_button: return {BTN_TOOL_PEN, true, true};
        case pen_phase::hover_erasing: return {BTN_TOOL_RUBBER, false, false};
        case pen_phase::hover_erasing_button: return {BTN_TOOL_RUBBER, false, true};
        case pen_phase::erasing: return {BTN_TOOL_RUBBER, true, false};
        case pen_phase::erasing_button: return {BTN_TOOL_RUBBER, true, true};
    }
    return {0, false, false};
}

// The shortest way from one phase to another through allowed transitions.
std::vector<pen_phase> path(pen_phase from, pen_phase to) {
    std::array<int, phase_count> prev;
    prev.fill(-1);
    std::deque<size_t> queue{static_cast<size_t>(from)};
    prev[static_cast<size_t>(from)] = static_cast<int>(from);
    while (!queue.empty()) {
        size_t at = queue.front();
        queue.pop_front();
        if (at == static_cast<size_t>(to)) break;
        for (size_t next = 0; next < phase_count; ++next) {
            if (allowed[at][next] && prev[next] < 0) {
                prev[next] = static_cast<int>(at);
                queue.push_back(next);
            }
        }
    }
    std::vector<pen_phase> out;
    if (prev[static_cast<size_t>(to)] < 0) return out;
    for (size_t at = static_cast<size_t>(to); at != static_cast<size_t>(from); at = static_cast<size_t>(prev[at])) {
        out.push_back(static_cast<pen_phase>(at));
    }
    std::reverse(out.begin(), out.end());
    return out;
}

}  // namespace

std::optional<pen_layout> find_pen(const descriptor& d) {
    for (const auto& r : d.reports) {
        if (r.type != report_type::input) continue;
        pen_layout p;
        p.report_id = r.id;
        p.report_bytes = r.size_bytes();
        bool contact_id = false, digitizer = false;
        for (const auto& f : r.fields) {
            if (f.is_constant() || !f.is_variable()) continue;
            digitizer = digitizer || is_digitizer_application(d.application_of(f.collection));
            for (uint32_t i = 0; i < f.count; ++i) {
                usage_code u = f.usage_of(i);
                auto at = location_of(f, i);
                auto set = [&](value_location& v) {
                    if (!v.present) v = at;
                };
                switch (u) {
                    case usages::contact_id: contact_id = true; break;
                    case usages::in_range: set(p.in_range); break;
                    case usages::tip_switch: set(p.tip); break;
                    case usages::barrel_switch: set(p.barrel); break;
                    case usages::secondary_barrel_switch: set(p.barrel2); break;
                    case usages::invert: set(p.invert); break;
                    case usages::eraser: set(p.eraser); break;
                    case usages::tip_pressure:
                        if (!p.pressure.present) p.pressure_max = f.logical_max;
                        set(p.pressure);
                        break;
                    case usages::generic_desktop_x:
                        if (!p.x.present) p.x_axis = axis_of(f, i);
                        set(p.x);
                        break;
                    case usages::generic_desktop_y:
                        if (!p.y.present) p.y_axis = axis_of(f, i);
                        set(p.y);
                        break;
                    default: break;
                }
            }
        }
        if (digitizer && !contact_id && p.in_range.present && p.x.present && p.y.present) return p;
    }
    return std::nullopt;
}

result<std::optional<pen_state>> decode_pen(const pen_layout& layout, std::span<const uint8_t> report) {
    if (layout.report_id != 0 && (report.empty() || report[0] != layout.report_id)) {
        return std::optional<pen_state>{};
    }
    if (report.size() < layout.report_bytes) {
        return error(hid_errc::truncated,
                     i18n::format({"pen report {} has {} bytes, the descriptor says {}; the report is dropped",
                                   "笔报告 {} 长 {} 字节，描述符规定为 {}；该报告已丢弃"},
                                  layout.report_id, report.size(), layout.report_bytes));
    }
    auto bit = [&](const value_location& v) { return v.present && extract(report, v) != 0; };
    pen_state s;
    s.in_range = bit(layout.in_range);
    s.tip = bit(layout.tip);
    s.barrel = bit(layout.barrel);
    s.barrel2 = bit(layout.barrel2);
    s.eraser = bit(layout.invert) || bit(layout.eraser);
    // The Eraser usage is the rubber end touching: a contact too.
    s.tip = s.tip || bit(layout.eraser);
    s.x = static_cast<int32_t>(extract(report, layout.x));
    s.y = static_cast<int32_t>(extract(report, layout.y));
    s.pressure = static_cast<int32_t>(extract(report, layout.pressure));
    return std::optional<pen_state>(s);
}

const char* to_string(pen_phase p) noexcept {
    static constexpr std::array<const char*, phase_count> names{
        "PEN_IS_OUT_OF_RANGE",
        "PEN_IS_IN_RANGE",
        "PEN_IS_IN_RANGE_WITH_BUTTON",
        "PEN_IS_IN_CONTACT",
        "PEN_IS_IN_CONTACT_WITH_BUTTON",
        "PEN_IS_IN_RANGE_WITH_ERASING_INTENT",
        "PEN_IS_IN_RANGE_WITH_ERASING_INTENT_WITH_BUTTON",
        "PEN_IS_ERASING",
        "PEN_IS_ERASING_WITH_BUTTON",
    };
    return names[static_cast<size_t>(p)];
}

pen_phase phase_of(const pen_state& s) noexcept {
    if (!s.in_range && !s.tip) return pen_phase::out_of_range;
    if (s.eraser) return s.tip ? pen_phase::erasing : pen_phase::hover_erasing;
    bool button = s.barrel || s.barrel2;
    if (s.tip) return button ? pen_phase::in_contact_button : pen_phase::in_contact;
    return button ? pen_phase::in_range_button : pen_phase::in_range;
}

bool pen_transition_allowed(pen_phase from, pen_phase to) noexcept {
    return allowed[static_cast<size_t>(from)][static_cast<size_t>(to)];
}

void pen_writer::step(pen_phase to, std::vector<evdev_event>& out) {
    keys was = keys_of(phase_), now = keys_of(to);
    // Leaving: the button and the contact go before the tool.
    if (was.touch && !now.touch) out.push_back({EV_KEY, BTN_TOUCH, 0});
    if (!now.button) {
        if (stylus_) out.push_back({EV_KEY, BTN_STYLUS, 0}), stylus_ = false;
        if (stylus2_) out.push_back({EV_KEY, BTN_STYLUS2, 0}), stylus2_ = false;
    }
    if (was.tool != 0 && was.tool != now.tool) out.push_back({EV_KEY, static_cast<uint16_t>(was.tool), 0});
    if (now.tool != 0 && was.tool != now.tool) out.push_back({EV_KEY, static_cast<uint16_t>(now.tool), 1});
    if (now.touch && !was.touch) out.push_back({EV_KEY, BTN_TOUCH, 1});
    phase_ = to;
}

std::vector<evdev_event> pen_writer::frame(const pen_state& s) {
    std::vector<evdev_event> out;
    pen_phase target = phase_of(s);
    if (target == pen_phase::out_of_range && phase_ == pen_phase::out_of_range) return out;
    auto steps = path(phase_, target);
    for (size_t i = 0; i + 1 < steps.size(); ++i) {
        step(steps[i], out);
        out.push_back({EV_SYN, SYN_REPORT, 0});
    }
    if (!steps.empty()) step(steps.back(), out);
    if (target != pen_phase::out_of_range) {
        keys k = keys_of(target);
        bool b1 = k.button && s.barrel, b2 = k.button && s.barrel2;
        if (b1 != stylus_) out.push_back({EV_KEY, BTN_STYLUS, b1 ? 1 : 0}), stylus_ = b1;
        if (b2 != stylus2_) out.push_back({EV_KEY, BTN_STYLUS2, b2 ? 1 : 0}), stylus2_ = b2;
        out.push_back({EV_ABS, ABS_X, s.x});
        out.push_back({EV_ABS, ABS_Y, s.y});
        out.push_back({EV_ABS, ABS_PRESSURE, s.pressure});
    }
    out.push_back({EV_SYN, SYN_REPORT, 0});
    return out;
}

}  // namespace bbt::drivers::hid
