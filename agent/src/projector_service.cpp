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
#include <boost/json.hpp>

namespace bbt::agent {
namespace {

namespace pj = drivers::pjlink;
namespace json = boost::json;
namespace wire = protocol::county;
using namespace std::chrono_literals;

const log::category lg{"projector"};

std::string state_of(pj::power p) {
    switch (p) {
        case pj::power::on: return "on";
        case pj::power::warming: return "warming";
        case pj::power::cooling: return "cooling";
        case pj::power::standby: return "standby";
    }
    return "standby";
}

constexpr std::array<i18n::msg, 6> part_names{{{"fan", "风扇"},
                                               {"lamp", "灯泡"},
                                               {"temperature", "温度"},
                                               {"cover", "机盖"},
                                               {"filter", "滤网"},
                                               {"other", "其他"}}};

}  // namespace

projector_service::projector_service(asio::any_io_executor executor, agent_config::projector_config config,
                                     ledger_service& ledger)
    : executor_(executor), config_(std::move(config)), ledger_(ledger), timer_(executor), queue_timer_(executor) {
    endpoint_.host = config_.host;
    endpoint_.port = static_cast<uint16_t>(config_.port);
    endpoint_.password = config_.password;
    endpoint_.reply_timeout = config_.reply_timeout;
    endpoint_.connect_timeout = std::min(config_.reply_timeout, std::chrono::milliseconds(4000));
    endpoint_.busy_retries = 0;  // the callers wait out ERR3 as the situation needs
}

asio::awaitable<result<void>> projector_service::start() {
    if (!configured()) co_return result<void>{};
    stopping_ = false;
    loop_done_ = false;
    asio::co_spawn(executor_, poll_loop(), asio::detached);
    if (config_.notify_port > 0 && !serial()) {
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
    if (serial()) {
        log::info(lg, "projector on {} ({})", config_.device, config_.command_set);
    } else {
        log::info(lg, "PJLink projector at {}:{}", config_.host, config_.port);
    }
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
    // The loop ends at its next step (a PJLink exchange is bounded by its timeouts).
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

bool projector_service::reports_cooling() const {
    if (!serial()) return true;
    auto cs = drivers::serial::find_command_set(config_.command_set);
    return cs && std::any_of(cs->power_values.begin(), cs->power_values.end(),
                             [](const auto& v) { return v.second == pj::power::cooling; });
}

asio::awaitable<result<std::vector<pj::exchange>>> projector_service::exchange(std::vector<pj::request> requests) {
    // One connection at a time: a second one resets the projector's random
    // and confuses weak firmware.
    if (!co_await take_turn()) {
        co_return error(std::make_error_code(std::errc::operation_canceled),
                        i18n::text({"the agent is stopping", "代理程序正在停止"}));
    }
    auto r = co_await pj::run(executor_, endpoint_, std::move(requests));
    busy_ = false;
    if (!r) note_unreachable(r.error());
    co_return r;
}

asio::awaitable<result<drivers::serial::serial_projector*>> projector_service::take_serial() {
    if (!co_await take_turn()) {
        co_return error(std::make_error_code(std::errc::operation_canceled),
                        i18n::text({"the agent is stopping", "代理程序正在停止"}));
    }
    if (!serial_) {
        auto cs = drivers::serial::find_command_set(config_.command_set);
        if (!cs) {
            release();
            co_return cs.error();
        }
        if (config_.baud > 0) cs->baud = static_cast<unsigned>(config_.baud);
        auto opened = drivers::serial::serial_projector::open(executor_, config_.device, std::move(*cs));
        if (!opened) {
            release();
            note_unreachable(opened.error());
            co_return opened.error();
        }
        serial_ = std::move(*opened);
        serial_->reply_timeout = config_.reply_timeout;
    }
    co_return serial_.get();
}

asio::awaitable<result<void>> projector_service::command(pj::request req) {
    std::vector<pj::request> one{std::move(req)};
    auto r = co_await exchange(std::move(one));
    if (!r) co_return r.error();
    const auto& x = r->front();
    if (!x.answer) co_return x.answer.error();
    co_return result<void>{};
}

asio::awaitable<result<pj::power>> projector_service::query_power() {
    if (serial()) {
        auto port = co_await take_serial();
        if (!port) co_return port.error();
        auto p = co_await (*port)->query_power();
        release();
        if (!p) {
            note_unreachable(p.error());
            co_return p.error();
        }
        reachable_ = true;
        failures_ = 0;
        note_power(*p);
        co_return *p;
    }
    std::vector<pj::request> q{pj::query("POWR")};
    auto r = co_await exchange(std::move(q));
    if (!r) co_return r.error();
    const auto& x = r->front();
    if (!x.answer) co_return x.answer.error();
    auto p = pj::decode_power(x.answer->body);
    if (!p) co_return p.error();
    reachable_ = true;
    failures_ = 0;
    note_power(*p);
    co_return *p;
}

asio::awaitable<result<void>> projector_service::set_power(bool on) {
    // Named, not a temporary in the co_await expression (GCC 12 frees such
    // temporaries twice).
    result<void> r;
    if (serial()) {
        auto port = co_await take_serial();
        if (!port) co_return port.error();
        r = co_await (*port)->set_power(on);
        release();
    } else {
        pj::request req{'1', "POWR", on ? "1" : "0"};
        r = co_await command(std::move(req));
    }
    if (r) {
        log::notice(lg, "projector switched {}", on ? "on" : "off");
        // The projector starts its warm-up or cool-down at once.
        if (on && power_ == pj::power::standby) note_power(pj::power::warming);
        if (!on && power_ == pj::power::on) note_power(pj::power::cooling);
    }
    co_return r;
}

asio::awaitable<result<void>> projector_service::select_input(std::string code) {
    if (serial()) {
        auto port = co_await take_serial();
        if (!port) co_return port.error();
        auto r = co_await (*port)->select_input(code);
        release();
        co_return r;
    }
    pj::request req{'1', "INPT", code};
    auto r = co_await command(std::move(req));
    if (r) {
        if (auto in = pj::decode_input(code)) input_ = *in;
    }
    co_return r;
}

asio::awaitable<result<void>> projector_service::blank(bool on) {
    result<void> r;
    if (serial()) {
        auto port = co_await take_serial();
        if (!port) co_return port.error();
        r = co_await (*port)->blank(on);
        release();
    } else {
        pj::request req{'1', "AVMT", on ? "31" : "30"};
        r = co_await command(std::move(req));
    }
    if (r) mute_ = pj::av_mute{on, on};
    co_return r;
}

void projector_service::note_power(pj::power p) {
    power_ = p;
    std::string s = state_of(p);
    if (s != state_) {
        log::info(lg, "projector {}", s);
        state_ = s;
        ledger_.record("projector", s);
    }
}

void projector_service::note_unreachable(const error& why) {
    last_error_ = why.message();
    if (++failures_ < config_.unreachable_after) return;
    if (reachable_ || state_ != "unreachable") {
        log::warning(lg, "projector unreachable: {}", why.message());
        reachable_ = false;
        info_.reset();
        power_.reset();
        state_ = "unreachable";
        ledger_.record("projector", "unreachable");
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
    ledger_.outbox_put(clock::wall_now().count(), wire::alert{"projector", code, severity, message, open});
}

asio::awaitable<void> projector_service::poll_serial() {
    auto p = co_await query_power();
    if (!p) co_return;
    set_alert("projector.unreachable", "warning",
              std::string(i18n::text({"the projector answers again", "投影机恢复应答"})), false);
    auto now = std::chrono::steady_clock::now();
    if (now - last_lamp_poll_ < config_.lamp_poll && !lamp_hours_.empty()) co_return;
    auto port = co_await take_serial();
    if (!port) co_return;
    auto hours = co_await (*port)->lamp_hours();
    release();
    if (!hours) {
        if (hours.error().code() == pj::pjlink_errc::undefined_command) no_lamp_ = true;
        co_return;
    }
    lamp_hours_ = {pj::lamp{*hours, *p == pj::power::on || *p == pj::power::warming}};
    last_lamp_poll_ = now;
    check_lamp_hours();
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
    if (serial()) {
        co_await poll_serial();
        co_return;
    }
    std::vector<pj::request> q{pj::query("POWR"), pj::query("ERST")};
    auto now = std::chrono::steady_clock::now();
    bool lamps_due = !reachable_ || now - last_lamp_poll_ >= config_.lamp_poll;
    if (lamps_due) {
        q.push_back(pj::query("LAMP"));
        q.push_back(pj::query("INPT"));
        q.push_back(pj::query("AVMT"));
        if (info_ && info_->pjlink_class >= 2) q.push_back(pj::query("FILT", '2'));
    }
    auto r = co_await exchange(std::move(q));
    if (!r) co_return;
    bool was_reachable = reachable_;
    reachable_ = true;
    failures_ = 0;
    last_error_.clear();
    set_alert("projector.unreachable", "warning",
              std::string(i18n::text({"the projector answers again", "投影机恢复应答"})), false);
    for (const auto& x : *r) {
        const auto& c = x.req.command;
        if (!x.answer) {
            if (c == "LAMP" && x.answer.error().code() == pj::pjlink_errc::undefined_command) no_lamp_ = true;
            continue;
        }
        const auto& b = x.answer->body;
        if (c == "POWR") {
            if (auto p = pj::decode_power(b)) note_power(*p);
        } else if (c == "ERST") {
            if (auto e = pj::decode_error_status(b)) {
                errors_ = *e;
                for (size_t i = 0; i < 6; ++i) {
                    std::string code = fmt::format("projector.{}", pj::error_status_parts[i]);
                    uint8_t f = e->flags[i];
                    set_alert(
                        code, f == 2 ? "critical" : "warning",
                        f == 0
                            ? i18n::format({"projector {}: ok again", "投影机{}：恢复正常"}, i18n::text(part_names[i]))
                            : i18n::format({"projector {}: {} reported by the projector", "投影机{}：投影机报告{}"},
                                           i18n::text(part_names[i]),
                                           f == 2 ? i18n::text({"error", "故障"}) : i18n::text({"warning", "警告"})),
                        f != 0);
                }
            }
        } else if (c == "LAMP") {
            if (auto l = pj::decode_lamps(b)) {
                lamp_hours_ = *l;
                last_lamp_poll_ = now;
                check_lamp_hours();
            }
        } else if (c == "INPT") {
            if (auto in = pj::decode_input(b)) input_ = *in;
        } else if (c == "AVMT") {
            if (auto m = pj::decode_av_mute(b)) mute_ = *m;
        } else if (c == "FILT") {
            if (auto h = pj::decode_hours(b)) filter_hours_ = *h;
        }
    }
    // Who the projector is, once each time it comes back.
    if (!was_reachable || !info_) {
        if (!co_await take_turn()) co_return;
        auto info = co_await pj::probe(executor_, endpoint_);
        busy_ = false;
        if (info) {
            info_ = std::move(*info);
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

json::object projector_service::status() const {
    json::object o{{"configured", configured()}};
    if (!configured()) return o;
    o["address"] = serial() ? fmt::format("{} ({})", config_.device, config_.command_set)
                            : fmt::format("{}:{}", config_.host, config_.port);
    o["reachable"] = reachable_;
    o["state"] = state_;
    if (!last_error_.empty()) o["last_error"] = last_error_;
    if (power_) o["power"] = pj::to_string(*power_);
    if (input_) o["input"] = input_->code();
    if (mute_) o["blanked"] = mute_->video;
    if (errors_) {
        json::object e;
        static constexpr const char* names[] = {"ok", "warning", "error"};
        for (size_t i = 0; i < 6; ++i)
            e[pj::error_status_parts[i]] = names[errors_->flags[i]];
        o["errors"] = std::move(e);
    }
    json::array lamps;
    for (const auto& l : lamp_hours_)
        lamps.push_back(json::object{{"hours", l.hours}, {"on", l.on}});
    o["lamps"] = std::move(lamps);
    o["no_lamp"] = no_lamp_;
    if (config_.lamp_rated_hours > 0) o["lamp_rated_hours"] = config_.lamp_rated_hours;
    if (filter_hours_) o["filter_hours"] = *filter_hours_;
    if (info_) {
        o["identity"] = json::object{
            {"manufacturer", info_->manufacturer}, {"product", info_->product}, {"serial", info_->serial},
            {"software", info_->software},         {"name", info_->name},       {"class", info_->pjlink_class}};
    }
    return o;
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
    return wire::device{"projector", info_->manufacturer, info_->product, info_->serial, info_->software};
}

}  // namespace bbt::agent
