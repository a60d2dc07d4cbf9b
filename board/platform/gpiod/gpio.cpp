#include "bbt/board/gpio.hpp"
#include "bbt/base/i18n.hpp"

#include <gpiod.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <ctime>

namespace bbt::board {
namespace {

constexpr const char* consumer = "bbt-agent";

struct chip_closer {
    void operator()(gpiod_chip* c) const noexcept { gpiod_chip_close(c); }
};
using chip_ptr = std::unique_ptr<gpiod_chip, chip_closer>;

result<chip_ptr> open_chip(const std::string& name) {
    if (name.empty()) {
        return error(base_errc::config_value,
                     i18n::text({"no GPIO chip is configured; set [gpio] chip (see gpioinfo)",
                                 "未配置 GPIO 芯片；请设置 [gpio] chip（可用 gpioinfo 查看）"}));
    }
    chip_ptr c(gpiod_chip_open_lookup(name.c_str()));
    if (!c) {
        return errno_error(errno,
                           i18n::text({"opening the GPIO chip (check [gpio] chip and the agent's access to it)",
                                       "打开 GPIO 芯片（请检查 [gpio] chip 以及本程序的访问权限）"}),
                           name);
    }
    return c;
}

result<gpiod_line*> find_line(gpiod_chip* chip, const std::string& chip_name, const gpio_line& l) {
    gpiod_line* line = l.offset ? gpiod_chip_get_line(chip, *l.offset) : gpiod_chip_find_line(chip, l.name.c_str());
    if (line == nullptr) {
        return errno_error(errno == 0 ? ENOENT : errno,
                           i18n::text({"finding the GPIO line on its chip", "在芯片上查找 GPIO 线"}),
                           fmt::format("{} line {}", chip_name, to_string(l)));
    }
    return line;
}

int flags_of(const gpio_line& l) { return l.active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0; }

// Takes an output over at the level it has now: read as it is, then driven.
result<gpiod_line*> take_output(gpiod_chip* chip, const std::string& chip_name, const gpio_line& l) {
    auto line = find_line(chip, chip_name, l);
    if (!line) return line.error();
    auto where = fmt::format("{} line {}", chip_name, to_string(l));
    gpiod_line_request_config as_is{consumer, GPIOD_LINE_REQUEST_DIRECTION_AS_IS, flags_of(l)};
    if (gpiod_line_request(*line, &as_is, 0) != 0) {
        return errno_error(errno,
                           i18n::text({"taking the GPIO line (is another program holding it? see gpioinfo)",
                                       "占用 GPIO 线（是否被其他程序占用？可用 gpioinfo 查看）"}),
                           where);
    }
    int now = gpiod_line_get_value(*line);
    gpiod_line_release(*line);
    if (gpiod_line_request_output_flags(*line, consumer, flags_of(l), now > 0 ? 1 : 0) != 0) {
        return errno_error(errno, i18n::text({"making the GPIO line an output", "将 GPIO 线设为输出"}), where);
    }
    return *line;
}

class gpio_relays final : public relay_bank {
public:
    gpio_relays(chip_ptr chip, std::array<gpiod_line*, 3> lines) : chip_(std::move(chip)), lines_(lines) {}
    ~gpio_relays() override {
        // Released, the lines keep their level: mains stay as they are.
        for (auto* l : lines_) {
            if (l != nullptr) gpiod_line_release(l);
        }
    }
    result<void> set(relay r, bool on) override {
        auto* l = lines_[static_cast<size_t>(r)];
        if (l == nullptr) {
            return error(base_errc::not_found, i18n::format({"the board has no {} relay wired; set [gpio] {}_relay",
                                                             "板卡未接{}继电器；请设置 [gpio] {}_relay"},
                                                            to_string(r), to_string(r)));
        }
        if (gpiod_line_set_value(l, on ? 1 : 0) != 0) {
            return errno_error(errno, i18n::text({"switching the relay", "切换继电器"}), to_string(r));
        }
        return {};
    }
    std::optional<bool> get(relay r) const override {
        auto* l = lines_[static_cast<size_t>(r)];
        if (l == nullptr) return std::nullopt;
        int v = gpiod_line_get_value(l);
        if (v < 0) return std::nullopt;
        return v > 0;
    }

private:
    chip_ptr chip_;
    std::array<gpiod_line*, 3> lines_;
};

class gpio_panel final : public panel {
public:
    gpio_panel(chip_ptr chip, gpiod_line* key, std::array<gpiod_line*, 2> leds, std::chrono::milliseconds debounce)
        : chip_(std::move(chip)), key_(key), leds_(leds), debounce_(debounce) {}
    ~gpio_panel() override {
        if (key_ != nullptr) gpiod_line_release(key_);
        for (auto* l : leds_) {
            if (l != nullptr) gpiod_line_release(l);
        }
    }
    int key_fd() const noexcept override { return key_ == nullptr ? -1 : gpiod_line_event_get_fd(key_); }
    result<std::vector<std::string>> read_keys() override {
        std::vector<std::string> keys;
        if (key_ == nullptr) return keys;
        const timespec no_wait{0, 0};
        for (int i = 0; i < 64 && gpiod_line_event_wait(key_, &no_wait) == 1; ++i) {
            gpiod_line_event ev{};
            if (gpiod_line_event_read(key_, &ev) != 0) {
                return errno_error(errno, i18n::text({"reading the class key", "读取上课键"}), "");
            }
            // A press is the edge into the active level; bounces within the
            // debounce time of the last press are the same press.
            if (ev.event_type != GPIOD_LINE_EVENT_RISING_EDGE) continue;
            auto at = std::chrono::seconds(ev.ts.tv_sec) + std::chrono::nanoseconds(ev.ts.tv_nsec);
            if (last_press_ && at - *last_press_ < debounce_) continue;
            last_press_ = at;
            keys.emplace_back("class");
        }
        return keys;
    }
    result<void> set_led(led l, bool on) override {
        auto* line = leds_[static_cast<size_t>(l)];
        if (line == nullptr) return {};  // an LED the board does not have
        if (gpiod_line_set_value(line, on ? 1 : 0) != 0) {
            return errno_error(errno, i18n::text({"switching the LED", "切换指示灯"}), to_string(l));
        }
        return {};
    }
    std::optional<bool> led_state(led l) const override {
        auto* line = leds_[static_cast<size_t>(l)];
        if (line == nullptr) return std::nullopt;
        int v = gpiod_line_get_value(line);
        if (v < 0) return std::nullopt;
        return v > 0;
    }

private:
    chip_ptr chip_;
    gpiod_line* key_;
    std::array<gpiod_line*, 2> leds_;
    std::chrono::milliseconds debounce_;
    std::optional<std::chrono::nanoseconds> last_press_;
};

}  // namespace

result<std::unique_ptr<relay_bank>> open_gpio_relays(const gpio_wiring& w) {
    auto chip = open_chip(w.chip);
    if (!chip) return chip.error();
    std::array<gpiod_line*, 3> lines{};
    const std::array<const std::optional<gpio_line>*, 3> wired{&w.projector_relay, &w.pc_relay, &w.amplifier_relay};
    for (size_t i = 0; i < wired.size(); ++i) {
        if (!*wired[i]) continue;
        auto l = take_output(chip->get(), w.chip, **wired[i]);
        if (!l) {
            for (auto* taken : lines) {
                if (taken != nullptr) gpiod_line_release(taken);
            }
            return l.error();
        }
        lines[i] = *l;
    }
    return std::unique_ptr<relay_bank>(std::make_unique<gpio_relays>(std::move(*chip), lines));
}

result<std::unique_ptr<panel>> open_gpio_panel(const gpio_wiring& w) {
    auto chip = open_chip(w.chip);
    if (!chip) return chip.error();
    gpiod_line* key = nullptr;
    std::array<gpiod_line*, 2> leds{};
    auto release_all = [&] {
        if (key != nullptr) gpiod_line_release(key);
        for (auto* l : leds) {
            if (l != nullptr) gpiod_line_release(l);
        }
    };
    if (w.class_key) {
        auto line = find_line(chip->get(), w.chip, *w.class_key);
        if (!line) return line.error();
        if (gpiod_line_request_both_edges_events_flags(*line, consumer, flags_of(*w.class_key)) != 0) {
            return errno_error(errno,
                               i18n::text({"watching the class key's GPIO line for presses", "监视上课键的 GPIO 线"}),
                               fmt::format("{} line {}", w.chip, to_string(*w.class_key)));
        }
        key = *line;
    }
    const std::array<const std::optional<gpio_line>*, 2> wired{&w.class_led, &w.fault_led};
    for (size_t i = 0; i < wired.size(); ++i) {
        if (!*wired[i]) continue;
        auto l = take_output(chip->get(), w.chip, **wired[i]);
        if (!l) {
            release_all();
            return l.error();
        }
        leds[i] = *l;
    }
    return std::unique_ptr<panel>(std::make_unique<gpio_panel>(std::move(*chip), key, leds, w.key_debounce));
}

}  // namespace bbt::board
