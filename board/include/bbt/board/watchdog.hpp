// The board's hardware watchdog (/dev/watchdog: a SoC's, or softdog): fed
// from the control loop, it resets the set when the loop hangs. Closed on a
// clean stop with the magic 'V', so that stopping the agent does not reset.
#pragma once

#include "bbt/base/error.hpp"

#include <chrono>
#include <filesystem>
#include <memory>

namespace bbt::board {

class watchdog {
public:
    // Opens `device` (arming it) and asks for `timeout`; the device may round
    // it, timeout() says what it took.
    [[nodiscard]] static result<std::unique_ptr<watchdog>> open(const std::filesystem::path& device,
                                                                std::chrono::seconds timeout);
    ~watchdog();  // disarms (magic close)
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    [[nodiscard]] result<void> feed();
    [[nodiscard]] std::chrono::seconds timeout() const noexcept { return timeout_; }

private:
    watchdog(int fd, std::filesystem::path device, std::chrono::seconds timeout)
        : fd_(fd), device_(std::move(device)), timeout_(timeout) {}
    int fd_;
    std::filesystem::path device_;
    std::chrono::seconds timeout_;
};

}  // namespace bbt::board
