#include "bbt/drivers/whiteboard/touch_layout.hpp"

#include <algorithm>
#include <vector>

namespace bbt::drivers::hid {
namespace {

// hid-multitouch's MT_MAX_MAXCONTACT and MT_DEFAULT_MAXCONTACT.
constexpr int32_t max_maxcontact = 250;
constexpr uint32_t default_maxcontact = 10;

}  // namespace

touch_axis axis_of(const field& f, uint32_t element) {
    return {f.logical_min, f.logical_max,   f.physical_min,       f.physical_max,
            f.unit,        f.unit_exponent, resolution_per_mm(f), f.bit_offset + element * f.bit_size,
            f.bit_size};
}

const char* to_string(touch_mode m) noexcept { return m == touch_mode::hybrid ? "hybrid" : "parallel"; }

std::optional<touch_layout> find_touch(const descriptor& d) {
    // Lowest report id first: a board that declares two touch reports (SMART
    // declares 5 before 3) is read through the first one by number.
    std::vector<const report*> inputs;
    for (const auto& r : d.reports) {
        if (r.type == report_type::input) inputs.push_back(&r);
    }
    std::sort(inputs.begin(), inputs.end(), [](const report* a, const report* b) { return a->id < b->id; });
    for (const report* rp : inputs) {
        const report& r = *rp;
        touch_layout t;
        t.report_id = r.id;
        bool found_x = false, found_y = false;
        int32_t contact_count_max = 0;
        for (const auto& f : r.fields) {
            if (f.is_constant() || !f.is_variable()) continue;
            for (uint32_t i = 0; i < f.count; ++i) {
                usage_code u = f.usage_of(i);
                if (u == usages::contact_id) {
                    if (t.contacts_per_report == 0) t.application = d.application_of(f.collection);
                    ++t.contacts_per_report;
                } else if (u == usages::generic_desktop_x && !found_x) {
                    t.x = axis_of(f, i);
                    found_x = true;
                } else if (u == usages::generic_desktop_y && !found_y) {
                    t.y = axis_of(f, i);
                    found_y = true;
                } else if (u == usages::contact_count) {
                    contact_count_max = f.logical_max;
                }
            }
        }
        if (t.contacts_per_report == 0) continue;
        // Slots: the Contact Max feature's logical maximum when sane (the
        // device's own value needs a GET_FEATURE), else the kernel's default.
        t.max_contacts = 0;
        for (const auto& fr : d.reports) {
            if (fr.type != report_type::feature) continue;
            for (const auto& f : fr.fields) {
                for (uint32_t i = 0; i < f.count && f.is_variable(); ++i) {
                    if (f.usage_of(i) == usages::contact_max && f.logical_max > 0 && f.logical_max <= max_maxcontact) {
                        t.max_contacts = static_cast<uint32_t>(f.logical_max);
                    }
                }
            }
        }
        if (t.max_contacts == 0) t.max_contacts = default_maxcontact;
        // The kernel reads Contact Max from the device (GET_FEATURE). Offline,
        // a declared maximum below what one report carries is not believed
        // (CVTouch declares 2, sends 6 per report and reports 7 fingers; the
        // device itself answers 10): the kernel's default then applies.
        if (t.max_contacts < t.contacts_per_report) {
            t.max_contacts = std::max(default_maxcontact, t.contacts_per_report);
        }
        bool spread = contact_count_max > 0 && static_cast<uint32_t>(contact_count_max) > t.contacts_per_report;
        t.mode = spread || t.max_contacts > t.contacts_per_report ? touch_mode::hybrid : touch_mode::parallel;
        return t;
    }
    return std::nullopt;
}

}  // namespace bbt::drivers::hid
