// A projector, whatever wire it is reached on: PJLink over the LAN, or one of
// the command sets of serial_protocol.hpp over RS-232. The agent's projector
// service and the classroom controller speak to this interface only; the
// transport is chosen once, when the projector is opened.
//
// An implementation is used from one coroutine at a time (projectors take one
// connection, one command at a time): the caller queues.
#pragma once

#include "bbt/drivers/projector/pjlink.hpp"
#include "bbt/drivers/projector/pjlink_client.hpp"
#include "bbt/drivers/projector/serial_protocol.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bbt::drivers::projector {

// What one reading of the projector told; what the wire cannot tell is left empty.
struct readings {
    std::optional<pjlink::power> power;
    std::optional<pjlink::error_status> errors;
    std::optional<std::vector<pjlink::lamp>> lamps;
    bool no_lamp = false;  // it said it has none: a laser or LED light source
    std::optional<pjlink::input> input;
    std::optional<pjlink::av_mute> mute;
    std::optional<int64_t> filter_hours;
};

class projector {
public:
    virtual ~projector() = default;

    // For people: "HOST:PORT", or "DEVICE (COMMAND SET)".
    [[nodiscard]] virtual std::string address() const = 0;
    // Whether it says when it is cooling down (PJLink and Epson do; BenQ's
    // serial protocol says OFF at once): if not, a cool-down is timed
    // instead of seen.
    [[nodiscard]] virtual bool reports_cooling() const = 0;

    // The power state now (asked, not remembered).
    virtual boost::asio::awaitable<result<pjlink::power>> query_power() = 0;
    // On or off; refused with pjlink_errc::unavailable_time while warming or
    // cooling (the caller's to wait out).
    virtual boost::asio::awaitable<result<void>> set_power(bool on) = 0;
    // A PJLink input code ("31"); serial command sets map it to their own.
    virtual boost::asio::awaitable<result<void>> select_input(std::string code) = 0;
    // Picture and sound muted together, which every projector supports.
    virtual boost::asio::awaitable<result<void>> blank(bool on) = 0;
    // Power and error status; with `full`, also lamps, input, mute and filter.
    // An error means the projector could not be reached at all.
    virtual boost::asio::awaitable<result<readings>> read(bool full) = 0;
    // Who it is; nothing where the wire cannot tell.
    virtual boost::asio::awaitable<result<std::optional<pjlink::projector_info>>> identify() = 0;
};

// PJLink over TCP; one connection per call, as projectors want.
[[nodiscard]] std::unique_ptr<projector> open_pjlink(boost::asio::any_io_executor ex, pjlink::endpoint where);

// A command set over a serial line. The port is opened when first needed and
// again after it failed to open, so that a cable plugged in later is found.
[[nodiscard]] std::unique_ptr<projector> open_serial(boost::asio::any_io_executor ex, std::string device,
                                                     serial::command_set cs, std::chrono::milliseconds reply_timeout);

}  // namespace bbt::drivers::projector
