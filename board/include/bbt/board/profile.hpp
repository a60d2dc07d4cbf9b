// Board profiles: what a classroom set's hardware is, by name. Board
// specifics live here so that the agent's configuration only names one.
#pragma once

#include "bbt/base/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bbt::board {

// A device whose states the usage ledger records.
struct device {
    std::string id;           // stable key in the ledger, e.g. "set"
    std::string description;  // for people (English; zh in description_zh)
    std::string description_zh;
};

struct profile {
    std::string name;
    std::string description;
    std::string description_zh;
    bool simulated = false;  // every device is a simulator speaking the real protocol
    bool gpio = false;       // relays, class key and LEDs on GPIO lines, wired as [gpio] says
    std::vector<device> devices;
};

enum class board_errc { unknown_profile = 1 };
const std::error_category& board_category() noexcept;
std::error_code make_error_code(board_errc e) noexcept;

// The built-in profiles, in a stable order.
[[nodiscard]] const std::vector<profile>& profiles();
// The profile named `name`; the error lists the known names.
[[nodiscard]] result<profile> find_profile(std::string_view name);

}  // namespace bbt::board

template <>
struct std::is_error_code_enum<bbt::board::board_errc> : std::true_type {};
