// County link figures, after a 30-day outage of a set that reports one
// heartbeat a minute and its usage (whiteboard and projector intervals):
//   outbox.bytes_after_30_days      the agent's database (and WAL) holding it all
//   outbox.drain_messages_per_s     batches out of the outbox: select, encode, gzip, acknowledge
//   county.ingest_reports_per_s     the county taking them in: gunzip, decode, store once per sequence
#include "bbt/agent/ledger.hpp"
#include "bbt/agent/outbox.hpp"
#include "bbt/protocol/gzip.hpp"
#include "store.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

using namespace bbt;
using std::chrono::steady_clock;
namespace wire = protocol::county;

namespace {

constexpr int64_t minute = 60'000'000;
constexpr int64_t t0 = 1'795'276'800'000'000;
const std::string boot = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb";

clock::stamp at(int64_t t) { return {clock::microseconds(t0 + t), clock::microseconds(t), boot}; }

template <class T>
T must(result<T> r) {
    if (!r) throw std::runtime_error(r.error().what());
    return std::move(*r);
}

void must(result<void> r) {
    if (!r) throw std::runtime_error(r.error().what());
}

int64_t size_of(const std::filesystem::path& p) {
    std::error_code ec;
    auto n = std::filesystem::file_size(p, ec);
    return ec ? 0 : static_cast<int64_t>(n);
}

}  // namespace

void bench_county(const std::filesystem::path& root) {
    std::filesystem::remove(root / "outage.db");
    auto l = must(agent::ledger::open(root / "outage.db", at(0)));
    agent::outbox o(l.database());
    // 30 days: a heartbeat a minute; in school hours the whiteboard changes
    // state every 20 minutes and the projector is on for the lessons.
    for (int day = 0; day < 30; ++day) {
        auto tx = must(sqlite::transaction::begin(l.database()));
        for (int m = 0; m < 1440; ++m) {
            int64_t t = (day * 1440 + m) * minute;
            wire::heartbeat hb{static_cast<double>(t) / 1e6,
                               true,
                               day * 1440 + m,
                               {{"agent", "ok"}, {"whiteboard", m % 40 < 20 ? "idle" : "in-use"}},
                               {}};
            must(o.put(t0 + t, hb));
        }
        // (A day's heartbeats in one transaction: the agent writes each on its
        // own, which takes longer but stores the same.)
        must(tx.commit());
        for (int m = 8 * 60; m < 17 * 60; m += 20) {
            int64_t t = (day * 1440 + m) * minute;
            must(l.set_state("whiteboard", m % 40 == 0 ? "in-use" : "idle", at(t)));
            must(l.set_state("projector", m % 40 == 0 ? "on" : "standby", at(t)));
        }
    }
    auto st = must(o.stats());
    must(l.database().exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    int64_t bytes = size_of(root / "outage.db") + size_of(root / "outage.db-wal");
    fmt::print("bench: outbox.bytes_after_30_days {:.1f} MB ({} messages)\n", static_cast<double>(bytes) / 1e6,
               st.messages);

    std::filesystem::remove(root / "county.db");
    auto store = must(bbt::county::store::open(root / "county.db"));
    double agent_s = 0, county_s = 0;
    int64_t sent = 0;
    for (;;) {
        auto a = steady_clock::now();
        auto msgs = must(o.next_batch(1024, 512 * 1024));
        if (msgs.empty()) break;
        wire::batch b{"No.3 Primary/201#1", "bench", std::move(msgs)};
        std::string body = protocol::gzip(wire::encode(b));
        auto c = steady_clock::now();
        // The county's side.
        auto text = must(protocol::gunzip(body, wire::max_batch_bytes));
        auto decoded = must(wire::decode_batch(text));
        auto acked = must(store.ingest(decoded.device_id, decoded, t0));
        auto d = steady_clock::now();
        must(o.ack(acked));
        auto e = steady_clock::now();
        agent_s += std::chrono::duration<double>((c - a) + (e - d)).count();
        county_s += std::chrono::duration<double>(d - c).count();
        sent += static_cast<int64_t>(b.messages.size());
    }
    if (sent != st.messages) fmt::print(stderr, "bench: drained {} of {} messages\n", sent, st.messages);
    if (must(store.count_reports()) != sent) fmt::print(stderr, "bench: the county holds fewer than were sent\n");
    fmt::print("bench: outbox.drain_messages_per_s {:.0f} messages/s\n", static_cast<double>(sent) / agent_s);
    fmt::print("bench: county.ingest_reports_per_s {:.0f} reports/s\n", static_cast<double>(sent) / county_s);
}
