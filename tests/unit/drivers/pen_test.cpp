// The pen node: the kernel's pen state machine (data/hid/samples/
// pen_state_machine.json) frame by frame, and the N-trig pen's recording
// against what a kernel emitted for it.
#include "bbt/drivers/whiteboard/pen.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

#include <linux/input-event-codes.h>
#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <sstream>

using namespace bbt::drivers::hid;
namespace json = boost::json;

namespace {

// What a pen node shows after a frame, in the terms of the state machine.
struct pen_view {
    int tool = 0;  // 0, BTN_TOOL_PEN or BTN_TOOL_RUBBER
    bool touch = false;
    bool button = false;
    bool operator==(const pen_view&) const = default;
};

std::string name_of(const pen_view& v) {
    std::string s = v.tool == 0 ? "out" : v.tool == BTN_TOOL_PEN ? "pen" : "rubber";
    return s + (v.touch ? "+touch" : "") + (v.button ? "+button" : "");
}

pen_view view_of_state(const json::object& st) {
    pen_view v;
    if (st.at("tool").is_string())
        v.tool = st.at("tool").as_string() == "BTN_TOOL_PEN" ? BTN_TOOL_PEN : BTN_TOOL_RUBBER;
    v.touch = st.at("BTN_TOUCH").as_int64() != 0;
    v.button = st.at("button").as_bool();
    return v;
}

pen_state state_for(const pen_view& v, int wobble) {
    pen_state s;
    s.in_range = v.tool != 0;
    s.tip = v.touch;
    s.eraser = v.tool == BTN_TOOL_RUBBER;
    s.barrel = v.button;
    s.x = 100 + wobble;
    s.y = 200 + wobble;
    return s;
}

}  // namespace

TEST_CASE("every pen sequence of the kernel's tests moves only through transitions the state machine allows") {
    auto path = bbt::test::hid_data_dir() / "samples" / "pen_state_machine.json";
    if (!std::filesystem::exists(path)) {
        BBT_SKIP("no pen state machine at " << path.string());
        return;
    }
    auto doc = json::parse(bbt::test::read_file(path)).as_object();
    std::map<std::string, pen_view> states;
    for (const auto& [name, st] : doc.at("states").as_object())
        states[std::string(name)] = view_of_state(st.as_object());
    auto allowed = [&](const json::object& table, const pen_view& from, const pen_view& to) {
        for (const auto& [name, targets] : table) {
            if (states.at(std::string(name)) != from) continue;
            for (const auto& t : targets.as_array()) {
                if (states.at(std::string(t.as_string())) == to) return true;
            }
        }
        return false;
    };
    const auto& valid = doc.at("valid_transitions").as_object();
    const auto& tolerated = doc.at("historically_tolerated_extra_transitions").as_object();

    // Our own transition table agrees with the kernel's.
    for (int a = 0; a <= static_cast<int>(pen_phase::erasing_button); ++a) {
        for (int b = 0; b <= static_cast<int>(pen_phase::erasing_button); ++b) {
            auto from = static_cast<pen_phase>(a), to = static_cast<pen_phase>(b);
            bool theirs = false;
            if (auto it = valid.find(to_string(from)); it != valid.end()) {
                for (const auto& t : it->value().as_array())
                    theirs = theirs || t.as_string() == to_string(to);
            }
            CAPTURE(to_string(from));
            CAPTURE(to_string(to));
            CHECK(pen_transition_allowed(from, to) == theirs);
        }
    }

    int sequences = 0, frames = 0;
    for (const char* group : {"legal_sequences", "legal_sequences_with_invert", "legal_sequences_with_button",
                              "tolerated_sequences", "broken_sequences_output_must_still_be_tolerated"}) {
        bool strict = std::string_view(group).starts_with("legal");
        for (const auto& [name, steps] : doc.at(group).as_object()) {
            for (int scribble = 0; scribble < 2; ++scribble) {
                CAPTURE(group);
                CAPTURE(std::string(name));
                CAPTURE(scribble);
                ++sequences;
                pen_writer w;
                pen_view now;
                int wobble = 0;
                for (const auto& step : steps.as_array()) {
                    pen_view target = states.at(std::string(step.as_string()));
                    if (scribble) wobble ^= 1;
                    auto events = w.frame(state_for(target, wobble));
                    // Split at SYN_REPORT; check each frame on its own.
                    std::map<int, int> seen;
                    for (const auto& e : events) {
                        if (e.type == EV_KEY) {
                            CHECK(++seen[e.code] == 1);  // at most once per frame
                            if (e.code == BTN_TOUCH) now.touch = e.value != 0;
                            if (e.code == BTN_STYLUS || e.code == BTN_STYLUS2) now.button = e.value != 0;
                            if (e.code == BTN_TOOL_PEN || e.code == BTN_TOOL_RUBBER) {
                                if (e.value) {
                                    CHECK(now.tool == 0);  // never both tools
                                    now.tool = e.code;
                                } else if (now.tool == e.code) {
                                    now.tool = 0;
                                }
                            }
                        }
                        if (e.type != EV_SYN) continue;
                        ++frames;
                        if (now.tool == 0) CHECK_FALSE(now.button);  // a released tool has no button
                        seen.clear();
                    }
                }
                // Replay once more, checking transitions between frames.
                pen_writer w2;
                pen_view prev, cur;
                wobble = 0;
                for (const auto& step : steps.as_array()) {
                    pen_view target = states.at(std::string(step.as_string()));
                    if (scribble) wobble ^= 1;
                    for (const auto& e : w2.frame(state_for(target, wobble))) {
                        if (e.type == EV_KEY && e.code == BTN_TOUCH) cur.touch = e.value != 0;
                        if (e.type == EV_KEY && (e.code == BTN_STYLUS || e.code == BTN_STYLUS2)) cur.button = e.value;
                        if (e.type == EV_KEY && (e.code == BTN_TOOL_PEN || e.code == BTN_TOOL_RUBBER)) {
                            cur.tool = e.value ? e.code : 0;
                        }
                        if (e.type != EV_SYN) continue;
                        bool ok = allowed(valid, prev, cur) || (!strict && allowed(tolerated, prev, cur));
                        INFO(name_of(prev) << " -> " << name_of(cur));
                        CHECK(ok);
                        prev = cur;
                    }
                    if (strict) CHECK(cur == target);  // and it arrives where it was sent
                }
            }
        }
    }
    MESSAGE(sequences << " pen sequences, " << frames << " frames checked");
    CHECK(sequences > 40);
}

TEST_CASE("a pen report decodes to its state, and a short one is refused") {
    // In Range, Tip, Barrel, Invert, Eraser as bits; X, Y, pressure as 16 bits.
    auto d = parse_descriptor(parse_hex("05 0d 09 02 a1 01 85 02 09 20 a1 00 09 32 09 42 09 44 09 3c 09 45 15 00 25 01"
                                        " 75 01 95 05 81 02 95 03 81 03 05 01 09 30 09 31 26 ff 7f 75 10 95 02 81 02"
                                        " 05 0d 09 30 26 ff 00 95 01 81 02 c0 c0")
                                  .value());
    REQUIRE(d);
    auto p = find_pen(*d);
    REQUIRE(p);
    CHECK(p->report_id == 2);
    CHECK(p->pressure_max == 255);
    std::vector<uint8_t> r{0x02, 0x0b, 0x34, 0x12, 0x78, 0x56, 0x40, 0x00};  // in range, tip, invert
    auto s = decode_pen(*p, r).value();
    REQUIRE(s);
    CHECK(s->in_range);
    CHECK(s->tip);
    CHECK(s->eraser);
    CHECK_FALSE(s->barrel);
    CHECK(s->x == 0x1234);
    CHECK(s->y == 0x5678);
    CHECK(s->pressure == 0x40);
    CHECK(phase_of(*s) == pen_phase::erasing);
    std::vector<uint8_t> short_r{0x02, 0x01};
    CHECK_FALSE(decode_pen(*p, short_r));
    std::vector<uint8_t> other{0x03, 0x01};
    CHECK(decode_pen(*p, other).value() == std::nullopt);
    // A touch device's report is no pen.
    auto touch = parse_descriptor(parse_hex("05 0d 09 04 a1 01 85 01 09 22 a1 02 09 42 09 32 15 00 25 01 75 01 95 02"
                                            " 81 02 95 06 81 03 09 51 25 0a 75 08 95 01 81 02 05 01 09 30 09 31 26 ff"
                                            " 0f 75 10 95 02 81 02 c0 c0")
                                      .value());
    REQUIRE(touch);
    CHECK_FALSE(find_pen(*touch));
}

TEST_CASE("a pen that turns to its rubber end while touching leaves range in between, a frame per step") {
    pen_writer w;
    pen_state touching{true, true, false, false, false, 10, 20, 50};
    (void)w.frame(touching);
    CHECK(w.phase() == pen_phase::in_contact);
    pen_state erasing = touching;
    erasing.eraser = true;
    auto events = w.frame(erasing);
    std::vector<std::vector<evdev_event>> frames(1);
    for (const auto& e : events) {
        frames.back().push_back(e);
        if (e.type == EV_SYN) frames.emplace_back();
    }
    frames.pop_back();
    REQUIRE(frames.size() == 3);
    CHECK(frames[0] == std::vector<evdev_event>{{EV_KEY, BTN_TOUCH, 0}, {EV_SYN, SYN_REPORT, 0}});
    CHECK(frames[1] == std::vector<evdev_event>{{EV_KEY, BTN_TOOL_PEN, 0}, {EV_SYN, SYN_REPORT, 0}});
    CHECK(frames[2] == std::vector<evdev_event>{{EV_KEY, BTN_TOOL_RUBBER, 1},
                                                {EV_KEY, BTN_TOUCH, 1},
                                                {EV_ABS, ABS_X, 10},
                                                {EV_ABS, ABS_Y, 20},
                                                {EV_ABS, ABS_PRESSURE, 50},
                                                {EV_SYN, SYN_REPORT, 0}});
    CHECK(w.phase() == pen_phase::erasing);
    // Out of range and staying there writes nothing.
    (void)w.frame(pen_state{});
    CHECK(w.frame(pen_state{}).empty());
}

namespace {

// The pen node's state as compared with a kernel's: the tool of the whole
// stay in range (3.x kernels read Invert after In Range, so they showed the
// pen for one report before the rubber, and kept both set), touching (3.x
// mapped Eraser to BTN_0: the rubber end touching), barrel, and the position
// and pressure while in range.
struct pen_snapshot {
    int tool = 0;
    bool touch = false;
    bool stylus = false;
    int x = 0, y = 0, pressure = 0;
    bool operator==(const pen_snapshot&) const = default;
};

std::string show(const pen_snapshot& s) {
    std::ostringstream o;
    o << (s.tool == 0              ? "out"
          : s.tool == BTN_TOOL_PEN ? "pen"
                                   : "rubber")
      << (s.touch ? " touch" : "") << (s.stylus ? " stylus" : "") << " (" << s.x << "," << s.y << ") p" << s.pressure;
    return o.str();
}

struct pen_tracker {
    bool pen = false, rubber = false, touch = false, btn0 = false, stylus = false;
    int x = 0, y = 0, pressure = 0;
    void feed(int type, int code, int value) {
        if (type == EV_KEY && code == BTN_TOOL_PEN) pen = value;
        if (type == EV_KEY && code == BTN_TOOL_RUBBER) rubber = value;
        if (type == EV_KEY && code == BTN_TOUCH) touch = value;
        if (type == EV_KEY && code == BTN_0) btn0 = value;
        if (type == EV_KEY && code == BTN_STYLUS) stylus = value;
        if (type == EV_ABS && code == ABS_X) x = value;
        if (type == EV_ABS && code == ABS_Y) y = value;
        if (type == EV_ABS && code == ABS_PRESSURE) pressure = value;
    }
    pen_snapshot snapshot() const {
        pen_snapshot s;
        s.tool = rubber ? BTN_TOOL_RUBBER : pen ? BTN_TOOL_PEN : 0;
        if (s.tool == 0) return s;
        s.touch = touch || btn0;
        s.stylus = stylus;
        s.x = x, s.y = y, s.pressure = pressure;
        return s;
    }
};

// Consecutive duplicates dropped, and each stay in range given the tool it ends with.
std::vector<pen_snapshot> normalise(std::vector<pen_snapshot> in) {
    for (size_t i = 0; i < in.size();) {
        size_t j = i;
        while (j < in.size() && in[j].tool != 0)
            ++j;
        for (size_t k = i; k < j; ++k)
            in[k].tool = in[j - 1].tool;
        i = j == i ? i + 1 : j;
    }
    std::vector<pen_snapshot> out;
    for (const auto& s : in) {
        if (out.empty() || !(out.back() == s)) out.push_back(s);
    }
    return out;
}

}  // namespace

TEST_CASE("the N-trig pen's recording gives the pen node a kernel emitted for it") {
    auto dir = bbt::test::hid_data_dir();
    auto rec_path = dir / "recordings" / "n-trig_1b96_1000.hid";
    auto ev_path = dir / "expected_evemu" / "n-trig_1b96_1000_1.ev";
    if (!std::filesystem::exists(rec_path) || !std::filesystem::exists(ev_path)) {
        BBT_SKIP("no N-trig recording under " << dir.string());
        return;
    }
    auto rec = parse_recording(bbt::test::read_file(rec_path)).value();
    auto layout = find_pen(parse_descriptor(rec.descriptor).value());
    REQUIRE(layout);

    std::vector<pen_snapshot> ours;
    pen_writer w;
    pen_tracker t;
    for (const auto& r : rec.reports) {
        auto s = decode_pen(*layout, r.data);
        REQUIRE(s);
        if (!*s) continue;
        for (const auto& e : w.frame(**s)) {
            t.feed(e.type, e.code, e.value);
            if (e.type == EV_SYN) ours.push_back(t.snapshot());
        }
    }

    std::vector<pen_snapshot> kernel;
    pen_tracker k;
    std::istringstream in(bbt::test::read_file(ev_path));
    std::string line;
    int x_res = 0, y_res = 0;
    while (std::getline(in, line)) {
        if (line.starts_with("A: ")) {
            std::istringstream a(line.substr(3));
            int code = 0, min = 0, max = 0, fuzz = 0, flat = 0, res = 0;
            a >> std::hex >> code >> std::dec >> min >> max >> fuzz >> flat >> res;
            if (code == ABS_X) x_res = res;
            if (code == ABS_Y) y_res = res;
        }
        if (!line.starts_with("E: ")) continue;
        std::istringstream e(line.substr(3));
        double time = 0;
        int type = 0, code = 0, value = 0;
        e >> time >> std::hex >> type >> code >> std::dec >> value;
        k.feed(type, code, value);
        if (type == EV_SYN && code == SYN_REPORT) kernel.push_back(k.snapshot());
    }
    CHECK(std::abs(layout->x_axis.resolution - x_res) <= 1);
    CHECK(std::abs(layout->y_axis.resolution - y_res) <= 1);

    auto a = normalise(ours), b = normalise(kernel);
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i])
        ++i;
    std::string diff;
    if (i < a.size() || i < b.size()) {
        for (size_t j = i > 2 ? i - 2 : 0; j < i + 3; ++j) {
            diff += "\n  " + std::to_string(j) + " ours " + (j < a.size() ? show(a[j]) : "-") + "  kernel " +
                    (j < b.size() ? show(b[j]) : "-");
        }
    }
    MESSAGE("n-trig pen: " << a.size() << " states, " << (diff.empty() ? "equivalent" : "differ at " + diff));
    CHECK(diff.empty());
}
