#include "hid.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/drivers/whiteboard/contact_tracker.hpp"
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/mt_decoder.hpp"
#include "bbt/drivers/whiteboard/touch_layout.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace bbtctl {
namespace {

namespace i18n = bbt::i18n;
namespace json = boost::json;
namespace hid = bbt::drivers::hid;

constexpr int exit_ok = 0;
constexpr int exit_bad_input = 2;

int bad_input(std::string_view what) {
    fmt::print(stderr, "bbtctl hid: {}\n", what);
    return exit_bad_input;
}

// Names of the usages a digitizer's layout is read by; others print as numbers.
std::string usage_name(hid::usage_code u) {
    struct named {
        hid::usage_code u;
        const char* name;
    };
    static constexpr named names[] = {
        {hid::usages::generic_desktop_x, "X"},
        {hid::usages::generic_desktop_y, "Y"},
        {hid::usages::digitizer, "Digitizer"},
        {hid::usages::pen, "Pen"},
        {hid::usages::touch_screen, "Touch Screen"},
        {hid::usages::touch_pad, "Touch Pad"},
        {hid::usages::whiteboard, "Whiteboard"},
        {hid::usages::stylus, "Stylus"},
        {hid::usages::finger, "Finger"},
        {hid::usages::device_configuration, "Device Configuration"},
        {hid::usages::tip_pressure, "Tip Pressure"},
        {hid::usages::in_range, "In Range"},
        {hid::usages::touch, "Touch"},
        {hid::usages::tip_switch, "Tip Switch"},
        {hid::usages::barrel_switch, "Barrel Switch"},
        {hid::usages::eraser, "Eraser"},
        {hid::usages::invert, "Invert"},
        {hid::usages::confidence, "Confidence"},
        {hid::usages::width, "Width"},
        {hid::usages::height, "Height"},
        {hid::usages::contact_id, "Contact ID"},
        {hid::usages::input_mode, "Input Mode"},
        {hid::usages::contact_count, "Contact Count"},
        {hid::usages::contact_max, "Contact Max"},
        {hid::usages::scan_time, "Scan Time"},
    };
    for (const auto& n : names) {
        if (n.u == u) return n.name;
    }
    return fmt::format("{:04x}:{:04x}", hid::usage_page(u), hid::usage_id(u));
}

json::object axis_json(const hid::touch_axis& a) {
    return {{"logical_min", a.logical_min}, {"logical_max", a.logical_max}, {"resolution", a.resolution}};
}

json::object layout_json(const hid::descriptor& d) {
    json::array reports;
    for (const auto& r : d.reports) {
        json::array fields;
        for (const auto& f : r.fields) {
            json::array flags;
            for (const auto& n : hid::flag_names(f.flags))
                flags.emplace_back(n);
            hid::usage_code first = f.usage_of(0);
            json::object fo{{"usage_page", hid::usage_page(first)},
                            {"usage", hid::usage_id(first)},
                            {"bit_offset", f.bit_offset},
                            {"bit_size", f.bit_size},
                            {"count", f.count},
                            {"logical_min", f.logical_min},
                            {"logical_max", f.logical_max},
                            {"physical_min", f.physical_min},
                            {"physical_max", f.physical_max},
                            {"unit", f.unit},
                            {"unit_exponent", f.unit_exponent},
                            {"flags", std::move(flags)}};
            if (f.usages.size() > 1) {
                json::array all;
                for (auto u : f.usages)
                    all.emplace_back(u);
                fo["usages"] = std::move(all);  // extended usages: page << 16 | id
            }
            fields.push_back(std::move(fo));
        }
        reports.push_back(json::object{{"id", r.id},
                                       {"type", hid::to_string(r.type)},
                                       {"size_bytes", r.size_bytes()},
                                       {"fields", std::move(fields)}});
    }
    json::object out{{"reports", std::move(reports)}};
    if (auto t = hid::find_touch(d)) {
        out["touch"] = json::object{{"report_id", t->report_id},
                                    {"mode", hid::to_string(t->mode)},
                                    {"max_contacts", t->max_contacts},
                                    {"contacts_per_report", t->contacts_per_report},
                                    {"application", usage_name(t->application)},
                                    {"x", axis_json(t->x)},
                                    {"y", axis_json(t->y)}};
    } else {
        out["touch"] = nullptr;
    }
    return out;
}

void print_layout(const hid::descriptor& d) {
    std::string apps;
    for (auto u : d.applications())
        apps += (apps.empty() ? "" : ", ") + usage_name(u);
    fmt::print("{}\n", i18n::format({"applications: {}", "应用集合：{}"}, apps.empty() ? "-" : apps));
    for (const auto& r : d.reports) {
        fmt::print("{}\n", i18n::format({"report {} ({}), {} bytes", "报告 {}（{}），{} 字节"}, r.id,
                                        hid::to_string(r.type), r.size_bytes()));
        for (const auto& f : r.fields) {
            std::string what;
            if (f.is_constant() && f.usages.empty()) {
                what = i18n::text({"(padding)", "（填充）"});
            } else if (f.is_variable()) {
                for (uint32_t i = 0; i < f.count && i < 4; ++i)
                    what += (i ? ", " : "") + usage_name(f.usage_of(i));
                if (f.count > 4) what += ", ...";
            } else {
                what = fmt::format("[{}]", f.usages.empty() ? std::string("-") : usage_name(f.usages.front()) + "...");
            }
            fmt::print("  bit {:>5}  {:>3} x {:<3}  {:>7}..{:<7}  {}\n", f.bit_offset, f.bit_size, f.count,
                       f.logical_min, f.logical_max, what);
        }
    }
    if (auto t = hid::find_touch(d)) {
        fmt::print("{}\n",
                   i18n::format({"touch: report {}, {} mode, {} contact(s) per report, up to {} contacts",
                                 "触摸：报告 {}，{} 模式，每个报告 {} 个触点，最多 {} 个触点"},
                                t->report_id, hid::to_string(t->mode), t->contacts_per_report, t->max_contacts));
        fmt::print("  X {}..{} ({} units/mm), Y {}..{} ({} units/mm)\n", t->x.logical_min, t->x.logical_max,
                   t->x.resolution, t->y.logical_min, t->y.logical_max, t->y.resolution);
    } else {
        fmt::print("{}\n", i18n::text({"touch: none (no Contact ID in any input report)",
                                       "触摸：无（所有输入报告均无 Contact ID）"}));
    }
}

// A descriptor file holds raw bytes, or hex text ("05 0d 09 04 ...").
bbt::result<std::vector<uint8_t>> read_descriptor(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return bbt::error(std::make_error_code(std::errc::no_such_file_or_directory),
                          i18n::text({"cannot read the file", "无法读取文件"}), path);
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Raw descriptors are full of control bytes (05, 09, 01 ...); a file of
    // printable text is meant as hex, and a mistake in it is reported as such.
    bool text = !bytes.empty() && std::all_of(bytes.begin(), bytes.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return (u >= 0x20 && u < 0x7f) || c == '\n' || c == '\r' || c == '\t';
    });
    if (text) {
        auto parsed = hid::parse_hex(bytes);
        if (!parsed) return parsed.error().with_context(path);
        return parsed;
    }
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

// Replays a recording through the decoder: one line per completed frame,
// the multitouch state after it, in the device's logical units.
int decode_recording(const std::string& path, bool as_json) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return bad_input(fmt::format("{}: {}", path, i18n::text({"cannot read the file", "无法读取文件"})));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto rec = hid::parse_recording(text);
    if (!rec) return bad_input(rec.error().with_context(path).what());
    auto d = hid::parse_descriptor(rec->descriptor);
    if (!d) return bad_input(d.error().with_context(path).what());
    auto dev = hid::touch_device_for(*d, rec->vendor, rec->product);
    if (!dev) return bad_input(dev.error().with_context(path).what());
    hid::contact_tracker tracker(std::move(*dev), hid::find_pen(*d), {});
    const auto& device = tracker.device();
    if (!as_json) {
        fmt::print("{}\n", i18n::format({"{} ({:04x}:{:04x}), class {}, touch report {}, {} reports",
                                         "{}（{:04x}:{:04x}），类别 {}，触摸报告 {}，共 {} 个报告"},
                                        rec->name, rec->vendor, rec->product, device.cls.name, device.touch.report_id,
                                        rec->reports.size()));
    }
    int problems = 0;
    auto print_frame = [&](double time, const hid::tracked_frame& tf) {
        const auto& f = *tf.touch;
        json::array contacts;
        std::string people;
        auto add = [&](size_t s, const hid::slot_state& slot) {
            const char* tool = hid::to_string(slot.tool);
            contacts.push_back(json::object{
                {"slot", s}, {"tracking_id", slot.tracking_id}, {"tool", tool}, {"x", slot.x}, {"y", slot.y}});
            people += fmt::format("  [{}] #{} {} ({}, {})", s, slot.tracking_id, tool, slot.x, slot.y);
        };
        for (size_t s = 0; s < f.slots.size(); ++s) {
            if (static_cast<int>(s) == tf.pen_slot) {
                add(s, tf.pen_contact);  // on the pen node, but a contact of this frame
            } else if (f.slots[s].tracking_id >= 0) {
                add(s, f.slots[s]);
            }
        }
        bool touch = f.touch || tf.pen_slot >= 0;
        if (as_json) {
            fmt::print("{}\n",
                       json::serialize(json::object{{"t", time}, {"touch", touch}, {"contacts", std::move(contacts)}}));
        } else {
            fmt::print("{:10.6f} {}{}\n", time, touch ? "touch" : "-    ", people);
        }
    };
    std::vector<hid::tracked_frame> frames;
    for (const auto& r : rec->reports) {
        frames.clear();
        if (auto fed = tracker.feed(r.data, static_cast<int64_t>(r.time * 1e6), frames); !fed) {
            // A bad report is reported and skipped; the replay goes on, as the agent would.
            fmt::print(stderr, "bbtctl hid: {}: t={:.6f}: {}\n", path, r.time, fed.error().what());
            ++problems;
            continue;
        }
        for (const auto& f : frames) {
            if (f.touch) print_frame(r.time, f);
        }
    }
    return problems == 0 ? exit_ok : exit_bad_input;
}

}  // namespace

int run_hid(const std::vector<std::string_view>& args, bool as_json) {
    // args[0] == "hid"
    if (args.size() == 4 && args[1] == "decode" && args[2] == "--descriptor") {
        auto bytes = read_descriptor(std::string(args[3]));
        if (!bytes) return bad_input(bytes.error().what());
        auto d = hid::parse_descriptor(*bytes);
        if (!d) return bad_input(d.error().with_context(args[3]).what());
        if (as_json) {
            fmt::print("{}\n", json::serialize(layout_json(*d)));
        } else {
            print_layout(*d);
        }
        return exit_ok;
    }
    if (args.size() == 4 && args[1] == "decode" && args[2] == "--recording") {
        return decode_recording(std::string(args[3]), as_json);
    }
    return bad_input(i18n::text({"usage: bbtctl hid decode (--descriptor FILE | --recording FILE.hid) [--json]",
                                 "用法：bbtctl hid decode (--descriptor 文件 | --recording 文件.hid) [--json]"}));
}

}  // namespace bbtctl
