#include "bbt/drivers/projector/serial_projector.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace bbt::drivers::serial {
namespace {

namespace asio = boost::asio;

}  // namespace

serial_projector::serial_projector(asio::serial_port port, std::string device, command_set cs)
    : port_(std::move(port)), device_(std::move(device)), cs_(std::move(cs)) {}

result<std::unique_ptr<serial_projector>> serial_projector::open(asio::any_io_executor ex, const std::string& device,
                                                                 command_set cs) {
    asio::serial_port port(ex);
    boost::system::error_code ec;
    port.open(device, ec);
    if (ec) {
        return error(ec, i18n::format({"the projector's serial port {} cannot be opened: {}; check the device name "
                                       "and that the agent's user is in the dialout group",
                                       "无法打开投影机串口 {}：{}；请检查设备名，并确认代理程序用户属于 dialout 组"},
                                      device, ec.message()));
    }
    using sp = asio::serial_port_base;
    auto par = cs.par == parity::none ? sp::parity::none : cs.par == parity::even ? sp::parity::even : sp::parity::odd;
    port.set_option(sp::baud_rate(cs.baud), ec);
    if (!ec) port.set_option(sp::character_size(cs.data_bits), ec);
    if (!ec) port.set_option(sp::parity(par), ec);
    if (!ec) port.set_option(sp::stop_bits(cs.stop_bits == 2 ? sp::stop_bits::two : sp::stop_bits::one), ec);
    if (!ec) port.set_option(sp::flow_control(sp::flow_control::none), ec);
    if (ec) {
        return error(ec, i18n::format({"the serial port {} does not take {} baud {}{}{}: {}",
                                       "串口 {} 不支持 {} 波特率 {}{}{}：{}"},
                                      device, cs.baud, cs.data_bits,
                                      cs.par == parity::none   ? 'N'
                                      : cs.par == parity::even ? 'E'
                                                               : 'O',
                                      cs.stop_bits, ec.message()));
    }
    return std::make_unique<serial_projector>(std::move(port), device, std::move(cs));
}

asio::awaitable<result<std::string>> serial_projector::transact(std::string command) {
    // Leftovers of an earlier answer that came too late are not this one's.
    buffer_.clear();
    auto [wec, wn] = co_await asio::async_write(port_, asio::buffer(command), asio::as_tuple(asio::use_awaitable));
    if (wec) {
        co_return error(wec, i18n::format({"writing to the projector on {}: {}", "向 {} 上的投影机写入：{}"}, device_,
                                          wec.message()));
    }
    asio::steady_timer deadline(port_.get_executor());
    deadline.expires_after(reply_timeout);
    bool timed_out = false;
    deadline.async_wait([this, &timed_out](boost::system::error_code ec) {
        if (!ec) {
            timed_out = true;
            boost::system::error_code ignored;
            port_.cancel(ignored);
        }
    });
    std::array<char, 256> buf{};
    bool echo_seen = false;
    for (;;) {
        if (auto answer = take_answer(cs_, buffer_, command, echo_seen)) {
            deadline.cancel();
            asio::steady_timer pause(port_.get_executor(), gap);
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            co_return std::move(*answer);
        }
        auto [ec, n] = co_await port_.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (ec) {
            deadline.cancel();
            if (timed_out) {
                co_return error(
                    std::make_error_code(std::errc::timed_out),
                    i18n::format({"the projector on {} did not answer within {} s ({} command set, {} "
                                  "baud): check the cable, the baud rate and the command set",
                                  "{} 上的投影机未在 {} 秒内应答（{} 命令集，{} 波特率）：请检查线缆、"
                                  "波特率和命令集"},
                                 device_, static_cast<double>(reply_timeout.count()) / 1000, cs_.name, cs_.baud));
            }
            co_return error(ec, i18n::format({"reading from the projector on {}: {}", "从 {} 上的投影机读取：{}"},
                                             device_, ec.message()));
        }
        buffer_.append(buf.data(), n);
        if (buffer_.size() > 4096) buffer_.erase(0, buffer_.size() - 4096);
    }
}

asio::awaitable<result<pjlink::power>> serial_projector::query_power() {
    auto a = co_await transact(cs_.power_query);
    if (!a) co_return a.error();
    co_return parse_power(cs_, *a);
}

asio::awaitable<result<void>> serial_projector::set_power(bool on) {
    auto a = co_await transact(on ? cs_.power_on : cs_.power_off);
    if (!a) co_return a.error();
    co_return parse_ack(cs_, *a);
}

asio::awaitable<result<int64_t>> serial_projector::lamp_hours() {
    auto a = co_await transact(cs_.lamp_query);
    if (!a) co_return a.error();
    co_return parse_lamp_hours(cs_, *a);
}

asio::awaitable<result<void>> serial_projector::select_input(std::string code) {
    auto a = co_await transact(cs_.input_prefix + code + cs_.line_end);
    if (!a) co_return a.error();
    co_return parse_ack(cs_, *a);
}

asio::awaitable<result<void>> serial_projector::blank(bool on) {
    auto a = co_await transact(on ? cs_.blank_on : cs_.blank_off);
    if (!a) co_return a.error();
    co_return parse_ack(cs_, *a);
}

}  // namespace bbt::drivers::serial
