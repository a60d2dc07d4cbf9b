// The ledger as a service of the agent: it owns the ledger on a thread of its
// own, because every write is an fsync (synchronous=FULL) that may take tens
// of milliseconds on a classroom board's eMMC, and the control thread, which
// also carries touch reports, must never wait for one.
//
// Called from the control thread only. Writes are queued in order to the
// ledger thread; queries are awaited and resume on the control thread.
#pragma once

#include "bbt/agent/ledger.hpp"
#include "bbt/agent/service.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bbt::agent {

class ledger_service final : public service {
public:
    ledger_service(asio::any_io_executor control, std::filesystem::path path, std::chrono::milliseconds heartbeat);
    ~ledger_service() override;

    [[nodiscard]] std::string_view name() const override { return "ledger"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // Records that `device` entered `state` now. Failures (a full disk) are
    // logged, never thrown at the caller: a lesson must not stop for them.
    void record(std::string device, std::string state);

    // Time per device, state and local day in [from, to), open intervals up to
    // now; `unavailable` while the ledger is not open.
    asio::awaitable<result<std::vector<usage_row>>> usage(clock::microseconds from, clock::microseconds to);

    // A board's stored calibration (nothing when it has none), and saving one.
    asio::awaitable<result<std::optional<stored_calibration>>> calibration(std::string board_key);
    asio::awaitable<result<void>> save_calibration(stored_calibration c);

    [[nodiscard]] int clock_jumps() const noexcept { return clock_jumps_.load(std::memory_order_relaxed); }

private:
    asio::awaitable<void> beat();
    // Runs `f` on the ledger thread and resumes the caller with its result.
    template <class R, class F>
    asio::awaitable<R> on_ledger_thread(F f);

    asio::thread_pool thread_{1};
    asio::steady_timer timer_;
    std::filesystem::path path_;
    std::chrono::milliseconds heartbeat_;
    std::optional<ledger> ledger_;  // touched on the ledger thread only
    std::atomic<int> clock_jumps_{0};
    bool open_ = false;  // control thread only
    bool stopping_ = false;
};

}  // namespace bbt::agent
