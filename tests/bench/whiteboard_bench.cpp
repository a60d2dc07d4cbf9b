// Whiteboard figures:
//   whiteboard.decode_reports_per_s        10-contact reports decoded per second, one core
//   whiteboard.report_latency_p50 / _p99   report in to events out, in process, 10 contacts: decoder,
//                                          contact tracker, calibration map and both nodes' events
//   whiteboard.cpu_at_200hz_10_contacts    CPU used on a 200 Hz stream for 2 s (whole path), % of one core
// The device is synthetic (a 10-finger parallel touch screen), so the figures
// do not depend on data outside the repository.
#include "bbt/drivers/whiteboard/contact_tracker.hpp"
#include "bbt/drivers/whiteboard/mt_decoder.hpp"
#include "bbt/drivers/whiteboard/output.hpp"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

using namespace bbt::drivers::hid;
using std::chrono::steady_clock;

namespace {

std::vector<uint8_t> ten_finger_descriptor() {
    std::vector<uint8_t> d{0x05, 0x0d, 0x09, 0x04, 0xa1, 0x01, 0x85, 0x01};
    for (int i = 0; i < 10; ++i) {
        const uint8_t finger[] = {0x05, 0x0d, 0x09, 0x22, 0xa1, 0x02, 0x09, 0x42, 0x15, 0x00, 0x25, 0x01,
                                  0x75, 0x01, 0x95, 0x01, 0x81, 0x02, 0x95, 0x07, 0x81, 0x03, 0x09, 0x51,
                                  0x25, 0x3f, 0x75, 0x08, 0x95, 0x01, 0x81, 0x02, 0x05, 0x01, 0x09, 0x30,
                                  0x09, 0x31, 0x26, 0xff, 0x7f, 0x75, 0x10, 0x95, 0x02, 0x81, 0x02, 0xc0};
        d.insert(d.end(), std::begin(finger), std::end(finger));
    }
    const uint8_t tail[] = {0x05, 0x0d, 0x09, 0x54, 0x25, 0x0a, 0x75, 0x08, 0x95, 0x01, 0x81, 0x02, 0xc0};
    d.insert(d.end(), std::begin(tail), std::end(tail));
    return d;
}

// Ten fingers drawing circles; report n of the stream.
std::vector<uint8_t> report_at(int n) {
    std::vector<uint8_t> r{0x01};
    for (int i = 0; i < 10; ++i) {
        double a = n * 0.01 + i;
        auto x = static_cast<uint16_t>(16000 + 8000 * std::cos(a));
        auto y = static_cast<uint16_t>(16000 + 8000 * std::sin(a));
        r.insert(r.end(), {0x01, static_cast<uint8_t>(i), static_cast<uint8_t>(x), static_cast<uint8_t>(x >> 8),
                           static_cast<uint8_t>(y), static_cast<uint8_t>(y >> 8)});
    }
    r.push_back(10);
    return r;
}

// Counts what would go to uinput.
class counting_sink final : public event_sink {
public:
    bbt::result<void> write(node, std::span<const evdev_event> events) override {
        count += events.size();
        return {};
    }
    size_t count = 0;
};

double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

void bench_whiteboard() {
    auto d = parse_descriptor(ten_finger_descriptor()).value();
    auto t = find_touch(d).value();
    mt_decoder dec(make_mt_layout(d, t), default_quirks(d), t.max_contacts);
    std::vector<std::vector<uint8_t>> stream;
    for (int n = 0; n < 1000; ++n)
        stream.push_back(report_at(n));

    // Throughput.
    constexpr int reports = 1'000'000;
    size_t frames = 0;
    auto t0 = steady_clock::now();
    for (int n = 0; n < reports; ++n) {
        auto f = dec.feed(stream[static_cast<size_t>(n) % stream.size()]);
        frames += f && *f ? 1 : 0;
    }
    double s = std::chrono::duration<double>(steady_clock::now() - t0).count();
    if (frames != reports) fmt::print(stderr, "bench: only {} of {} reports made frames\n", frames, reports);
    fmt::print("bench: whiteboard.decode_reports_per_s {:.0f} reports/s\n", reports / s);

    // Latency of each report through the agent's whole touch path: report
    // in, events for the OS out (a calibrated map onto a 1920 x 1080 screen).
    auto dev = touch_device_for(d, 0, 0).value();
    bbt::drivers::whiteboard::homography keystone;
    keystone.h = {0.06, 0.001, 5, -0.0005, 0.033, 3, 1e-7, -1e-7, 1};
    auto map = screen_map::to_screen(dev, 1920, 1080, {0, 0, 1920, 1080}, &keystone);
    counting_sink sink;
    touch_output out(dev.decoder.slot_count(), map, map, sink);
    contact_tracker tracker(std::move(dev), std::nullopt, {});
    std::vector<tracked_frame> tracked;
    std::vector<double> ns;
    ns.reserve(100'000);
    for (int n = 0; n < 100'000; ++n) {
        const auto& r = stream[static_cast<size_t>(n) % stream.size()];
        auto a = steady_clock::now();
        tracked.clear();
        (void)tracker.feed(r, n * 5000, tracked);
        for (const auto& f : tracked)
            (void)out.write(f);
        auto b = steady_clock::now();
        if (tracked.empty()) continue;
        ns.push_back(std::chrono::duration<double, std::nano>(b - a).count());
    }
    if (sink.count == 0) fmt::print(stderr, "bench: the touch path wrote no events\n");
    std::sort(ns.begin(), ns.end());
    fmt::print("bench: whiteboard.report_latency_p50 {:.2f} us\n", ns[ns.size() / 2] / 1000);
    fmt::print("bench: whiteboard.report_latency_p99 {:.2f} us\n", ns[ns.size() * 99 / 100] / 1000);

    // A 200 Hz stream for 2 s, as a board sends it, and the CPU it costs;
    // the reference is the same 200 Hz loop doing nothing (its wake-ups
    // alone), measured in the same run.
    auto loop_cpu = [&](bool work) {
        double cpu0 = cpu_seconds();
        auto start = steady_clock::now();
        for (int n = 0; n < 400; ++n) {
            std::this_thread::sleep_until(start + std::chrono::microseconds(5000 * n));
            if (!work) continue;
            tracked.clear();
            (void)tracker.feed(stream[static_cast<size_t>(n) % stream.size()], 1'000'000'000 + n * 5000, tracked);
            for (const auto& f : tracked)
                (void)out.write(f);
        }
        double wall = std::chrono::duration<double>(steady_clock::now() - start).count();
        return 100 * (cpu_seconds() - cpu0) / wall;
    };
    double idle = loop_cpu(false);
    double busy = loop_cpu(true);
    fmt::print("bench: whiteboard.cpu_at_200hz_10_contacts {:.3f} % vs empty_200hz_loop {:.2f}\n", busy,
               idle > 0 ? busy / idle : 0.0);
}
