// Attempts per address in a fixed one-minute window: enrolment codes and
// dashboard passwords cannot be tried at speed. Single-threaded (each
// listener's own thread).
#pragma once

#include "bbt/base/clock.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace bbt::county {

class rate_limit {
public:
    explicit rate_limit(int per_minute) : per_minute_(per_minute) {}

    // Counts an attempt from `address`: nothing when it may go on, else the
    // seconds until the window ends.
    std::optional<int64_t> attempt(const std::string& address) {
        constexpr int64_t minute_us = 60'000'000;
        int64_t now = clock::monotonic_now().count();
        if (windows_.size() > 10'000) {
            std::erase_if(windows_, [&](const auto& kv) { return now - kv.second.start_us >= minute_us; });
        }
        auto& w = windows_[address];
        if (now - w.start_us >= minute_us) w = {now, 0};
        if (++w.count <= per_minute_) return std::nullopt;
        return (w.start_us + minute_us - now) / 1'000'000 + 1;
    }

private:
    struct window {
        int64_t start_us = 0;
        int count = 0;
    };
    int per_minute_;
    std::map<std::string, window> windows_;
};

}  // namespace bbt::county
