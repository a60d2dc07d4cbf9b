// Replays the real recordings through the decoder and compares the touch
// state after every frame with what a real Linux kernel emitted for the same
// trace (evemu files): the same contacts, positions and lifetimes.
#include "bbt/drivers/whiteboard/evdev_frame.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/mt_decoder.hpp"
#include "bbt/drivers/whiteboard/output.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

using namespace bbt::drivers::hid;

namespace {

struct contact {
    int tracking_id;
    int x;
    int y;
    bool operator==(const contact&) const = default;
};
using state = std::map<int, contact>;  // slot -> contact

struct evemu {
    std::vector<state> frames;
    int fuzz_x = 0, fuzz_y = 0, resolution_x = 0, resolution_y = 0;
};

// The kernel's per-slot state after every SYN_REPORT of an evemu file.
evemu read_evemu(const std::string& text) {
    evemu out;
    std::istringstream in(text);
    std::string line;
    std::map<int, contact> slots;  // every slot ever used, active or not
    int slot = 0;
    while (std::getline(in, line)) {
        if (line.starts_with("A: ")) {
            std::istringstream a(line.substr(3));
            int code = 0, min = 0, max = 0, fuzz = 0, flat = 0, res = 0;
            a >> std::hex >> code >> std::dec >> min >> max >> fuzz >> flat >> res;
            if (code == 0x35) out.fuzz_x = fuzz, out.resolution_x = res;
            if (code == 0x36) out.fuzz_y = fuzz, out.resolution_y = res;
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
            out.frames.push_back(std::move(s));
        }
    }
    return out;
}

// Our frames as user space would see them from a uinput device with the
// kernel's fuzz: the agent's whole touch path (decoder, contact tracker, the
// output in device units) into a recording sink, then the input core's
// filtering. Tools by size are off: the kernel has no such thing.
std::vector<state> replay(const recording& rec, const evemu& ev) {
    auto d = parse_descriptor(rec.descriptor).value();
    auto dev = touch_device_for(d, rec.vendor, rec.product).value();
    size_t slots = dev.decoder.slot_count();
    // The fuzz comes from the class table; the kernel's must agree.
    auto map = screen_map::device_units(dev);
    CHECK(map.x().fuzz == ev.fuzz_x);
    CHECK(map.y().fuzz == ev.fuzz_y);
    tracker_options options;
    options.sizes.enabled = false;
    contact_tracker tracker(dev, find_pen(d), options);
    recording_sink sink;
    touch_output output(slots, map, map, sink);
    input_core core(slots, map.x().fuzz, map.y().fuzz);
    std::vector<state> out;
    std::vector<tracked_frame> frames;
    for (const auto& r : rec.reports) {
        frames.clear();
        REQUIRE(tracker.feed(r.data, static_cast<int64_t>(r.time * 1e6), frames));
        for (const auto& f : frames)
            REQUIRE(output.write(f));
    }
    for (const auto& e : sink.events()) {
        if (e.n != node::touch) continue;
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
        out += "\n  frame " + std::to_string(j) + " ours " + (j < ours.size() ? show(ours[j]) : "-") + "  kernel " +
               (j < k.size() ? show(k[j]) : "-");
    }
    return out;
}

// Contacts compared by lifetime, not by slot (slot numbers are the kernel's
// bookkeeping, and 3.x kernels reused a slot freed within the same frame):
// both sides hand out tracking ids in order of arrival, so contacts pair up
// in tracking id order, and the ids must map one to one throughout.
std::string compare(const std::vector<state>& ours, const std::vector<state>& kernel) {
    std::vector<state> k;
    for (const auto& s : kernel) {
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
            return "frame " + std::to_string(i) + ": " + std::to_string(a.size()) + " contacts, the kernel " +
                   std::to_string(b.size()) + context(ours, k, i);
        }
        for (size_t j = 0; j < a.size(); ++j) {
            auto [it, fresh] = ids.emplace(b[j].tracking_id, a[j].tracking_id);
            auto [rit, rfresh] = back.emplace(a[j].tracking_id, b[j].tracking_id);
            if (it->second != a[j].tracking_id || rit->second != b[j].tracking_id) {
                return "frame " + std::to_string(i) + ": contact lifetimes differ" + context(ours, k, i);
            }
            if (a[j].x != b[j].x || a[j].y != b[j].y) {
                return "frame " + std::to_string(i) + ": positions differ" + context(ours, k, i);
            }
        }
    }
    if (ours.size() != k.size()) {
        return std::to_string(ours.size()) + " frames, the kernel " + std::to_string(k.size()) + context(ours, k, n);
    }
    return {};
}

}  // namespace

TEST_CASE("every real recording replays to the contacts, positions and lifetimes the kernel emitted") {
    auto dir = bbt::test::hid_data_dir();
    if (!std::filesystem::exists(dir / "expected_evemu")) {
        MESSAGE("skipped: no real HID data at " << dir.string());
        return;
    }
    for (const auto& e : std::filesystem::directory_iterator(dir / "recordings")) {
        std::string name = e.path().stem().string();
        auto ev_path = dir / "expected_evemu" / (name + "_0.ev");
        if (!std::filesystem::exists(ev_path)) continue;
        CAPTURE(name);
        auto rec = parse_recording(bbt::test::read_file(e.path()));
        REQUIRE(rec);
        auto ev = read_evemu(bbt::test::read_file(ev_path));
        auto d = parse_descriptor(rec->descriptor).value();
        auto t = find_touch(d).value();
        CHECK(std::abs(t.x.resolution - ev.resolution_x) <= 1);
        CHECK(std::abs(t.y.resolution - ev.resolution_y) <= 1);
        auto ours = replay(*rec, ev);
        std::string diff = compare(ours, ev.frames);
        MESSAGE(name << ": " << (diff.empty() ? "equivalent" : diff));
        CHECK(diff.empty());
    }
}
