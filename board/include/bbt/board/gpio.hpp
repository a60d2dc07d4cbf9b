// The control board on Linux GPIO lines (the character device, through
// libgpiod): mains relays as outputs, the class key as an edge-event input,
// LEDs as outputs. Which chip and lines is the board's wiring, given in the
// agent's [gpio] configuration; this header's parser reads one line's spec.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/board/panel.hpp"
#include "bbt/board/relays.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bbt::board {

// One GPIO line: by offset on its chip ("17") or by the name the board's
// device tree gives it ("RELAY_PROJ"); "!" in front: active low (a relay or
// LED that is on when the pin is low, a key that pulls the pin down).
struct gpio_line {
    std::optional<uint32_t> offset;
    std::string name;
    bool active_low = false;

    friend bool operator==(const gpio_line&, const gpio_line&) = default;
};

// Parses a line spec; empty text means "not wired" (nullopt). Pure.
[[nodiscard]] result<std::optional<gpio_line>> parse_gpio_line(std::string_view spec);
[[nodiscard]] std::string to_string(const gpio_line& l);

struct gpio_wiring {
    std::string chip;  // a name (gpiochip0), path (/dev/gpiochip0), label or number
    std::optional<gpio_line> projector_relay, pc_relay, amplifier_relay;
    std::optional<gpio_line> class_key;
    std::optional<gpio_line> class_led, fault_led;
    std::chrono::milliseconds key_debounce{50};
};

// Relays on GPIO outputs. A relay's line is taken over as it stands: an
// agent restarted during a lesson never switches a running projector off.
[[nodiscard]] result<std::unique_ptr<relay_bank>> open_gpio_relays(const gpio_wiring& w);

// The class key (an edge-event line, debounced) and the LEDs, on GPIO.
[[nodiscard]] result<std::unique_ptr<panel>> open_gpio_panel(const gpio_wiring& w);

}  // namespace bbt::board
