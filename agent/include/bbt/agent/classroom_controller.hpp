// The one-key class: one state table driven by the front-panel key,
// `bbtctl class start|end`, and later the timetable and county commands.
//
//   idle -> starting -> in-class -> ending -> idle      (fault: in class, projector failed)
//
// Start: mains on, wait until the projector answers, wait out a cool-down
// still running, power on, wait through warm-up, select the configured
// input, unblank. End: power off, wait through cool-down, then (and only
// then) mains off. What is asked is a goal (in class or not); the table
// moves towards the latest goal at every step, so a key pressed during a
// transition does what a person expects: pressed while starting, the class
// ends as soon as the projector can be switched off; pressed while ending,
// the class starts again once the projector has cooled, without cutting its
// mains in between. Mains are never cut while the projector cools.
//
// A projector that cannot be reached or fails puts the class in `fault` with
// a clear message; the rest of the class (the board, the PC) goes on.
#pragma once

#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/projector_service.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/board/panel.hpp"
#include "bbt/board/relays.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>

namespace bbt::agent {

class classroom_controller final : public service {
public:
    // `relays` and `panel` may be null: a board without them.
    classroom_controller(asio::any_io_executor executor, projector_service& projector, board::relay_bank* relays,
                         board::panel* panel, ledger_service& ledger);

    [[nodiscard]] std::string_view name() const override { return "classroom"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // class.start / class.end / class.key (the front-panel key: start when
    // no class is on or starting, else end).
    [[nodiscard]] boost::json::object request(bool in_class, std::string_view by);
    [[nodiscard]] boost::json::object key(std::string_view by);
    [[nodiscard]] boost::json::object status() const;
    // "idle", "starting", "in-class", "ending", "fault".
    [[nodiscard]] const std::string& state() const noexcept { return state_; }

private:
    asio::awaitable<void> run();
    asio::awaitable<void> watch_keys();
    void show_leds();
    asio::awaitable<void> start_class();
    asio::awaitable<void> end_class();
    asio::awaitable<bool> pause(std::chrono::milliseconds d);
    void set_state(std::string s);
    void fault(std::string message);
    void mains(bool on);

    asio::any_io_executor executor_;
    projector_service& projector_;
    board::relay_bank* relays_;
    board::panel* panel_;
    std::unique_ptr<asio::posix::stream_descriptor> keys_;
    ledger_service& ledger_;
    asio::steady_timer wake_;
    asio::steady_timer step_;
    bool stopping_ = false;
    bool running_ = false;
    bool want_class_ = false;
    bool retry_ = false;
    bool held_ = false;  // an end that could not finish safely waits for a new request
    std::string state_ = "idle";
    std::string fault_;
    std::string step_text_;  // what a transition is doing now, for people
    std::string last_request_by_;
};

}  // namespace bbt::agent
