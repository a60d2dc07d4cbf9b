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
using steady = std::chrono::steady_clock;

const log::category lg{"classroom"};
constexpr auto poll_step = 1s;

double seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000; }

}  // namespace

classroom_controller::classroom_controller(asio::any_io_executor executor, projector_service& projector,
                                           board::relay_bank* relays, board::panel* panel, ledger_service& ledger)
    : executor_(executor),
      projector_(projector),
      relays_(relays),
      panel_(panel),
      ledger_(ledger),
      wake_(executor),
      step_(executor) {}

asio::awaitable<result<void>> classroom_controller::start() {
    stopping_ = false;
    running_ = true;
    ledger_.record("classroom", state_);
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
    bool class_on = state_ == "starting" || state_ == "in-class" || state_ == "fault";
    for (auto [l, on] : {std::pair{board::led::in_class, class_on}, std::pair{board::led::fault, state_ == "fault"}}) {
        if (panel_->led_state(l) == on) continue;
        if (auto r = panel_->set_led(l, on); !r) log::warning(lg, "front panel LED: {}", r.error().what());
    }
}

asio::awaitable<void> classroom_controller::stop() {
    // Stopping the agent never switches anything: a class in progress goes on.
    stopping_ = true;
    wake_.cancel();
    step_.cancel();
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

boost::json::object classroom_controller::request(bool in_class, std::string_view by) {
    if (want_class_ != in_class || held_ || (in_class && state_ == "fault")) {
        log::notice(lg, "class {} requested by {}", in_class ? "start" : "end", by);
        held_ = false;
        retry_ = in_class && state_ == "fault";  // asked to start again after a fault: try the projector again
        want_class_ = in_class;
        last_request_by_ = std::string(by);
        wake_.cancel();
    }
    return status();
}

boost::json::object classroom_controller::key(std::string_view by) {
    // One key: it starts a class when none is on its way, else ends it.
    return request(!want_class_, by);
}

boost::json::object classroom_controller::status() const {
    boost::json::object o{{"state", state_}, {"goal", want_class_ ? "in-class" : "idle"}};
    if (!step_text_.empty()) o["step"] = step_text_;
    if (!fault_.empty()) o["fault"] = fault_;
    if (relays_) {
        boost::json::object r;
        for (auto which : board::all_relays) {
            if (auto on = relays_->get(which)) r[board::to_string(which)] = *on;
        }
        o["mains"] = std::move(r);
    }
    return o;
}

void classroom_controller::set_state(std::string s) {
    if (s == state_) return;
    log::notice(lg, "{} -> {}", state_, s);
    state_ = std::move(s);
    ledger_.record("classroom", state_);
    show_leds();
    if (state_ == "idle" || state_ == "in-class" || state_ == "fault") step_text_.clear();
}

void classroom_controller::fault(std::string message) {
    log::error(lg, "{}", message);
    fault_ = message;
    ledger_.outbox_put(clock::wall_now().count(),
                       wire::alert{"classroom", "classroom.projector", "warning", message, true});
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

asio::awaitable<bool> classroom_controller::pause(std::chrono::milliseconds d) {
    step_.expires_after(d);
    co_await step_.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return !stopping_;
}

asio::awaitable<void> classroom_controller::run() {
    while (!stopping_) {
        if (want_class_ && (state_ == "idle" || (state_ == "fault" && retry_))) {
            retry_ = false;
            co_await start_class();
        } else if (!want_class_ && !held_ && (state_ == "in-class" || state_ == "fault" || state_ == "starting")) {
            co_await end_class();
        } else {
            wake_.expires_at(steady::time_point::max());
            co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }
    running_ = false;
}

asio::awaitable<void> classroom_controller::start_class() {
    set_state("starting");
    fault_.clear();
    ledger_.outbox_put(clock::wall_now().count(), wire::event{"classroom", "class-started", last_request_by_});
    mains(true);
    if (!projector_.configured()) {
        set_state("in-class");
        co_return;
    }
    const auto& cfg = projector_.config();
    // The projector boots its network after its mains come on.
    step_text_ = i18n::text({"waiting for the projector to answer", "等待投影机应答"});
    auto deadline = steady::now() + cfg.mains_wait;
    result<pj::power> p = error();
    for (;;) {
        p = co_await projector_.query_power();
        if (p || stopping_ || !want_class_) break;
        if (steady::now() >= deadline) {
            fault(i18n::format({"the projector does not answer ({} s after its mains came on): {}; the class goes on "
                                "without it. Check its network cable and that it stays on the network in standby",
                                "投影机无应答（接通电源 {} 秒后）：{}；课堂照常进行。请检查网线，并确认待机时保持联网"},
                               seconds(cfg.mains_wait), p.error().message()));
            set_state("fault");
            co_return;
        }
        if (!co_await pause(poll_step)) co_return;
    }
    if (!p || !want_class_) co_return;  // stopping, or the class was called off: end_class() takes over

    // A cool-down still running must finish before the projector takes POWR 1.
    step_text_ = i18n::text({"waiting for the projector to cool down", "等待投影机散热结束"});
    deadline = steady::now() + cfg.cooldown_timeout;
    while (*p == pj::power::cooling && steady::now() < deadline) {
        if (!co_await pause(poll_step)) co_return;
        auto q = co_await projector_.query_power();
        if (q) p = q;
    }
    step_text_ = i18n::text({"switching the projector on", "正在打开投影机"});
    deadline = steady::now() + cfg.warmup_timeout;
    bool asked = *p == pj::power::on || *p == pj::power::warming;
    while (!asked) {
        auto r = co_await projector_.set_power(true);
        if (r) break;
        if (r.error().code() != pj::pjlink_errc::unavailable_time || steady::now() >= deadline) {
            fault(i18n::format({"the projector could not be switched on: {}; the class goes on without it",
                                "无法打开投影机：{}；课堂照常进行"},
                               r.error().message()));
            set_state("fault");
            co_return;
        }
        if (!co_await pause(poll_step)) co_return;
    }
    step_text_ = i18n::text({"the projector is warming up", "投影机预热中"});
    for (;;) {
        auto q = co_await projector_.query_power();
        if (q && *q == pj::power::on) break;
        if (!want_class_ || stopping_) co_return;
        if (steady::now() >= deadline) {
            fault(i18n::format({"the projector did not finish warming up within {} s{}; the class goes on",
                                "投影机在 {} 秒内未完成预热{}；课堂照常进行"},
                               seconds(cfg.warmup_timeout), q ? "" : ": " + q.error().message()));
            set_state("fault");
            co_return;
        }
        if (!co_await pause(poll_step)) co_return;
    }
    step_text_ = i18n::text({"selecting the input", "正在切换输入源"});
    for (int attempt = 0;; ++attempt) {
        auto r = co_await projector_.select_input(cfg.input);
        if (r) break;
        if (r.error().code() != pj::pjlink_errc::unavailable_time || attempt >= 10) {
            fault(i18n::format({"the projector did not switch to input {}: {}", "投影机未切换到输入源 {}：{}"},
                               cfg.input, r.error().message()));
            break;
        }
        if (!co_await pause(poll_step)) co_return;
    }
    if (auto r = co_await projector_.blank(false); !r) {
        log::warning(lg, "unblanking the projector: {}", r.error().message());
    }
    projector_.poll_soon();
    set_state(fault_.empty() ? "in-class" : "fault");
}

asio::awaitable<void> classroom_controller::end_class() {
    set_state("ending");
    ledger_.outbox_put(clock::wall_now().count(), wire::event{"classroom", "class-ended", last_request_by_});
    if (projector_.configured()) {
        const auto& cfg = projector_.config();
        // Whether the projector's lamp may still be lit (or cooling): then its
        // mains wait until it is known to be in standby, or until a whole
        // cool-down has passed.
        const std::string& last = projector_.state();
        bool may_be_lit = last == "on" || last == "warming" || last == "cooling" || state_ == "fault";
        step_text_ = i18n::text({"switching the projector off", "正在关闭投影机"});
        auto deadline = steady::now() + cfg.warmup_timeout + cfg.cooldown_timeout;
        bool standby = false;
        bool asked = false;
        // A projector that does not report its cool-down is given the whole of it.
        const bool timed_cooling = !projector_.reports_cooling();
        auto asked_at = steady::now();
        while (steady::now() < deadline) {
            auto p = co_await projector_.query_power();
            if (p) {
                may_be_lit = may_be_lit || *p != pj::power::standby;
                bool cooled = !timed_cooling || !asked || steady::now() - asked_at >= cfg.cooldown_timeout;
                if (*p == pj::power::standby && cooled) {
                    standby = true;
                    break;
                }
                if (*p == pj::power::on && !asked && !want_class_) {
                    // POWR 0 is refused (ERR3) during warm-up: asked again once on.
                    auto r = co_await projector_.set_power(false);
                    asked = static_cast<bool>(r);
                    asked_at = steady::now();
                    if (!r && r.error().code() != pj::pjlink_errc::unavailable_time) {
                        log::warning(lg, "switching the projector off: {}", r.error().message());
                    }
                    step_text_ = i18n::text({"the projector is cooling down", "投影机散热中"});
                    continue;
                }
                if (*p == pj::power::on && want_class_) break;  // asked to start again: it is on already
            } else if (!may_be_lit) {
                break;  // never answered since its mains came on: nothing is lit
            }
            if (!co_await pause(poll_step)) co_return;
        }
        if (want_class_) {
            // Pressed again while ending: the class starts again, mains kept on.
            set_state("idle");
            co_return;
        }
        if (!standby && may_be_lit) {
            fault(i18n::format({"the projector did not report standby within {} s; its mains stay on so that its "
                                "lamp is not cut while cooling. Switch it off by hand, then end the class again",
                                "投影机在 {} 秒内未报告待机；为免散热时断电损坏灯泡，投影机电源保持接通。"
                                "请手动关闭后再次下课"},
                               seconds(cfg.warmup_timeout + cfg.cooldown_timeout)));
            set_state("fault");
            held_ = true;  // in fault until someone asks again
            co_return;
        }
    }
    if (want_class_) {
        set_state("idle");
        co_return;
    }
    mains(false);
    set_state("idle");
}

}  // namespace bbt::agent
