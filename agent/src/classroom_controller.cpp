#include "bbt/agent/classroom_controller.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bbt::agent {
namespace {

namespace pj = drivers::pjlink;
namespace wire = protocol::county;
using namespace std::chrono_literals;

const log::category lg{"classroom"};

double seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000; }

bool may_be_lit(std::optional<pj::power> p) { return p && *p != pj::power::standby; }

class steady_step_clock final : public step_clock {
public:
    explicit steady_step_clock(asio::any_io_executor ex) : timer_(std::move(ex)) {}
    std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
    asio::awaitable<bool> sleep(std::chrono::milliseconds d) override {
        timer_.expires_after(d);
        auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return ec != asio::error::operation_aborted;
    }
    void cancel() override { timer_.cancel(); }

private:
    asio::steady_timer timer_;
};

}  // namespace

std::string_view to_string(class_state s) noexcept {
    switch (s) {
        case class_state::idle: return "idle";
        case class_state::starting: return "starting";
        case class_state::in_class: return "in-class";
        case class_state::ending: return "ending";
        case class_state::fault: return "fault";
    }
    return "idle";
}

std::string_view to_string(class_event e) noexcept {
    switch (e) {
        case class_event::start_asked: return "start-asked";
        case class_event::end_asked: return "end-asked";
        case class_event::projector_ready: return "projector-ready";
        case class_event::projector_failed: return "projector-failed";
        case class_event::projector_off: return "projector-off";
        case class_event::projector_lit: return "projector-lit";
    }
    return "start-asked";
}

std::unique_ptr<step_clock> make_steady_clock(asio::any_io_executor executor) {
    return std::make_unique<steady_step_clock>(std::move(executor));
}

classroom_controller::classroom_controller(asio::any_io_executor executor, drivers::projector::projector* projector,
                                           class_timing timing, board::relay_bank* relays, board::panel* panel,
                                           fact_sink& facts, std::unique_ptr<step_clock> clock)
    : executor_(executor),
      projector_(projector),
      timing_(std::move(timing)),
      relays_(relays),
      panel_(panel),
      facts_(facts),
      clock_(std::move(clock)),
      wake_(executor) {}

asio::awaitable<result<void>> classroom_controller::start() {
    stopping_ = false;
    running_ = true;
    facts_.record("classroom", std::string(to_string(state_)));
    show_leds();
    asio::co_spawn(executor_, run(), asio::detached);
    if (panel_ && panel_->key_fd() >= 0) {
        int fd = ::dup(panel_->key_fd());
        if (fd >= 0) {
            keys_ = std::make_unique<asio::posix::stream_descriptor>(executor_, fd);
            asio::co_spawn(executor_, watch_keys(), asio::detached);
        }
    }
    co_return result<void>{};
}

asio::awaitable<void> classroom_controller::stop() {
    // Stopping the agent never switches anything: a class in progress goes on.
    stopping_ = true;
    wake_.cancel();
    clock_->cancel();
    if (keys_) {
        boost::system::error_code ignored;
        keys_->cancel(ignored);
    }
    asio::steady_timer wait(executor_);
    while (running_) {
        wait.expires_after(10ms);
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> classroom_controller::watch_keys() {
    while (!stopping_) {
        auto [ec] =
            co_await keys_->async_wait(asio::posix::stream_descriptor::wait_read, asio::as_tuple(asio::use_awaitable));
        if (ec || stopping_) co_return;
        auto keys = panel_->read_keys();
        if (!keys) {
            log::error(lg, "front panel: {}", keys.error().what());
            co_return;
        }
        for (const auto& k : *keys) {
            if (k == "class") {
                (void)key("the front-panel key");
            } else {
                log::warning(lg, "front panel: unknown key \"{}\" ignored", k);
            }
        }
    }
}

void classroom_controller::show_leds() {
    if (!panel_) return;
    for (auto [l, on] : {std::pair{board::led::in_class, class_on(state_)},
                         std::pair{board::led::fault, state_ == class_state::fault}}) {
        if (panel_->led_state(l) == on) continue;
        if (auto r = panel_->set_led(l, on); !r) log::warning(lg, "front panel LED: {}", r.error().what());
    }
}

class_status classroom_controller::request(bool in_class, std::string_view by) {
    if (want_class_ != in_class || held_ || (in_class && state_ == class_state::fault)) {
        log::notice(lg, "class {} requested by {}", in_class ? "start" : "end", by);
        held_ = false;
        // Asked to start again after a fault: the projector is tried again.
        asked_again_ = in_class && state_ == class_state::fault;
        want_class_ = in_class;
        last_request_by_ = std::string(by);
        wake_.cancel();
    }
    return status();
}

class_status classroom_controller::key(std::string_view by) {
    // One key: it starts a class when none is on its way, else ends it.
    return request(!want_class_, by);
}

class_status classroom_controller::status() const {
    class_status s{state_, want_class_, step_text_, fault_, {}};
    if (relays_) {
        for (auto which : board::all_relays) {
            if (auto on = relays_->get(which)) s.mains[which] = *on;
        }
    }
    return s;
}

bool classroom_controller::holds(class_guard g) const noexcept {
    switch (g) {
        case class_guard::always: return true;
        case class_guard::asked_again: return asked_again_;
        case class_guard::not_held: return !held_;
        case class_guard::goal_idle: return !want_class_;
        case class_guard::goal_class: return want_class_;
    }
    return false;
}

asio::awaitable<void> classroom_controller::run() {
    std::optional<class_event> next;
    while (!stopping_) {
        // With no step running, the goal is the event.
        class_event e = next.value_or(want_class_ ? class_event::start_asked : class_event::end_asked);
        next.reset();
        const class_transition* row = nullptr;
        for (const auto& t : class_table) {
            if (t.from == state_ && t.on == e && holds(t.guard)) {
                row = &t;
                break;
            }
        }
        if (row == nullptr) {
            // Nothing to do until the goal changes.
            wake_.expires_at(std::chrono::steady_clock::time_point::max());
            co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        ++rows_taken_[static_cast<size_t>(row - class_table.data())];
        log::debug(lg, "{} on {}: {}", to_string(state_), to_string(e), to_string(row->to));
        set_state(row->to);
        next = co_await perform(row->action);
    }
    running_ = false;
}

asio::awaitable<std::optional<class_event>> classroom_controller::perform(class_action a) {
    switch (a) {
        case class_action::none: break;
        case class_action::bring_up: co_return co_await bring_up();
        case class_action::take_down: co_return co_await take_down();
        case class_action::mains_off: mains(false); break;
        case class_action::hold:
            fault(i18n::format({"the projector did not report standby within {} s; its mains stay on so that its "
                                "lamp is not cut while cooling. Switch it off by hand, then end the class again",
                                "投影机在 {} 秒内未报告待机；为免散热时断电损坏灯泡，投影机电源保持接通。"
                                "请手动关闭后再次下课"},
                               seconds(timing_.warmup_timeout + timing_.cooldown_timeout)));
            held_ = true;  // in fault until someone asks again
            break;
    }
    co_return std::nullopt;
}

void classroom_controller::set_state(class_state s) {
    if (s == state_) return;
    log::notice(lg, "{} -> {}", to_string(state_), to_string(s));
    state_ = s;
    facts_.record("classroom", std::string(to_string(s)));
    show_leds();
    if (s == class_state::idle || s == class_state::in_class || s == class_state::fault) step_text_.clear();
}

void classroom_controller::fault(std::string message) {
    log::error(lg, "{}", message);
    fault_ = message;
    facts_.outbox_put(clock::wall_now().count(),
                      wire::alert{"classroom", "classroom.projector", "warning", std::move(message), true});
}

void classroom_controller::mains(bool on) {
    if (!relays_) return;
    for (auto which : {board::relay::projector, board::relay::amplifier}) {
        if (relays_->get(which) == on) continue;
        if (auto r = relays_->set(which, on); !r) {
            log::error(lg, "mains relay {}: {}", board::to_string(which), r.error().what());
        } else {
            log::info(lg, "mains {} {}", board::to_string(which), on ? "on" : "off");
        }
    }
}

asio::awaitable<result<pj::power>> classroom_controller::query_power() {
    auto p = co_await projector_->query_power();
    if (p) seen_ = *p;
    co_return p;
}

asio::awaitable<bool> classroom_controller::pause() {
    bool slept = co_await clock_->sleep(timing_.poll_step);
    co_return slept && !stopping_;
}

asio::awaitable<class_event> classroom_controller::bring_up() {
    asked_again_ = false;
    fault_.clear();
    facts_.outbox_put(clock::wall_now().count(), wire::event{"classroom", "class-started", last_request_by_});
    mains(true);
    if (projector_ == nullptr) co_return class_event::projector_ready;
    // A step ends early when the class is called off (or the agent stops:
    // the run loop then ends without taking the event).
    auto called_off = [this] { return stopping_ || !want_class_; };

    // The projector boots its network after its mains come on.
    step_text_ = i18n::text({"waiting for the projector to answer", "等待投影机应答"});
    auto deadline = clock_->now() + timing_.mains_wait;
    result<pj::power> p = error();
    for (;;) {
        p = co_await query_power();
        if (p || called_off()) break;
        if (clock_->now() >= deadline) {
            fault(i18n::format({"the projector does not answer ({} s after its mains came on): {}; the class goes on "
                                "without it. Check its network cable and that it stays on the network in standby",
                                "投影机无应答（接通电源 {} 秒后）：{}；课堂照常进行。请检查网线，并确认待机时保持联网"},
                               seconds(timing_.mains_wait), p.error().message()));
            co_return class_event::projector_failed;
        }
        if (!co_await pause()) break;
    }
    if (called_off()) co_return class_event::end_asked;

    // A cool-down still running must finish before the projector takes power on.
    step_text_ = i18n::text({"waiting for the projector to cool down", "等待投影机散热结束"});
    deadline = clock_->now() + timing_.cooldown_timeout;
    while (*p == pj::power::cooling && clock_->now() < deadline) {
        if (!co_await pause()) co_return class_event::end_asked;
        auto q = co_await query_power();
        if (q) p = q;
    }
    step_text_ = i18n::text({"switching the projector on", "正在打开投影机"});
    deadline = clock_->now() + timing_.warmup_timeout;
    bool asked = *p == pj::power::on || *p == pj::power::warming;
    while (!asked) {
        auto r = co_await projector_->set_power(true);
        if (r) break;
        if (r.error().code() != pj::pjlink_errc::unavailable_time || clock_->now() >= deadline) {
            fault(i18n::format({"the projector could not be switched on: {}; the class goes on without it",
                                "无法打开投影机：{}；课堂照常进行"},
                               r.error().message()));
            co_return class_event::projector_failed;
        }
        if (!co_await pause()) co_return class_event::end_asked;
    }
    step_text_ = i18n::text({"the projector is warming up", "投影机预热中"});
    for (;;) {
        auto q = co_await query_power();
        if (q && *q == pj::power::on) break;
        if (called_off()) co_return class_event::end_asked;
        if (clock_->now() >= deadline) {
            fault(i18n::format({"the projector did not finish warming up within {} s{}; the class goes on",
                                "投影机在 {} 秒内未完成预热{}；课堂照常进行"},
                               seconds(timing_.warmup_timeout), q ? "" : ": " + q.error().message()));
            co_return class_event::projector_failed;
        }
        if (!co_await pause()) co_return class_event::end_asked;
    }
    step_text_ = i18n::text({"selecting the input", "正在切换输入源"});
    for (int attempt = 0;; ++attempt) {
        auto r = co_await projector_->select_input(timing_.input);
        if (r) break;
        if (r.error().code() != pj::pjlink_errc::unavailable_time || attempt >= timing_.input_attempts) {
            fault(i18n::format({"the projector did not switch to input {}: {}", "投影机未切换到输入源 {}：{}"},
                               timing_.input, r.error().message()));
            break;
        }
        if (!co_await pause()) co_return class_event::end_asked;
    }
    if (auto r = co_await projector_->blank(false); !r) {
        log::warning(lg, "unblanking the projector: {}", r.error().message());
    }
    co_return fault_.empty() ? class_event::projector_ready : class_event::projector_failed;
}

asio::awaitable<class_event> classroom_controller::take_down() {
    facts_.outbox_put(clock::wall_now().count(), wire::event{"classroom", "class-ended", last_request_by_});
    if (projector_ == nullptr) co_return class_event::projector_off;
    // Whether the projector's lamp may still be lit (or cooling): then its
    // mains wait until it is known to be in standby, or until a whole
    // cool-down has passed.
    bool lit = may_be_lit(seen_);
    step_text_ = i18n::text({"switching the projector off", "正在关闭投影机"});
    auto deadline = clock_->now() + timing_.warmup_timeout + timing_.cooldown_timeout;
    bool standby = false;
    bool asked = false;
    // A projector that does not report its cool-down is given the whole of it.
    const bool timed_cooling = !projector_->reports_cooling();
    auto asked_at = clock_->now();
    while (clock_->now() < deadline) {
        auto p = co_await query_power();
        if (p) {
            lit = lit || *p != pj::power::standby;
            bool cooled = !timed_cooling || !asked || clock_->now() - asked_at >= timing_.cooldown_timeout;
            if (*p == pj::power::standby && cooled) {
                standby = true;
                break;
            }
            if (*p == pj::power::on && !asked && !want_class_) {
                // Power off is refused (ERR3) during warm-up: asked again once on.
                auto r = co_await projector_->set_power(false);
                asked = static_cast<bool>(r);
                asked_at = clock_->now();
                if (r) {
                    step_text_ = i18n::text({"the projector is cooling down", "投影机散热中"});
                    continue;
                }
                // Refused: asked again after a pause, not at once (a busy
                // projector would be asked in a tight loop).
                if (r.error().code() != pj::pjlink_errc::unavailable_time) {
                    log::warning(lg, "switching the projector off: {}", r.error().message());
                }
            }
            if (*p == pj::power::on && want_class_) break;  // asked to start again: it is on already
        } else if (!lit) {
            break;  // never answered since its mains came on: nothing is lit
        }
        if (!co_await pause()) break;
    }
    co_return standby || !lit ? class_event::projector_off : class_event::projector_lit;
}

}  // namespace bbt::agent
