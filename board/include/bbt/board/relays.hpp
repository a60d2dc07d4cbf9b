// The classroom's mains relays (projector, PC, amplifier), as the control
// board switches them. The simulated bank keeps every change in a log file
// ("<wall µs> <relay> on|off" per line), so that tests and people can check
// what happened, e.g. that mains were never cut while the projector cooled.
#pragma once

#include "bbt/base/error.hpp"

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

namespace bbt::board {

enum class relay { projector, pc, amplifier };
inline constexpr std::array<relay, 3> all_relays{relay::projector, relay::pc, relay::amplifier};
[[nodiscard]] std::string_view to_string(relay r) noexcept;

class relay_bank {
public:
    virtual ~relay_bank() = default;
    [[nodiscard]] virtual result<void> set(relay r, bool on) = 0;
    // The relay's state; nullopt when the board has no such relay.
    [[nodiscard]] virtual std::optional<bool> get(relay r) const = 0;
};

// Relays in memory, each change appended (and flushed) to `log`.
class sim_relays final : public relay_bank {
public:
    explicit sim_relays(std::filesystem::path log) : log_(std::move(log)) {}
    result<void> set(relay r, bool on) override;
    std::optional<bool> get(relay r) const override { return state_[static_cast<size_t>(r)]; }

private:
    std::filesystem::path log_;
    std::array<bool, 3> state_{};
};

}  // namespace bbt::board
