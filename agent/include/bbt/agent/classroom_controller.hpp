// The one-key class: one state table driven by the front-panel key,
// `bbtctl class start|end`, the county's commands and the timetable.
//
// What is asked is a goal (in class or not). Whenever no step is running, the
// goal gives the event (start_asked or end_asked) and the table says what
// follows; each step (bringing the projector up, taking it down) ends in an
// event of its own, which the table takes next. A key pressed during a step
// is seen by the step, which ends early where that is safe: pressed while
// starting, the class ends as soon as the projector can be switched off;
// pressed while ending, the class starts again once the projector has cooled,
// without cutting its mains in between. Mains are never cut while the
// projector may be lit or cooling.
//
// Start: mains on, wait until the projector answers, wait out a cool-down
// still running, power on, wait through warm-up, select the configured input,
// unblank. End: power off, wait through cool-down, then (and only then) mains
// off. A projector that cannot be reached or fails puts the class in `fault`
// with a clear message; the rest of the class (the board, the PC) goes on.
//
// Runs on the control thread; every public call is made there.
#pragma once

#include "bbt/agent/facts.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/board/panel.hpp"
#include "bbt/board/relays.hpp"
#include "bbt/drivers/projector/projector.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace bbt::agent {

enum class class_state : uint8_t { idle, starting, in_class, ending, fault };
// "idle", "starting", "in-class", "ending", "fault": the ledger's and the API's names.
[[nodiscard]] std::string_view to_string(class_state s) noexcept;
// The one definition of "a class is on": from the moment it is asked to start
// until it is asked to end (a class whose projector failed is still on).
[[nodiscard]] constexpr bool class_on(class_state s) noexcept {
    return s == class_state::starting || s == class_state::in_class || s == class_state::fault;
}

enum class class_event : uint8_t {
    start_asked,       // the goal is a class
    end_asked,         // the goal is no class
    projector_ready,   // start: the projector is on, on its input (or there is none)
    projector_failed,  // start: no answer, not switched on, not warmed up, or not on its input
    projector_off,     // end: in standby, or never lit since its mains came on
    projector_lit,     // end: it may be lit or cooling (no standby within the bound, or on again)
};
[[nodiscard]] std::string_view to_string(class_event e) noexcept;

// What must hold besides the state and the event.
enum class class_guard : uint8_t {
    always,
    asked_again,  // a start asked after the fault (not the goal the fault came from)
    not_held,     // the fault is not an end that could not finish (that waits for a new request)
    goal_idle,    // the goal is (still) no class
    goal_class,   // the goal is a class again
};

enum class class_action : uint8_t {
    none,
    bring_up,   // mains on, then the start step (its end is an event)
    take_down,  // the end step (its end is an event)
    mains_off,  // the projector is known off or was never lit
    hold,       // the fault waits for a new request; mains stay on
};

struct class_transition {
    class_state from;
    class_event on;
    class_guard guard;
    class_state to;
    class_action action;
};

// The table. Rows are tried in order; the first whose state, event and guard
// match is taken. An event no row takes changes nothing.
inline constexpr std::array<class_transition, 11> class_table{{
    // from                  event                          guard                     to                      action
    {class_state::idle, class_event::start_asked, class_guard::always, class_state::starting, class_action::bring_up},
    {class_state::fault, class_event::start_asked, class_guard::asked_again, class_state::starting,
     class_action::bring_up},
    {class_state::starting, class_event::projector_ready, class_guard::always, class_state::in_class,
     class_action::none},
    {class_state::starting, class_event::projector_failed, class_guard::always, class_state::fault, class_action::none},
    {class_state::starting, class_event::end_asked, class_guard::always, class_state::ending, class_action::take_down},
    {class_state::in_class, class_event::end_asked, class_guard::always, class_state::ending, class_action::take_down},
    {class_state::fault, class_event::end_asked, class_guard::not_held, class_state::ending, class_action::take_down},
    {class_state::ending, class_event::projector_off, class_guard::goal_idle, class_state::idle,
     class_action::mains_off},
    // Asked again while ending: mains kept, and the start follows from idle.
    {class_state::ending, class_event::projector_off, class_guard::goal_class, class_state::idle, class_action::none},
    {class_state::ending, class_event::projector_lit, class_guard::goal_idle, class_state::fault, class_action::hold},
    {class_state::ending, class_event::projector_lit, class_guard::goal_class, class_state::idle, class_action::none},
}};

// Time as the controller sees it: the steady clock and a timer, or a fake
// clock in tests, so that a warm-up of minutes is walked in no time.
class step_clock {
public:
    virtual ~step_clock() = default;
    [[nodiscard]] virtual std::chrono::steady_clock::time_point now() const = 0;
    // Waits `d`; false when cancel() was called meanwhile.
    virtual asio::awaitable<bool> sleep(std::chrono::milliseconds d) = 0;
    virtual void cancel() = 0;
};
[[nodiscard]] std::unique_ptr<step_clock> make_steady_clock(asio::any_io_executor executor);

// What the class's projector steps wait for, from [projector] in agent.toml.
struct class_timing {
    std::string input = "32";  // selected when a class starts
    std::chrono::milliseconds mains_wait{90'000};
    std::chrono::milliseconds warmup_timeout{180'000};
    std::chrono::milliseconds cooldown_timeout{300'000};
    std::chrono::milliseconds poll_step{1'000};
    int input_attempts = 10;  // ERR3 to the input switch, retried
};

struct class_status {
    class_state state = class_state::idle;
    bool goal_class = false;
    std::string step;   // what a step is doing now, for people
    std::string fault;  // why the class is in fault
    std::map<board::relay, bool> mains;
};

class classroom_controller final : public service {
public:
    // `projector`, `relays` and `panel` may be null: a set without them. The
    // projector is the agent's projector service, which queues its commands.
    classroom_controller(asio::any_io_executor executor, drivers::projector::projector* projector, class_timing timing,
                         board::relay_bank* relays, board::panel* panel, fact_sink& facts,
                         std::unique_ptr<step_clock> clock);

    [[nodiscard]] std::string_view name() const override { return "classroom"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // class.start / class.end / class.key (the front-panel key: start when
    // no class is on its way, else end). Each returns the status after it.
    class_status request(bool in_class, std::string_view by);
    class_status key(std::string_view by);
    [[nodiscard]] class_status status() const;
    [[nodiscard]] class_state state() const noexcept { return state_; }
    [[nodiscard]] bool class_is_on() const noexcept { return class_on(state_); }

    // How often each row of class_table was taken (for the tests that walk it).
    [[nodiscard]] const std::array<int, class_table.size()>& rows_taken() const noexcept { return rows_taken_; }

private:
    asio::awaitable<void> run();
    [[nodiscard]] bool holds(class_guard g) const noexcept;
    asio::awaitable<std::optional<class_event>> perform(class_action a);
    asio::awaitable<class_event> bring_up();
    asio::awaitable<class_event> take_down();
    asio::awaitable<result<drivers::pjlink::power>> query_power();
    // One poll step; false when stopping.
    asio::awaitable<bool> pause();
    asio::awaitable<void> watch_keys();
    void show_leds();
    void set_state(class_state s);
    void fault(std::string message);
    void mains(bool on);

    asio::any_io_executor executor_;
    drivers::projector::projector* projector_;
    class_timing timing_;
    board::relay_bank* relays_;
    board::panel* panel_;
    fact_sink& facts_;
    std::unique_ptr<step_clock> clock_;
    std::unique_ptr<asio::posix::stream_descriptor> keys_;
    asio::steady_timer wake_;
    bool stopping_ = false;
    bool running_ = false;
    bool want_class_ = false;
    bool asked_again_ = false;
    bool held_ = false;
    // What the projector last said of its power while the class drove it:
    // on, warming or cooling means it may be lit, so its mains stay.
    std::optional<drivers::pjlink::power> seen_;
    class_state state_ = class_state::idle;
    std::string fault_;
    std::string step_text_;
    std::string last_request_by_;
    std::array<int, class_table.size()> rows_taken_{};
};

}  // namespace bbt::agent
