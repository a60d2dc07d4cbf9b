#include "evemu.hpp"

#include "bbt/drivers/whiteboard/evdev_frame.hpp"
#include "bbt/drivers/whiteboard/hid_descriptor.hpp"
#include "bbt/drivers/whiteboard/mt_decoder.hpp"
#include "bbt/drivers/whiteboard/pen.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace bbt::test::evemu {
namespace hid = bbt::drivers::hid;

stream read(const std::string& text) {
    stream out;
    std::istringstream in(text);
    std::string line;
    std::map<int, contact> slots;  // every slot ever used, active or not
    int slot = 0;
    while (std::getline(in, line)) {
        if (line.starts_with("A: ")) {
            std::istringstream a(line.substr(3));
            int code = 0, min = 0, max = 0, fuzz = 0, flat = 0, res = 0;
            a >> std::hex >> code >> std::dec >> min >> max >> fuzz >> flat >> res;
            if (code == 0x35) out.fuzz_x = fuzz, out.resolution_x = res, out.max_x = max;
            if (code == 0x36) out.fuzz_y = fuzz, out.resolution_y = res, out.max_y = max;
            continue;
        }
        if (!line.starts_with("E: ")) continue;
        std::istringstream e(line.substr(3));
        double t = 0;
        int type = 0, code = 0, value = 0;
        e >> t >> std::hex >> type >> code >> std::dec >> value;
        if (type == 3 && code == 0x2f) slot = value;
        if (type == 3 && code == 0x39) slots[slot].tracking_id = value;
        if (type == 3 && code == 0x35) slots[slot].x = value;
        if (type == 3 && code == 0x36) slots[slot].y = value;
        if (type == 0 && code == 0) {
            state s;
            for (const auto& [k, c] : slots) {
                if (c.tracking_id >= 0) s[k] = c;
            }
            if (out.frames.empty() || s != out.frames.back()) out.frames.push_back(std::move(s));
        }
    }
    return out;
}

std::vector<state> replay(const hid::recording& rec, const hid::screen_map& map, const hid::tracker_options& options,
                          size_t reports) {
    auto d = hid::parse_descriptor(rec.descriptor).value();
    auto dev = hid::touch_device_for(d, rec.vendor, rec.product).value();
    size_t slots = dev.decoder.slot_count();
    hid::contact_tracker tracker(dev, hid::find_pen(d), options);
    hid::recording_sink sink;
    hid::touch_output output(slots, map, map, sink);
    hid::input_core core(slots, map.x().fuzz, map.y().fuzz);
    std::vector<state> out;
    std::vector<hid::tracked_frame> frames;
    size_t n = reports == 0 ? rec.reports.size() : std::min(reports, rec.reports.size());
    for (size_t i = 0; i < n; ++i) {
        const auto& r = rec.reports[i];
        frames.clear();
        if (auto fed = tracker.feed(r.data, static_cast<int64_t>(r.time * 1e6), frames); !fed) {
            throw std::runtime_error("report " + std::to_string(i) + ": " + fed.error().message());
        }
        for (const auto& f : frames) {
            if (auto w = output.write(f); !w) throw std::runtime_error("output: " + w.error().message());
        }
    }
    for (const auto& e : sink.events()) {
        if (e.n != hid::node::touch) continue;
        auto seen = core.feed(e.e);
        if (!seen) continue;
        state s;
        for (size_t k = 0; k < seen->slots.size(); ++k) {
            const auto& sl = seen->slots[k];
            if (sl.tracking_id >= 0) s[static_cast<int>(k)] = {sl.tracking_id, sl.x, sl.y};
        }
        if (out.empty() || s != out.back()) out.push_back(s);
    }
    return out;
}

namespace {

std::string show(const state& s) {
    std::string out = "{";
    for (const auto& [slot, c] : s) {
        out += " [" + std::to_string(slot) + "] #" + std::to_string(c.tracking_id) + " (" + std::to_string(c.x) + "," +
               std::to_string(c.y) + ")";
    }
    return out + " }";
}

std::string context(const std::vector<state>& ours, const std::vector<state>& k, size_t i) {
    std::string out;
    for (size_t j = i > 2 ? i - 2 : 0; j <= i + 1 && j < std::max(ours.size(), k.size()); ++j) {
        out += "\n  frame " + std::to_string(j) + " ours " + (j < ours.size() ? show(ours[j]) : "-") + "  theirs " +
               (j < k.size() ? show(k[j]) : "-");
    }
    return out;
}

}  // namespace

std::string compare(const std::vector<state>& ours, const std::vector<state>& theirs, const same_place& close) {
    std::vector<state> k;
    for (const auto& s : theirs) {
        if (k.empty() || s != k.back()) k.push_back(s);
    }
    auto by_id = [](const state& s) {
        std::vector<contact> v;
        for (const auto& [slot, c] : s)
            v.push_back(c);
        std::sort(v.begin(), v.end(), [](const contact& a, const contact& b) { return a.tracking_id < b.tracking_id; });
        return v;
    };
    std::map<int, int> ids, back;
    size_t n = std::min(ours.size(), k.size());
    for (size_t i = 0; i < n; ++i) {
        auto a = by_id(ours[i]);
        auto b = by_id(k[i]);
        if (a.size() != b.size()) {
            return "frame " + std::to_string(i) + ": " + std::to_string(a.size()) + " contacts, theirs " +
                   std::to_string(b.size()) + context(ours, k, i);
        }
        for (size_t j = 0; j < a.size(); ++j) {
            auto [it, fresh] = ids.emplace(b[j].tracking_id, a[j].tracking_id);
            auto [rit, rfresh] = back.emplace(a[j].tracking_id, b[j].tracking_id);
            if (it->second != a[j].tracking_id || rit->second != b[j].tracking_id) {
                return "frame " + std::to_string(i) + ": contact lifetimes differ" + context(ours, k, i);
            }
            bool same = close ? close(a[j], b[j]) : (a[j].x == b[j].x && a[j].y == b[j].y);
            if (!same) return "frame " + std::to_string(i) + ": positions differ" + context(ours, k, i);
        }
    }
    if (ours.size() != k.size()) {
        return std::to_string(ours.size()) + " frames, theirs " + std::to_string(k.size()) + context(ours, k, n);
    }
    return {};
}

}  // namespace bbt::test::evemu
