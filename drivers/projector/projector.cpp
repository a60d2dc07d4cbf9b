#include "bbt/drivers/projector/projector.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/drivers/projector/serial_projector.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace bbt::drivers::projector {
namespace {

namespace asio = boost::asio;

class pjlink_projector final : public projector {
public:
    pjlink_projector(asio::any_io_executor ex, pjlink::endpoint where) : ex_(std::move(ex)), where_(std::move(where)) {}

    std::string address() const override { return fmt::format("{}:{}", where_.host, where_.port); }
    bool reports_cooling() const override { return true; }

    // Requests are named locals, never temporaries inside a co_await
    // expression: GCC 12 destroys those twice.
    asio::awaitable<result<pjlink::power>> query_power() override {
        auto req = pjlink::query("POWR");
        auto r = co_await one(std::move(req));
        if (!r) co_return r.error();
        co_return pjlink::decode_power(r->body);
    }

    asio::awaitable<result<void>> set_power(bool on) override {
        pjlink::request req{'1', "POWR", on ? "1" : "0"};
        co_return co_await command(std::move(req));
    }
    asio::awaitable<result<void>> select_input(std::string code) override {
        pjlink::request req{'1', "INPT", std::move(code)};
        co_return co_await command(std::move(req));
    }
    asio::awaitable<result<void>> blank(bool on) override {
        pjlink::request req{'1', "AVMT", on ? "31" : "30"};
        co_return co_await command(std::move(req));
    }

    asio::awaitable<result<readings>> read(bool full) override {
        std::vector<pjlink::request> q{pjlink::query("POWR"), pjlink::query("ERST")};
        if (full) {
            q.push_back(pjlink::query("LAMP"));
            q.push_back(pjlink::query("INPT"));
            q.push_back(pjlink::query("AVMT"));
            if (pjlink_class_ >= 2) q.push_back(pjlink::query("FILT", '2'));
        }
        auto r = co_await pjlink::run(ex_, where_, std::move(q));
        if (!r) co_return r.error();
        readings out;
        for (const auto& x : *r) {
            const auto& c = x.req.command;
            if (!x.answer) {
                if (c == "LAMP" && x.answer.error().code() == pjlink::pjlink_errc::undefined_command) {
                    out.no_lamp = true;
                }
                continue;
            }
            const auto& b = x.answer->body;
            if (c == "POWR") {
                if (auto p = pjlink::decode_power(b)) out.power = *p;
            } else if (c == "ERST") {
                if (auto e = pjlink::decode_error_status(b)) out.errors = *e;
            } else if (c == "LAMP") {
                if (auto l = pjlink::decode_lamps(b)) out.lamps = std::move(*l);
            } else if (c == "INPT") {
                if (auto in = pjlink::decode_input(b)) out.input = *in;
            } else if (c == "AVMT") {
                if (auto m = pjlink::decode_av_mute(b)) out.mute = *m;
            } else if (c == "FILT") {
                if (auto h = pjlink::decode_hours(b)) out.filter_hours = *h;
            }
        }
        co_return out;
    }

    asio::awaitable<result<std::optional<pjlink::projector_info>>> identify() override {
        auto info = co_await pjlink::probe(ex_, where_);
        if (!info) co_return info.error();
        pjlink_class_ = info->pjlink_class;
        co_return std::optional<pjlink::projector_info>(std::move(*info));
    }

private:
    asio::awaitable<result<pjlink::reply>> one(pjlink::request req) {
        std::vector<pjlink::request> q{std::move(req)};
        auto r = co_await pjlink::run(ex_, where_, std::move(q));
        if (!r) co_return r.error();
        auto& x = r->front();
        if (!x.answer) co_return x.answer.error();
        co_return std::move(*x.answer);
    }
    asio::awaitable<result<void>> command(pjlink::request req) {
        auto r = co_await one(std::move(req));
        if (!r) co_return r.error();
        co_return result<void>{};
    }

    asio::any_io_executor ex_;
    pjlink::endpoint where_;
    int pjlink_class_ = 1;  // as the projector said when identified
};

class serial_link final : public projector {
public:
    serial_link(asio::any_io_executor ex, std::string device, serial::command_set cs,
                std::chrono::milliseconds reply_timeout)
        : ex_(std::move(ex)), device_(std::move(device)), cs_(std::move(cs)), reply_timeout_(reply_timeout) {}

    std::string address() const override { return fmt::format("{} ({})", device_, cs_.name); }
    bool reports_cooling() const override {
        return std::any_of(cs_.power_values.begin(), cs_.power_values.end(),
                           [](const auto& v) { return v.second == pjlink::power::cooling; });
    }

    asio::awaitable<result<pjlink::power>> query_power() override {
        auto port = take();
        if (!port) co_return port.error();
        co_return co_await (*port)->query_power();
    }
    asio::awaitable<result<void>> set_power(bool on) override {
        auto port = take();
        if (!port) co_return port.error();
        co_return co_await (*port)->set_power(on);
    }
    asio::awaitable<result<void>> select_input(std::string code) override {
        auto port = take();
        if (!port) co_return port.error();
        co_return co_await (*port)->select_input(std::move(code));
    }
    asio::awaitable<result<void>> blank(bool on) override {
        auto port = take();
        if (!port) co_return port.error();
        co_return co_await (*port)->blank(on);
    }

    // Serial command sets tell power and lamp hours only. Lamp hours are
    // asked only with `full`: a slow line is not kept busy with them.
    asio::awaitable<result<readings>> read(bool full) override {
        auto p = co_await query_power();
        if (!p) co_return p.error();
        readings out;
        out.power = *p;
        if (!full) co_return out;
        auto port = take();
        if (!port) co_return out;
        auto hours = co_await (*port)->lamp_hours();
        if (hours) {
            out.lamps = std::vector<pjlink::lamp>{{*hours, *p == pjlink::power::on || *p == pjlink::power::warming}};
        } else if (hours.error().code() == pjlink::pjlink_errc::undefined_command) {
            out.no_lamp = true;
        }
        co_return out;
    }

    asio::awaitable<result<std::optional<pjlink::projector_info>>> identify() override {
        co_return std::optional<pjlink::projector_info>{};
    }

private:
    result<serial::serial_projector*> take() {
        if (!port_) {
            auto opened = serial::serial_projector::open(ex_, device_, cs_);
            if (!opened) return opened.error();
            port_ = std::move(*opened);
            port_->reply_timeout = reply_timeout_;
        }
        return port_.get();
    }

    asio::any_io_executor ex_;
    std::string device_;
    serial::command_set cs_;
    std::chrono::milliseconds reply_timeout_;
    std::unique_ptr<serial::serial_projector> port_;
};

}  // namespace

std::unique_ptr<projector> open_pjlink(asio::any_io_executor ex, pjlink::endpoint where) {
    return std::make_unique<pjlink_projector>(std::move(ex), std::move(where));
}

std::unique_ptr<projector> open_serial(asio::any_io_executor ex, std::string device, serial::command_set cs,
                                       std::chrono::milliseconds reply_timeout) {
    return std::make_unique<serial_link>(std::move(ex), std::move(device), std::move(cs), reply_timeout);
}

}  // namespace bbt::drivers::projector
