#include "bbt/agent/service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

#include "doctest_bbt.hpp"

using namespace bbt;
using namespace bbt::agent;
using namespace std::chrono_literals;

namespace {

class recording_service final : public service {
public:
    enum class mode { normal, fail_start, hang_stop };
    recording_service(std::string name, std::vector<std::string>& log, asio::any_io_executor ex, mode m = mode::normal)
        : name_(std::move(name)), log_(log), timer_(ex), mode_(m) {}
    std::string_view name() const override { return name_; }
    asio::awaitable<result<void>> start() override {
        log_.push_back("start " + name_);
        if (mode_ == mode::fail_start) co_return error(base_errc::io, "no device", name_);
        co_return result<void>{};
    }
    asio::awaitable<void> stop() override {
        log_.push_back("stop " + name_);
        if (mode_ == mode::hang_stop) {
            // Never finishes: ignores cancellation, as a buggy service would.
            timer_.expires_after(24h);
            co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            for (;;) {
                timer_.expires_after(24h);
                co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            }
        }
    }

private:
    std::string name_;
    std::vector<std::string>& log_;
    asio::steady_timer timer_;
    mode mode_;
};

// Runs a coroutine to completion on its own io_context, failing the test
// instead of hanging when it does not finish.
template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> a) {
    std::optional<T> out;
    asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, T v) {
        if (e) std::rethrow_exception(e);
        out = std::move(v);
        ioc.stop();
    });
    ioc.restart();
    ioc.run_for(10s);
    REQUIRE_MESSAGE(out.has_value(), "the coroutine did not finish");
    return std::move(*out);
}

}  // namespace

TEST_CASE("services start in order and stop in reverse") {
    asio::io_context ioc;
    std::vector<std::string> log;
    service_registry reg(ioc.get_executor());
    for (const char* n : {"ledger", "board", "api"}) {
        reg.add(std::make_unique<recording_service>(n, log, ioc.get_executor()));
    }
    REQUIRE(run(ioc, reg.start_all(1s)));
    for (const auto& s : reg.status())
        CHECK(s.state == service_state::running);
    REQUIRE(run(ioc, reg.stop_all(1s)));
    CHECK(log == std::vector<std::string>{"start ledger", "start board", "start api", "stop api", "stop board",
                                          "stop ledger"});
    for (const auto& s : reg.status())
        CHECK(s.state == service_state::stopped);
}

TEST_CASE("a failed start stops what was started, in reverse, and names the service") {
    asio::io_context ioc;
    std::vector<std::string> log;
    service_registry reg(ioc.get_executor());
    reg.add(std::make_unique<recording_service>("ledger", log, ioc.get_executor()));
    reg.add(std::make_unique<recording_service>("board", log, ioc.get_executor()));
    reg.add(std::make_unique<recording_service>("usb", log, ioc.get_executor(), recording_service::mode::fail_start));
    reg.add(std::make_unique<recording_service>("api", log, ioc.get_executor()));
    auto r = run(ioc, reg.start_all(1s));
    REQUIRE_FALSE(r);
    CHECK(r.error().what().find("usb") != std::string::npos);
    CHECK(r.error().what().find("no device") != std::string::npos);
    CHECK(log == std::vector<std::string>{"start ledger", "start board", "start usb", "stop board", "stop ledger"});
    auto st = reg.status();
    CHECK(st[2].state == service_state::failed);
    CHECK(st[3].state == service_state::registered);
}

TEST_CASE("a service that does not stop is abandoned at the deadline, and the rest still stop") {
    asio::io_context ioc;
    std::vector<std::string> log;
    service_registry reg(ioc.get_executor());
    reg.add(std::make_unique<recording_service>("ledger", log, ioc.get_executor()));
    reg.add(std::make_unique<recording_service>("stuck", log, ioc.get_executor(), recording_service::mode::hang_stop));
    reg.add(std::make_unique<recording_service>("api", log, ioc.get_executor()));
    REQUIRE(run(ioc, reg.start_all(1s)));
    auto r = run(ioc, reg.stop_all(50ms, 10ms));
    REQUIRE_FALSE(r);
    CHECK(r.error().what().find("stuck") != std::string::npos);
    CHECK(log.back() == "stop ledger");
    auto st = reg.status();
    CHECK(st[0].state == service_state::stopped);
    CHECK(st[1].state == service_state::stop_timed_out);
    CHECK(st[2].state == service_state::stopped);
}
