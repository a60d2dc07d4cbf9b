// The agent's projector: PJLink over the LAN (or a command set over RS-232,
// which tells power and lamp hours only), polled gently (power and error
// status every `poll`, lamp and filter hours every `lamp_poll`, identity once
// each time it comes back), with every state in the usage ledger (on,
// warming, cooling, standby, unreachable) and alerts for error-status
// warnings and errors, a lamp past its configured share of rated life, and a
// projector that stops answering. All PJLink traffic goes through one queue:
// one connection at a time, as projectors need.
#pragma once

#include "bbt/agent/config.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/drivers/projector/pjlink_client.hpp"
#include "bbt/drivers/projector/serial_projector.hpp"
#include "bbt/protocol/county.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bbt::agent {

class projector_service final : public service {
public:
    projector_service(asio::any_io_executor executor, agent_config::projector_config config, ledger_service& ledger);

    [[nodiscard]] std::string_view name() const override { return "projector"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    [[nodiscard]] bool configured() const noexcept { return config_.protocol != "none"; }
    [[nodiscard]] const agent_config::projector_config& config() const noexcept { return config_; }

    // projector.status: reachable, power, input, mute, errors, lamps, filter, identity.
    [[nodiscard]] boost::json::object status() const;
    // What the county's heartbeat carries, and its inventory entry.
    [[nodiscard]] std::vector<protocol::county::lamp> lamps() const;
    [[nodiscard]] std::optional<protocol::county::device> identity() const;
    // "on", "warming", "cooling", "standby", "unreachable", or "" before the first poll.
    [[nodiscard]] const std::string& state() const noexcept { return state_; }

    // Whether the projector says when it is cooling down (PJLink and Epson
    // do; BenQ's serial protocol says OFF at once): if not, a cool-down is
    // timed instead of seen.
    [[nodiscard]] bool reports_cooling() const;
    // The power state now (asked, not remembered).
    asio::awaitable<result<drivers::pjlink::power>> query_power();
    // POWR 1 / POWR 0 (ERR3 while warming or cooling is the caller's to wait out).
    asio::awaitable<result<void>> set_power(bool on);
    asio::awaitable<result<void>> select_input(std::string code);
    // Video and audio mute together (AVMT 31/30), which every projector supports.
    asio::awaitable<result<void>> blank(bool on);
    // Polls now (after a command), instead of at the next interval.
    void poll_soon();

private:
    asio::awaitable<result<std::vector<drivers::pjlink::exchange>>> exchange(
        std::vector<drivers::pjlink::request> requests);
    asio::awaitable<result<void>> command(drivers::pjlink::request r);
    [[nodiscard]] bool serial() const noexcept { return config_.protocol == "serial"; }
    // The serial port, opened (again) when needed; waits for the one-at-a-time queue.
    asio::awaitable<result<drivers::serial::serial_projector*>> take_serial();
    void release() noexcept { busy_ = false; }
    // Waits for the one-at-a-time queue and takes it; false when stopping.
    asio::awaitable<bool> take_turn();
    asio::awaitable<void> poll_serial();
    void check_lamp_hours();
    asio::awaitable<void> poll_loop();
    asio::awaitable<void> listen_notices();
    asio::awaitable<void> poll_once();
    void note_power(drivers::pjlink::power p);
    void note_unreachable(const error& why);
    void set_alert(const std::string& code, const std::string& severity, const std::string& message, bool open);

    asio::any_io_executor executor_;
    agent_config::projector_config config_;
    ledger_service& ledger_;
    drivers::pjlink::endpoint endpoint_;
    std::unique_ptr<drivers::serial::serial_projector> serial_;
    std::unique_ptr<asio::ip::udp::socket> notices_;
    asio::steady_timer timer_;
    asio::steady_timer queue_timer_;
    bool busy_ = false;
    bool stopping_ = false;
    bool poll_requested_ = false;  // poll_soon() while a poll ran
    bool loop_done_ = true;

    std::string state_;
    bool reachable_ = false;
    int failures_ = 0;
    std::string last_error_;
    std::optional<drivers::pjlink::power> power_;
    std::optional<drivers::pjlink::error_status> errors_;
    std::optional<drivers::pjlink::input> input_;
    std::optional<drivers::pjlink::av_mute> mute_;
    std::vector<drivers::pjlink::lamp> lamp_hours_;
    bool no_lamp_ = false;
    std::optional<int64_t> filter_hours_;
    std::optional<drivers::pjlink::projector_info> info_;  // identity, read once per reachable spell
    std::chrono::steady_clock::time_point last_lamp_poll_{};
    std::map<std::string, std::string> open_alerts_;  // code -> severity
};

}  // namespace bbt::agent
