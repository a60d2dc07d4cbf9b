#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/errors.hpp"
#include "bbt/base/run_on.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/protocol/local_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bbt::agent {
namespace {

const log::category lg{"ledger"};

// Renames a damaged database, with its WAL and shared-memory files, to
// "<name>.corrupt-<time>"; returns the new name.
result<std::filesystem::path> quarantine(const std::filesystem::path& db, clock::microseconds wall) {
    auto stamp = std::chrono::duration_cast<std::chrono::seconds>(wall).count();
    std::filesystem::path aside = db;
    aside += ".corrupt-" + std::to_string(stamp);
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::path from = db, to = aside;
        from += suffix;
        to += suffix;
        std::error_code ec;
        if (!std::filesystem::exists(from, ec)) continue;
        std::filesystem::rename(from, to, ec);
        if (ec) return errno_error(ec.value(), "rename", from.string());
    }
    return aside;
}

}  // namespace

ledger_service::ledger_service(asio::any_io_executor control, std::filesystem::path path,
                               std::chrono::milliseconds heartbeat)
    : timer_(std::move(control)), path_(std::move(path)), heartbeat_(heartbeat) {}

ledger_service::~ledger_service() { thread_.join(); }

asio::awaitable<result<void>> ledger_service::start() {
    auto open_ledger = [this]() -> result<void> {
        auto now = clock::now();
        if (!now) return now.error();
        auto l = ledger::open(path_, *now);
        if (!l && l.error().code() == base_errc::corrupt) {
            // A damaged ledger must not keep the whiteboard from starting:
            // keep it aside for recovery and begin a new one.
            auto aside = quarantine(path_, now->wall);
            if (!aside) return aside.error();
            log::error(lg, "{}; moved it to {} and started a new ledger", l.error().what(), aside->string());
            l = ledger::open(path_, *now);
        }
        if (!l) return l.error();
        ledger_.emplace(std::move(*l));
        return {};
    };
    auto r = co_await run_on<result<void>>(thread_, std::move(open_ledger));
    if (!r) co_return r.error();
    open_ = true;
    asio::co_spawn(timer_.get_executor(), beat(), asio::detached);
    co_return result<void>{};
}

asio::awaitable<void> ledger_service::stop() {
    stopping_ = true;
    open_ = false;  // before the close is queued: later queries are refused, earlier ones run first
    timer_.cancel();
    auto now = clock::now();
    auto close_ledger = [this, now]() {
        if (ledger_ && now) {
            if (auto r = ledger_->end_all(*now, "stop"); !r) {
                log::error(lg, "closing the open intervals: {}", r.error().what());
            }
        }
        ledger_.reset();
        return 0;
    };
    co_await run_on<int>(thread_, std::move(close_ledger));
}

void ledger_service::record(std::string device, std::string state) {
    // The moment is taken here, on the control thread, when it happened.
    auto now = clock::now();
    if (!now) {
        log::error(lg, "recording {} as {}: {}", device, state, now.error().what());
        return;
    }
    asio::post(thread_, [this, device = std::move(device), state = std::move(state), t = std::move(*now)] {
        if (!ledger_) return;
        if (auto r = ledger_->set_state(device, state, t); !r) {
            log::error(lg, "recording {} as {}: {}", device, state, r.error().what());
        }
        clock_jumps_ = ledger_->clock_jumps();
    });
}

asio::awaitable<result<std::vector<usage_row>>> ledger_service::usage(clock::microseconds from,
                                                                      clock::microseconds to) {
    if (!open_) {
        co_return error(ledger_errc::not_open, i18n::text({"the usage ledger is not open", "使用台账未打开"}));
    }
    auto now = clock::now();
    if (!now) co_return now.error();
    // open_ is checked and the query queued in one step of this thread, and
    // stop() clears it before queueing the close: the ledger is there.
    auto query = [this, from, to, t = std::move(*now)]() { return ledger_->usage_by_day(from, to, t); };
    co_return co_await run_on<result<std::vector<usage_row>>>(thread_, std::move(query));
}

asio::awaitable<result<std::optional<stored_calibration>>> ledger_service::calibration(std::string board_key) {
    if (!open_) {
        co_return error(ledger_errc::not_open,
                        i18n::text({"the agent's database is not open", "代理程序的数据库未打开"}));
    }
    auto query = [this, key = std::move(board_key)]() { return ledger_->calibration(key); };
    co_return co_await run_on<result<std::optional<stored_calibration>>>(thread_, std::move(query));
}

asio::awaitable<result<void>> ledger_service::save_calibration(stored_calibration c) {
    if (!open_) {
        co_return error(ledger_errc::not_open,
                        i18n::text({"the agent's database is not open", "代理程序的数据库未打开"}));
    }
    auto save = [this, c = std::move(c)]() { return ledger_->save_calibration(c); };
    co_return co_await run_on<result<void>>(thread_, std::move(save));
}

void ledger_service::outbox_put(int64_t at_us, protocol::county::body body) {
    asio::post(thread_, [this, at_us, body = std::move(body)] {
        if (!ledger_) return;
        outbox o(ledger_->database());
        if (auto r = o.put(at_us, body); !r) log::error(lg, "queueing a report for the county: {}", r.error().what());
        // The bound is looked at now and then, not at every message.
        if (++puts_since_thin_ >= 64) {
            puts_since_thin_ = 0;
            if (auto r = o.thin(outbox_max_bytes_.load()); !r)
                log::error(lg, "thinning the outbox: {}", r.error().what());
        }
    });
}

asio::awaitable<result<std::vector<protocol::county::message>>> ledger_service::outbox_batch(size_t max_messages,
                                                                                             size_t max_bytes) {
    if (!open_)
        co_return error(ledger_errc::not_open,
                        i18n::text({"the agent's database is not open", "代理程序的数据库未打开"}));
    auto query = [this, max_messages, max_bytes]() {
        return outbox(ledger_->database()).next_batch(max_messages, max_bytes);
    };
    co_return co_await run_on<result<std::vector<protocol::county::message>>>(thread_, std::move(query));
}

asio::awaitable<result<int64_t>> ledger_service::outbox_ack(std::vector<std::pair<int64_t, int64_t>> ranges) {
    if (!open_)
        co_return error(ledger_errc::not_open,
                        i18n::text({"the agent's database is not open", "代理程序的数据库未打开"}));
    auto ack = [this, ranges = std::move(ranges)]() { return outbox(ledger_->database()).ack(ranges); };
    co_return co_await run_on<result<int64_t>>(thread_, std::move(ack));
}

asio::awaitable<result<outbox_stats>> ledger_service::outbox_stats_now() {
    if (!open_)
        co_return error(ledger_errc::not_open,
                        i18n::text({"the agent's database is not open", "代理程序的数据库未打开"}));
    auto query = [this]() { return outbox(ledger_->database()).stats(); };
    co_return co_await run_on<result<outbox_stats>>(thread_, std::move(query));
}

asio::awaitable<result<outbox::admission>> ledger_service::admit_command(std::string nonce, std::string command_id,
                                                                         int64_t expires_us) {
    if (!open_)
        co_return error(ledger_errc::not_open,
                        i18n::text({"the agent's database is not open", "代理程序的数据库未打开"}));
    auto check = [this, nonce = std::move(nonce), id = std::move(command_id),
                  expires_us]() -> result<outbox::admission> {
        return outbox(ledger_->database()).admit_command(nonce, id, expires_us, clock::wall_now().count());
    };
    co_return co_await run_on<result<outbox::admission>>(thread_, std::move(check));
}

asio::awaitable<void> ledger_service::beat() {
    while (!stopping_) {
        timer_.expires_after(heartbeat_);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (stopping_) co_return;
        auto now = clock::now();
        if (!now) continue;
        asio::post(thread_, [this, t = std::move(*now)] {
            if (!ledger_) return;
            if (auto r = ledger_->heartbeat(t); !r) {
                // Logged every period while it lasts (a full disk, say), so
                // the journal shows when it began and when it ended.
                log::error(lg, "heartbeat: {}", r.error().what());
            }
            clock_jumps_ = ledger_->clock_jumps();
        });
    }
}

}  // namespace bbt::agent
