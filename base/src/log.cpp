#include "bbt/base/log.hpp"
#include "bbt/base/text.hpp"

#include "bbt/base/i18n.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace bbt::log {
namespace {

struct registry {
    std::mutex mutex;
    std::vector<category*> categories;
    int default_level = static_cast<int>(level::info);
    std::map<std::string, int, std::less<>> overrides;
    std::string spec;  // as last applied

    int threshold_for(std::string_view name) const {
        auto it = overrides.find(name);
        return it == overrides.end() ? default_level : it->second;
    }
};

registry& the_registry() {
    static registry r;
    return r;
}

std::optional<level> parse_level(std::string_view s) {
    if (s == "error" || s == "err") return level::error;
    if (s == "warning" || s == "warn") return level::warning;
    if (s == "notice") return level::notice;
    if (s == "info") return level::info;
    if (s == "debug") return level::debug;
    return std::nullopt;
}

const char* level_name(level l) {
    switch (l) {
        case level::error: return "error";
        case level::warning: return "warning";
        case level::notice: return "notice";
        case level::info: return "info";
        case level::debug: return "debug";
    }
    return "?";
}

}  // namespace

category::category(std::string_view name) : name_(name) {
    auto& r = the_registry();
    std::lock_guard lock(r.mutex);
    threshold_.store(r.threshold_for(name_), std::memory_order_relaxed);
    r.categories.push_back(this);
}

category::~category() {
    auto& r = the_registry();
    std::lock_guard lock(r.mutex);
    std::erase(r.categories, this);
}

namespace {

struct parsed_spec {
    int default_level = static_cast<int>(level::info);
    std::map<std::string, int, std::less<>> overrides;
};

result<parsed_spec> parse_spec(std::string_view spec) {
    parsed_spec out;
    auto& default_level = out.default_level;
    auto& overrides = out.overrides;
    while (!spec.empty()) {
        auto comma = spec.find(',');
        std::string_view item = trim_blanks(spec.substr(0, comma));
        spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        auto eq = item.find('=');
        std::string_view name = eq == std::string_view::npos ? std::string_view() : trim_blanks(item.substr(0, eq));
        std::string_view value = eq == std::string_view::npos ? item : trim_blanks(item.substr(eq + 1));
        auto l = parse_level(value);
        if (!l || (eq != std::string_view::npos && name.empty())) {
            return bbt::error(base_errc::config_value,
                              i18n::format({"bad log level \"{}\": use error, warning, notice, info or debug, "
                                            "optionally as category=level, separated by commas",
                                            "日志级别“{}”无效：请使用 error、warning、notice、info 或 debug，"
                                            "可写成 类别=级别，以逗号分隔"},
                                           item),
                              "BBT_LOG");
        }
        if (name.empty()) {
            default_level = static_cast<int>(*l);
        } else {
            overrides[std::string(name)] = static_cast<int>(*l);
        }
    }
    return out;
}

}  // namespace

result<void> validate(std::string_view spec) {
    auto parsed = parse_spec(spec);
    if (!parsed) return parsed.error();
    return {};
}

result<void> configure(std::string_view spec) {
    auto parsed = parse_spec(spec);
    if (!parsed) return parsed.error();
    auto& r = the_registry();
    std::lock_guard lock(r.mutex);
    r.default_level = parsed->default_level;
    r.overrides = std::move(parsed->overrides);
    r.spec = std::string(spec);
    for (category* c : r.categories) {
        c->set_threshold(static_cast<level>(r.threshold_for(c->name())));
    }
    return {};
}

std::string current_spec() {
    auto& r = the_registry();
    std::lock_guard lock(r.mutex);
    return r.spec;
}

void configure_from_environment() {
    const char* spec = std::getenv("BBT_LOG");
    if (spec == nullptr) {
        return;
    }
    if (auto r = configure(spec); !r) {
        std::string line = fmt::format("<4>{}\n", r.error().what());
        (void)!::write(STDERR_FILENO, line.data(), line.size());
    }
}

void write(const category& cat, level l, std::string_view text) noexcept {
    try {
        // On a terminal people read level names; under systemd the prefix
        // "<N>" is what journald turns into the entry's priority.
        static const bool tty = ::isatty(STDERR_FILENO) == 1;
        std::string line = tty ? fmt::format("{:<7} {}: {}\n", level_name(l), cat.name(), text)
                               : fmt::format("<{}>{}: {}\n", static_cast<int>(l), cat.name(), text);
        const char* p = line.data();
        size_t left = line.size();
        while (left > 0) {
            ssize_t n = ::write(STDERR_FILENO, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            p += n;
            left -= static_cast<size_t>(n);
        }
    } catch (...) {
        // Logging must never take the agent down (e.g. on bad_alloc).
    }
}

}  // namespace bbt::log
