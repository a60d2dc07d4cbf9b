// The control board's front panel: the class key and two LEDs (class on,
// fault). The simulated panel takes key presses as lines written into a FIFO
// ("class", by a test or `bbt-sim key`) and logs its LEDs like the relays.
#pragma once

#include "bbt/base/error.hpp"

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::board {

enum class led { in_class, fault };
[[nodiscard]] std::string_view to_string(led l) noexcept;

class panel {
public:
    virtual ~panel() = default;
    // Readable when a key was pressed; read_keys() then says which ("class").
    [[nodiscard]] virtual int key_fd() const noexcept = 0;
    [[nodiscard]] virtual result<std::vector<std::string>> read_keys() = 0;
    [[nodiscard]] virtual result<void> set_led(led l, bool on) = 0;
    [[nodiscard]] virtual std::optional<bool> led_state(led l) const = 0;
};

class sim_panel final : public panel {
public:
    // Makes the FIFO `keys` (if missing) and opens it; LED changes go to `led_log`.
    [[nodiscard]] static result<std::unique_ptr<sim_panel>> open(const std::filesystem::path& keys,
                                                                 std::filesystem::path led_log);
    ~sim_panel() override;
    int key_fd() const noexcept override { return read_fd_; }
    result<std::vector<std::string>> read_keys() override;
    result<void> set_led(led l, bool on) override;
    std::optional<bool> led_state(led l) const override { return leds_[static_cast<size_t>(l)]; }

    sim_panel(int read_fd, int keep_fd, std::filesystem::path led_log)
        : read_fd_(read_fd), keep_fd_(keep_fd), led_log_(std::move(led_log)) {}

private:
    int read_fd_ = -1;
    int keep_fd_ = -1;  // a writer held open, so that the FIFO never reads as closed
    std::filesystem::path led_log_;
    std::string partial_;
    std::array<bool, 2> leds_{};
};

}  // namespace bbt::board
