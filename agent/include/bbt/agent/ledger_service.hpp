// The ledger as a service of the agent: it owns the ledger on a thread of its
// own, because every write is an fsync (synchronous=FULL) that may take tens
// of milliseconds on a classroom board's eMMC, and the control thread, which
// also carries touch reports, must never wait for one.
//
// Called from the control thread only. Writes are queued in order to the
// ledger thread; queries are awaited and resume on the control thread.
#pragma once

#include "bbt/agent/facts.hpp"
#include "bbt/agent/ledger.hpp"
#include "bbt/agent/outbox.hpp"
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

class ledger_service final : public service, public fact_sink {
public:
    ledger_service(asio::any_io_executor control, std::filesystem::path path, std::chrono::milliseconds heartbeat);
    ~ledger_service() override;

    [[nodiscard]] std::string_view name() const override { return "ledger"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

    // Records that `device` entered `state` now. Failures (a full disk) are
    // logged, never thrown at the caller: a lesson must not stop for them.
    void record(std::string device, std::string state) override;

    // Time per device, state and local day in [from, to), open intervals up to
    // now; `unavailable` while the ledger is not open.
    asio::awaitable<result<std::vector<usage_row>>> usage(clock::microseconds from, clock::microseconds to);

    // A board's stored calibration (nothing when it has none), and saving one.
    asio::awaitable<result<std::optional<stored_calibration>>> calibration(std::string board_key);
    asio::awaitable<result<void>> save_calibration(stored_calibration c);

    // The outbox, on the ledger's thread. put() is queued like record();
    // `max_bytes` bounds the outbox (samples thinned beyond it).
    void outbox_put(int64_t at_us, protocol::county::body body) override;
    asio::awaitable<result<std::vector<protocol::county::message>>> outbox_batch(size_t max_messages, size_t max_bytes);
    asio::awaitable<result<int64_t>> outbox_ack(std::vector<std::pair<int64_t, int64_t>> ranges);
    asio::awaitable<result<outbox_stats>> outbox_stats_now();
    void set_outbox_bound(int64_t max_bytes) { outbox_max_bytes_ = max_bytes; }
    // Whether a command's nonce is new (and remembers it): replays are refused.
    asio::awaitable<result<outbox::admission>> admit_command(std::string nonce, std::string command_id,
                                                             int64_t expires_us);

    [[nodiscard]] int clock_jumps() const noexcept { return clock_jumps_.load(std::memory_order_relaxed); }

private:
    asio::awaitable<void> beat();

    asio::thread_pool thread_{1};
    asio::steady_timer timer_;
    std::filesystem::path path_;
    std::chrono::milliseconds heartbeat_;
    std::optional<ledger> ledger_;  // touched on the ledger thread only
    std::atomic<int> clock_jumps_{0};
    std::atomic<int64_t> outbox_max_bytes_{20 << 20};
    int puts_since_thin_ = 0;  // ledger thread only
    bool open_ = false;        // control thread only
    bool stopping_ = false;
};

}  // namespace bbt::agent
