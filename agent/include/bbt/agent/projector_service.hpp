// The agent's projector: PJLink over the LAN (or a command set over RS-232,
// which tells power and lamp hours only), polled gently (power and error
// status every `poll`, lamp and filter hours every `lamp_poll`, identity once
// each time it comes back), with every state in the usage ledger (on,
// warming, cooling, standby, unreachable) and alerts for error-status
// warnings and errors, a lamp past its configured share of rated life, and a
// projector that stops answering. All traffic goes through one queue: one
// connection (or one serial command) at a time, as projectors need.
//
// The service is itself a drivers::projector::projector, which the classroom
// controller drives: the queue and the ledger stand between them and the
// wire. Runs on the control thread.
#pragma once

#include "bbt/agent/config.hpp"
#include "bbt/agent/facts.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/drivers/projector/projector.hpp"
#include "bbt/protocol/county.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bbt::agent {

// projector.status: what the service knows of its projector.
struct projector_status {
    bool configured = false;
    std::string address;
    bool reachable = false;
    protocol::county::projector_state state = protocol::county::projector_state::unknown;
    std::string last_error;
    std::optional<drivers::pjlink::power> power;
    std::optional<drivers::pjlink::input> input;
    std::optional<bool> blanked;
    std::optional<drivers::pjlink::error_status> errors;
    std::vector<drivers::pjlink::lamp> lamps;
    bool no_lamp = false;
    double lamp_rated_hours = 0;
    std::optional<int64_t> filter_hours;
    std::optional<drivers::pjlink::projector_info> identity;
};

class projector_service final : public service, public drivers::projector::projector {
public:
    projector_service(asio::any_io_executor executor, agent_config::projector_config config, fact_sink& facts);
    // Over a projector of the caller's (tests).
    projector_service(asio::any_io_executor executor, agent_config::projector_config config, fact_sink& facts,
                      std::unique_ptr<drivers::projector::projector> link);

    [[nodiscard]] std::string_view name() const override { return "projector"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    [[nodiscard]] bool configured() const noexcept { return link_ != nullptr; }
    [[nodiscard]] const agent_config::projector_config& config() const noexcept { return config_; }

    [[nodiscard]] projector_status status() const;
    // What the county's heartbeat carries, and its inventory entry.
    [[nodiscard]] std::vector<protocol::county::lamp> lamps() const;
    [[nodiscard]] std::optional<protocol::county::device> identity() const;
    [[nodiscard]] protocol::county::projector_state state() const noexcept { return state_; }

    // drivers::projector::projector, through the queue. A command that
    // succeeds makes the service read the projector again at once.
    [[nodiscard]] std::string address() const override;
    [[nodiscard]] bool reports_cooling() const override;
    asio::awaitable<result<drivers::pjlink::power>> query_power() override;
    asio::awaitable<result<void>> set_power(bool on) override;
    asio::awaitable<result<void>> select_input(std::string code) override;
    asio::awaitable<result<void>> blank(bool on) override;
    asio::awaitable<result<drivers::projector::readings>> read(bool full) override;
    asio::awaitable<result<std::optional<drivers::pjlink::projector_info>>> identify() override;

    // Polls now, instead of at the next interval.
    void poll_soon();

private:
    // Waits for the one-at-a-time queue and takes it; false when stopping.
    asio::awaitable<bool> take_turn();
    // What an answer says of the projector's reachability.
    void note_answer(const error& e);
    void note_reachable();
    void check_lamp_hours();
    asio::awaitable<void> poll_loop();
    asio::awaitable<void> listen_notices();
    asio::awaitable<void> poll_once();
    void note_power(drivers::pjlink::power p);
    void note_unreachable(const error& why);
    void set_alert(const std::string& code, const std::string& severity, const std::string& message, bool open);

    asio::any_io_executor executor_;
    agent_config::projector_config config_;
    fact_sink& facts_;
    std::unique_ptr<drivers::projector::projector> link_;  // null: none configured
    std::unique_ptr<asio::ip::udp::socket> notices_;
    asio::steady_timer timer_;
    asio::steady_timer queue_timer_;
    bool busy_ = false;
    bool stopping_ = false;
    bool poll_requested_ = false;  // poll_soon() while a poll ran
    bool loop_done_ = true;

    protocol::county::projector_state state_ = protocol::county::projector_state::unknown;
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
