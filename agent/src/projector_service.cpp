#include "bbt/agent/projector_service.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"

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

const log::category lg{"projector"};

wire::projector_state state_of(pj::power p) {
    switch (p) {
        case pj::power::on: return wire::projector_state::on;
        case pj::power::warming: return wire::projector_state::warming;
        case pj::power::cooling: return wire::projector_state::cooling;
        case pj::power::standby: return wire::projector_state::standby;
    }
    return wire::projector_state::standby;
}

error stopping_error() {
    return error(std::make_error_code(std::errc::operation_canceled),
                 i18n::text({"the agent is stopping", "代理程序正在停止"}));
}

// The projector answered (ERR1 to ERR4): it is there, whatever it said.
bool answered(const error& e) {
    auto c = e.code();
    return c == pj::pjlink_errc::undefined_command || c == pj::pjlink_errc::out_of_parameter ||
           c == pj::pjlink_errc::unavailable_time || c == pj::pjlink_errc::projector_failure;
}

std::unique_ptr<drivers::projector::projector> open_link(asio::any_io_executor ex,
                                                         const agent_config::projector_config& c) {
    if (c.protocol == "pjlink") {
        pj::endpoint e;
        e.host = c.host;
        e.port = static_cast<uint16_t>(c.port);
        e.password = c.password;
        e.reply_timeout = c.reply_timeout;
        e.connect_timeout = std::min(c.reply_timeout, std::chrono::milliseconds(4000));
        e.busy_retries = 0;  // the callers wait out ERR3 as the situation needs
        return drivers::projector::open_pjlink(std::move(ex), std::move(e));
    }
    if (c.protocol == "serial") {
        auto cs = drivers::serial::find_command_set(c.command_set);
        if (!cs) {
            log::error(lg, "projector.command_set: {}", cs.error().what());
            return nullptr;
        }
        if (c.baud > 0) cs->baud = static_cast<unsigned>(c.baud);
        return drivers::projector::open_serial(std::move(ex), c.device, std::move(*cs), c.reply_timeout);
    }
    return nullptr;
}

constexpr std::array<i18n::msg, 6> part_names{{{"fan", "风扇"},
                                               {"lamp", "灯泡"},
                                               {"temperature", "温度"},
                                               {"cover", "机盖"},
                                               {"filter", "滤网"},
                                               {"other", "其他"}}};

}  // namespace

projector_service::projector_service(asio::any_io_executor executor, agent_config::projector_config config,
                                     fact_sink& facts)
    : projector_service(executor, config, facts, open_link(executor, config)) {}

projector_service::projector_service(asio::any_io_executor executor, agent_config::projector_config config,
                                     fact_sink& facts, std::unique_ptr<drivers::projector::projector> link)
    : executor_(executor),
      config_(std::move(config)),
      facts_(facts),
      link_(std::move(link)),
      timer_(executor),
      queue_timer_(executor) {}

asio::awaitable<result<void>> projector_service::start() {
    if (!configured()) co_return result<void>{};
    stopping_ = false;
    loop_done_ = false;
    asio::co_spawn(executor_, poll_loop(), asio::detached);
    if (config_.notify_port > 0 && config_.protocol == "pjlink") {
        auto sock = std::make_unique<asio::ip::udp::socket>(executor_);
        boost::system::error_code ec;
        sock->open(asio::ip::udp::v4(), ec);
        if (!ec) sock->set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) sock->bind({asio::ip::udp::v4(), static_cast<uint16_t>(config_.notify_port)}, ec);
        if (ec) {
            log::warning(lg, "PJLink status notices cannot be received on UDP {}: {}; polling only",
                         config_.notify_port, ec.message());
        } else {
            notices_ = std::move(sock);
            asio::co_spawn(executor_, listen_notices(), asio::detached);
        }
    }
    log::info(lg, "projector at {} ({})", link_->address(), config_.protocol);
    co_return result<void>{};
}

asio::awaitable<void> projector_service::stop() {
    stopping_ = true;
    if (notices_) {
        boost::system::error_code ignored;
        notices_->close(ignored);
    }
    timer_.cancel();
    queue_timer_.cancel();
    // The loop ends at its next step (an exchange is bounded by its timeouts).
    asio::steady_timer wait(executor_);
    while (!loop_done_) {
        wait.expires_after(20ms);
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

// A request that comes while a poll is running is kept for when it ends:
// cancelling a timer nobody waits on would lose it.
void projector_service::poll_soon() {
    poll_requested_ = true;
    timer_.cancel();
}

asio::awaitable<bool> projector_service::take_turn() {
    while (busy_ && !stopping_) {
        queue_timer_.expires_after(10ms);
        co_await queue_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (stopping_) co_return false;
    busy_ = true;
    co_return true;
}

asio::awaitable<void> projector_service::listen_notices() {
    std::array<char, pj::max_line + 16> buf{};
    while (!stopping_) {
        asio::ip::udp::endpoint from;
        auto [ec, n] =
            co_await notices_->async_receive_from(asio::buffer(buf), from, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        // Notices are hints: what they say is read again by a poll, now.
        boost::system::error_code aec;
        auto host = asio::ip::make_address(config_.host, aec);
        if (!aec && host != from.address()) continue;  // another projector's
        pj::line_reader lines;
        lines.feed(std::string_view(buf.data(), n));
        while (auto l = lines.next()) {
            if (!*l) continue;
            auto r = pj::parse_reply(**l);
            if (!r || r->cls != '2') continue;
            log::info(lg, "projector notice: {} {}", r->command, r->body);
            poll_soon();
        }
    }
}

std::string projector_service::address() const { return link_ ? link_->address() : std::string(); }

bool projector_service::reports_cooling() const { return !link_ || link_->reports_cooling(); }

// One connection at a time: a second one resets the projector's random and
// confuses weak firmware. Each call below takes its turn, asks, and notes
// what the answer says of the projector.
asio::awaitable<result<pj::power>> projector_service::query_power() {
    if (!co_await take_turn()) co_return stopping_error();
    auto p = co_await link_->query_power();
    busy_ = false;
    if (!p) {
        note_answer(p.error());
        co_return p.error();
    }
    note_reachable();
    note_power(*p);
    co_return *p;
}

asio::awaitable<result<void>> projector_service::set_power(bool on) {
    if (!co_await take_turn()) co_return stopping_error();
    auto r = co_await link_->set_power(on);
    busy_ = false;
    if (!r) {
        note_answer(r.error());
        co_return r;
    }
    log::notice(lg, "projector switched {}", on ? "on" : "off");
    // The projector starts its warm-up or cool-down at once.
    if (on && power_ == pj::power::standby) note_power(pj::power::warming);
    if (!on && power_ == pj::power::on) note_power(pj::power::cooling);
    poll_soon();
    co_return r;
}

asio::awaitable<result<void>> projector_service::select_input(std::string code) {
    if (!co_await take_turn()) co_return stopping_error();
    auto r = co_await link_->select_input(code);
    busy_ = false;
    if (!r) {
        note_answer(r.error());
        co_return r;
    }
    if (auto in = pj::decode_input(code)) input_ = *in;
    poll_soon();
    co_return r;
}

asio::awaitable<result<void>> projector_service::blank(bool on) {
    if (!co_await take_turn()) co_return stopping_error();
    auto r = co_await link_->blank(on);
    busy_ = false;
    if (!r) {
        note_answer(r.error());
        co_return r;
    }
    mute_ = pj::av_mute{on, on};
    poll_soon();
    co_return r;
}

asio::awaitable<result<drivers::projector::readings>> projector_service::read(bool full) {
    if (!co_await take_turn()) co_return stopping_error();
    auto r = co_await link_->read(full);
    busy_ = false;
    if (!r) note_unreachable(r.error());
    co_return r;
}

asio::awaitable<result<std::optional<pj::projector_info>>> projector_service::identify() {
    if (!co_await take_turn()) co_return stopping_error();
    auto r = co_await link_->identify();
    busy_ = false;
    co_return r;
}

void projector_service::note_answer(const error& e) {
    if (answered(e)) {
        note_reachable();
    } else {
        note_unreachable(e);
    }
}

void projector_service::note_reachable() {
    reachable_ = true;
    failures_ = 0;
}

void projector_service::note_power(pj::power p) {
    power_ = p;
    auto s = state_of(p);
    if (s != state_) {
        log::info(lg, "projector {}", wire::to_string(s));
        state_ = s;
        facts_.record("projector", std::string(wire::to_string(s)));
    }
}

void projector_service::note_unreachable(const error& why) {
    last_error_ = why.message();
    if (++failures_ < config_.unreachable_after) return;
    if (reachable_ || state_ != wire::projector_state::unreachable) {
        log::warning(lg, "projector unreachable: {}", why.message());
        reachable_ = false;
        info_.reset();
        power_.reset();
        state_ = wire::projector_state::unreachable;
        facts_.record("projector", std::string(wire::to_string(state_)));
    }
    set_alert("projector.unreachable", "warning",
              i18n::format({"the projector does not answer: {}", "投影机无应答：{}"}, why.message()), true);
}

void projector_service::set_alert(const std::string& code, const std::string& severity, const std::string& message,
                                  bool open) {
    auto it = open_alerts_.find(code);
    if (open) {
        if (it != open_alerts_.end() && it->second == severity) return;
        open_alerts_[code] = severity;
        log::warning(lg, "{}", message);
    } else {
        if (it == open_alerts_.end()) return;
        open_alerts_.erase(it);
        log::notice(lg, "cleared: {}", message);
    }
    facts_.outbox_put(clock::wall_now().count(), wire::alert{"projector", code, severity, message, open});
}

void projector_service::check_lamp_hours() {
    if (config_.lamp_rated_hours <= 0) return;
    int64_t worst = 0;
    for (const auto& lamp : lamp_hours_)
        worst = std::max(worst, lamp.hours);
    double limit = config_.lamp_rated_hours * config_.lamp_alert_percent / 100;
    set_alert("projector.lamp-hours", "warning",
              i18n::format({"the projector's lamp has {} hours of its rated {}: order a replacement",
                            "投影机灯泡已使用 {} 小时（额定 {} 小时）：请准备更换"},
                           worst, config_.lamp_rated_hours),
              static_cast<double>(worst) >= limit);
}

asio::awaitable<void> projector_service::poll_once() {
    auto now = std::chrono::steady_clock::now();
    bool lamps_due = !reachable_ || (lamp_hours_.empty() && !no_lamp_) || now - last_lamp_poll_ >= config_.lamp_poll;
    auto r = co_await read(lamps_due);
    if (!r) co_return;
    bool was_reachable = reachable_;
    note_reachable();
    last_error_.clear();
    set_alert("projector.unreachable", "warning",
              std::string(i18n::text({"the projector answers again", "投影机恢复应答"})), false);
    if (r->power) note_power(*r->power);
    if (r->errors) {
        errors_ = *r->errors;
        for (size_t i = 0; i < 6; ++i) {
            std::string code = fmt::format("projector.{}", pj::error_status_parts[i]);
            uint8_t f = errors_->flags[i];
            set_alert(code, f == 2 ? "critical" : "warning",
                      f == 0 ? i18n::format({"projector {}: ok again", "投影机{}：恢复正常"}, i18n::text(part_names[i]))
                             : i18n::format({"projector {}: {} reported by the projector", "投影机{}：投影机报告{}"},
                                            i18n::text(part_names[i]),
                                            f == 2 ? i18n::text({"error", "故障"}) : i18n::text({"warning", "警告"})),
                      f != 0);
        }
    }
    if (r->no_lamp) no_lamp_ = true;
    if (r->lamps) {
        lamp_hours_ = std::move(*r->lamps);
        last_lamp_poll_ = now;
        check_lamp_hours();
    }
    if (r->input) input_ = *r->input;
    if (r->mute) mute_ = *r->mute;
    if (r->filter_hours) filter_hours_ = *r->filter_hours;
    // Who the projector is, once each time it comes back.
    if (!was_reachable || !info_) {
        auto info = co_await identify();
        if (info && *info) {
            info_ = std::move(**info);
            if (info_->filter_hours) filter_hours_ = info_->filter_hours;
            log::notice(lg, "projector {} {} (serial {}, PJLink class {})", info_->manufacturer, info_->product,
                        info_->serial.empty() ? "-" : info_->serial, info_->pjlink_class);
        }
    }
}

asio::awaitable<void> projector_service::poll_loop() {
    while (!stopping_) {
        poll_requested_ = false;
        co_await poll_once();
        if (stopping_) break;
        if (poll_requested_) continue;
        // Faster while the projector is warming or cooling.
        auto wait = (power_ == pj::power::warming || power_ == pj::power::cooling)
                        ? std::min(config_.poll, std::chrono::milliseconds(2000))
                        : config_.poll;
        timer_.expires_after(wait);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    loop_done_ = true;
}

projector_status projector_service::status() const {
    projector_status s;
    s.configured = configured();
    if (!configured()) return s;
    s.address = link_->address();
    s.reachable = reachable_;
    s.state = state_;
    s.last_error = last_error_;
    s.power = power_;
    s.input = input_;
    if (mute_) s.blanked = mute_->video;
    s.errors = errors_;
    s.lamps = lamp_hours_;
    s.no_lamp = no_lamp_;
    s.lamp_rated_hours = config_.lamp_rated_hours;
    s.filter_hours = filter_hours_;
    s.identity = info_;
    return s;
}

std::vector<wire::lamp> projector_service::lamps() const {
    std::vector<wire::lamp> out;
    for (size_t i = 0; i < lamp_hours_.size() && i < wire::max_lamps; ++i) {
        out.push_back({"projector", static_cast<int64_t>(i + 1), static_cast<double>(lamp_hours_[i].hours),
                       config_.lamp_rated_hours});
    }
    return out;
}

std::optional<wire::device> projector_service::identity() const {
    if (!info_) return std::nullopt;
    return wire::device{wire::device_kind::projector, info_->manufacturer, info_->product, info_->serial,
                        info_->software};
}

}  // namespace bbt::agent
