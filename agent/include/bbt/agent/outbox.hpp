// The outbox: what the agent reports to the county, kept in the agent's
// database until the county acknowledges it.
//
// Every message gets its sequence number when it is written, and numbers
// are never reused. Batches take events and alerts first, then usage and
// inventory, then routine samples, each in sequence order. Closed usage
// intervals enter the outbox by themselves (a trigger, in the transaction
// that closes them) and are built from the ledger when sent, so a wall
// clock corrected later is reported corrected. Under a storage bound the
// routine samples (heartbeats) are thinned, every second one from the
// oldest; nothing else is ever dropped.
//
// Owned by the thread that owns the ledger.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/sqlite.hpp"
#include "bbt/protocol/county.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace bbt::agent {

struct outbox_stats {
    int64_t messages = 0;
    int64_t priority_messages = 0;  // events, alerts, command results, usage, inventory
    int64_t bytes = 0;              // of stored bodies
    std::optional<int64_t> oldest_at_us;
    int64_t last_seq = 0;  // the highest sequence number ever given
};

class outbox {
public:
    explicit outbox(sqlite::database& db) : db_(&db) {}

    // Queues a message; returns its sequence number. Usage is not queued
    // this way (the ledger does it).
    [[nodiscard]] result<int64_t> put(int64_t at_us, const protocol::county::body& body);

    // The next messages to send, at most `max_messages` and about `max_bytes`
    // of JSON (at least one message when any is waiting). A message that
    // cannot be read back is moved to `outbox_quarantine` with its reason,
    // and an alert says so: it never holds up the ones behind it.
    [[nodiscard]] result<std::vector<protocol::county::message>> next_batch(size_t max_messages, size_t max_bytes);

    // Removes what the county holds; returns how many messages went.
    [[nodiscard]] result<int64_t> ack(std::span<const std::pair<int64_t, int64_t>> ranges);

    // Thins routine samples until the stored bodies take at most `max_bytes`
    // (or no sample is left); returns how many were dropped.
    [[nodiscard]] result<int64_t> thin(int64_t max_bytes);

    [[nodiscard]] result<outbox_stats> stats();

    // Whether a command from the county is to be carried out: `fresh` the
    // first time, `replayed` when its nonce was seen before (a replay, to be
    // refused), `done_before` when the county sent the same command again
    // under a new nonce because our result had not reached it yet (nothing
    // to do: the result is on its way). Nonces are remembered until an hour
    // after their command expires.
    enum class admission { fresh, replayed, done_before };
    [[nodiscard]] result<admission> admit_command(const std::string& nonce, const std::string& command_id,
                                                  int64_t expires_us, int64_t now_us);

private:
    // Moves messages out of the queue into `outbox_quarantine`, in one
    // transaction.
    [[nodiscard]] result<void> quarantine(std::span<const std::pair<int64_t, std::string>> rows);

    sqlite::database* db_;
};

}  // namespace bbt::agent
