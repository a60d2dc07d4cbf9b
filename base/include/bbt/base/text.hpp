// Small text helpers shared by the readers of configuration and headers.
#pragma once

#include <string_view>

namespace bbt {

// `s` without the spaces and tabs around it.
[[nodiscard]] constexpr std::string_view trim_blanks(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace bbt
