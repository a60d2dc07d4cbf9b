#include "bbt/base/i18n.hpp"
#include "bbt/board/gpio.hpp"

#include <algorithm>
#include <charconv>

namespace bbt::board {

result<std::optional<gpio_line>> parse_gpio_line(std::string_view spec) {
    if (spec.empty()) return std::optional<gpio_line>{};
    gpio_line l;
    if (spec.front() == '!') {
        l.active_low = true;
        spec.remove_prefix(1);
    }
    auto bad = [&] {
        return error(base_errc::config_value,
                     i18n::text({"a GPIO line is its offset on the chip (\"17\") or its name (\"RELAY_PROJ\"), with "
                                 "\"!\" in front when it is active low",
                                 "GPIO 线为芯片上的偏移（“17”）或其名称（“RELAY_PROJ”），低电平有效时前加“!”"}));
    };
    if (spec.empty() || spec.size() > 31) return bad();
    if (std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        uint32_t n = 0;
        auto [end, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), n);
        if (ec != std::errc{} || end != spec.data() + spec.size() || n > 65535) return bad();
        l.offset = n;
        return std::optional<gpio_line>{l};
    }
    bool named = std::all_of(spec.begin(), spec.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
    if (!named) return bad();
    l.name = std::string(spec);
    return std::optional<gpio_line>{l};
}

std::string to_string(const gpio_line& l) {
    return (l.active_low ? "!" : "") + (l.offset ? std::to_string(*l.offset) : l.name);
}

}  // namespace bbt::board
