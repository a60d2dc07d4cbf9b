// A projector on a serial line (termios through Asio's serial_port), spoken
// to in one of the command sets of serial_protocol.hpp: one command at a
// time, each answer awaited with a deadline, a pause between commands (slow
// projector firmware loses bytes otherwise).
#pragma once

#include "bbt/drivers/projector/serial_protocol.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/serial_port.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace bbt::drivers::serial {

class serial_projector {
public:
    // Opens `device` (e.g. /dev/ttyUSB0, or a pty in tests) with the set's framing.
    [[nodiscard]] static result<std::unique_ptr<serial_projector>> open(boost::asio::any_io_executor ex,
                                                                        const std::string& device, command_set cs);

    boost::asio::awaitable<result<pjlink::power>> query_power();
    boost::asio::awaitable<result<void>> set_power(bool on);
    boost::asio::awaitable<result<int64_t>> lamp_hours();
    boost::asio::awaitable<result<void>> select_input(std::string code);
    boost::asio::awaitable<result<void>> blank(bool on);

    std::chrono::milliseconds reply_timeout{5000};
    std::chrono::milliseconds gap{50};

    serial_projector(boost::asio::serial_port port, std::string device, command_set cs);

private:
    boost::asio::awaitable<result<std::string>> transact(std::string command);

    boost::asio::serial_port port_;
    std::string device_;
    command_set cs_;
    std::string buffer_;
};

}  // namespace bbt::drivers::serial
