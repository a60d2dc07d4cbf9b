// Logging to stderr with sd-daemon priority prefixes ("<3>", "<6>" ...), so
// that journald keeps each line's level. Every part logs under a category of
// its own; levels come from BBT_LOG, e.g. "info" or "warning,ledger=debug".
//
// Thread-safe: a line is formatted on the caller's thread and written with one
// write(2). No secret may ever be passed to a log call.
#pragma once

#include "bbt/base/error.hpp"

#include <fmt/format.h>

#include <atomic>
#include <string>
#include <string_view>

namespace bbt::log {

// Values are the syslog priorities that sd-daemon prefixes carry.
enum class level : int { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// A named logging category. Create one per part (or per module) with static
// storage duration; it registers itself and follows later configure() calls.
class category {
public:
    explicit category(std::string_view name);
    ~category();
    category(const category&) = delete;
    category& operator=(const category&) = delete;

    [[nodiscard]] std::string_view name() const noexcept { return name_; }
    [[nodiscard]] bool enabled(level l) const noexcept {
        return static_cast<int>(l) <= threshold_.load(std::memory_order_relaxed);
    }
    void set_threshold(level l) noexcept { threshold_.store(static_cast<int>(l), std::memory_order_relaxed); }

private:
    std::string name_;
    std::atomic<int> threshold_;
};

// Applies a level specification: a default level, then "category=level"
// overrides, comma separated. Levels: error, warning, notice, info, debug.
// Returns an error naming the bad part of the specification; nothing changes then.
[[nodiscard]] result<void> configure(std::string_view spec);
// The specification last applied ("" before any): what a module with its own
// copy of this library is given, so that it logs as the program does.
[[nodiscard]] std::string current_spec();
// Checks a specification without applying it.
[[nodiscard]] result<void> validate(std::string_view spec);

// Reads BBT_LOG; a malformed value is reported on stderr and ignored.
void configure_from_environment();

void write(const category& cat, level l, std::string_view text) noexcept;

template <class... Args>
void emit(const category& cat, level l, fmt::format_string<Args...> f, Args&&... args) {
    if (cat.enabled(l)) {
        write(cat, l, fmt::format(f, std::forward<Args>(args)...));
    }
}

template <class... Args>
void error(const category& c, fmt::format_string<Args...> f, Args&&... a) {
    emit(c, level::error, f, std::forward<Args>(a)...);
}
template <class... Args>
void warning(const category& c, fmt::format_string<Args...> f, Args&&... a) {
    emit(c, level::warning, f, std::forward<Args>(a)...);
}
template <class... Args>
void notice(const category& c, fmt::format_string<Args...> f, Args&&... a) {
    emit(c, level::notice, f, std::forward<Args>(a)...);
}
template <class... Args>
void info(const category& c, fmt::format_string<Args...> f, Args&&... a) {
    emit(c, level::info, f, std::forward<Args>(a)...);
}
template <class... Args>
void debug(const category& c, fmt::format_string<Args...> f, Args&&... a) {
    emit(c, level::debug, f, std::forward<Args>(a)...);
}

}  // namespace bbt::log
