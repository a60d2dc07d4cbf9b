#include "bbt/agent/outbox.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/utf8.hpp"
#include "bbt/protocol/json_text.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace bbt::agent {
namespace {

namespace county = protocol::county;
namespace json = boost::json;
const log::category lg{"outbox"};

int priority_of(county::kind k) {
    if (county::is_priority(k)) return 2;
    if (k == county::kind::heartbeat) return 0;
    return 1;
}

// Each message's body as stored, or for usage as its interval says.
constexpr const char* batch_query =
    "SELECT o.seq, o.kind, o.at_us, o.body, i.device, i.state, i.start_wall_us, i.end_wall_us"
    " FROM outbox o LEFT JOIN intervals i ON i.id = o.interval_id"
    " ORDER BY o.priority DESC, o.seq LIMIT ?";

}  // namespace

result<int64_t> outbox::put(int64_t at_us, const county::body& body) {
    county::message m;
    m.at_us = at_us;
    m.content = body;
    auto k = m.kind_of();
    auto json_body = county::to_json(m).at("body");
    auto st = db_->prepare("INSERT INTO outbox(kind, priority, at_us, body) VALUES (?, ?, ?, ?)");
    if (!st) return st.error();
    if (auto r =
            st->bind_all(county::to_string(k), priority_of(k), at_us, protocol::json_text::serialize(json_body)).run();
        !r) {
        return r.error();
    }
    return db_->last_insert_rowid();
}

result<std::vector<county::message>> outbox::next_batch(size_t max_messages, size_t max_bytes) {
    size_t set_aside = 0;
    std::string first;  // the first one set aside, and why
    for (;;) {
        std::vector<county::message> out;
        std::vector<std::pair<int64_t, std::string>> unreadable;  // seq, why
        {
            auto st = db_->prepare(batch_query);
            if (!st) return st.error();
            st->bind(1, static_cast<int64_t>(max_messages));
            size_t bytes = 0;
            for (;;) {
                auto row = st->step();
                if (!row) return row.error();
                if (!*row) break;
                int64_t seq = st->column_int64(0);
                json::object m{{"seq", seq}, {"kind", st->column_text(1)}, {"at_us", st->column_int64(2)}};
                if (st->column_is_null(3)) {
                    if (st->column_is_null(4)) continue;  // its interval is gone: nothing to say
                    m["body"] = json::object{{"device", st->column_text(4)},
                                             {"state", st->column_text(5)},
                                             {"start_us", st->column_int64(6)},
                                             {"end_us", st->column_int64(7)}};
                } else {
                    // An older agent wrote text from outside as it came; what
                    // is not UTF-8 is read as U+FFFD rather than not at all.
                    auto text = utf8::repair(st->column_text(3));
                    boost::system::error_code ec;
                    m["body"] = json::parse(text, ec);
                    if (ec) {
                        unreadable.emplace_back(seq, fmt::format("its body is not JSON ({})", ec.message()));
                        continue;
                    }
                }
                auto msg = county::message_from_json(m);
                if (!msg) {
                    unreadable.emplace_back(seq, msg.error().message());
                    continue;
                }
                bytes += json::serialize(m).size();
                if (!out.empty() && bytes > max_bytes) break;
                out.push_back(std::move(*msg));
            }
        }
        if (!unreadable.empty()) {
            if (auto r = quarantine(unreadable); !r) return r.error();
            if (set_aside == 0) first = fmt::format("{}: {}", unreadable.front().first, unreadable.front().second);
            set_aside += unreadable.size();
            // The batch is made again without them, so nothing behind them waits.
            if (out.empty()) continue;
        }
        if (set_aside > 0) {
            log::error(lg, "{} outbox message(s) cannot be read (the first, {}); set aside in outbox_quarantine",
                       set_aside, first);
            county::alert a;
            a.device = "agent";
            a.code = "outbox.quarantined";
            a.severity = "warning";
            a.message = fmt::format(
                "{} message(s) of the outbox could not be read and were set aside in outbox_quarantine (first: {})",
                set_aside, first);
            if (auto r = put(clock::wall_now().count(), a); !r) return r.error();
        }
        return out;
    }
}

result<void> outbox::quarantine(std::span<const std::pair<int64_t, std::string>> rows) {
    int64_t now = clock::wall_now().count();
    auto tx = sqlite::transaction::begin(*db_);
    if (!tx) return tx.error();
    auto move = db_->prepare(
        "INSERT OR REPLACE INTO outbox_quarantine(seq, kind, at_us, body, reason, quarantined_us)"
        " SELECT seq, kind, at_us, body, ?, ? FROM outbox WHERE seq = ?");
    if (!move) return move.error();
    auto drop = db_->prepare("DELETE FROM outbox WHERE seq = ?");
    if (!drop) return drop.error();
    for (const auto& [seq, why] : rows) {
        if (auto r = move->bind_all(why, now, seq).run(); !r) return r.error();
        move->reset();
        if (auto r = drop->bind_all(seq).run(); !r) return r.error();
        drop->reset();
    }
    return tx->commit();
}

result<int64_t> outbox::ack(std::span<const std::pair<int64_t, int64_t>> ranges) {
    auto tx = sqlite::transaction::begin(*db_);
    if (!tx) return tx.error();
    auto st = db_->prepare("DELETE FROM outbox WHERE seq BETWEEN ? AND ?");
    if (!st) return st.error();
    int64_t gone = 0;
    for (const auto& [from, to] : ranges) {
        if (auto r = st->bind_all(from, to).run(); !r) return r.error();
        gone += db_->changes();
        st->reset();
    }
    if (auto r = tx->commit(); !r) return r.error();
    return gone;
}

result<int64_t> outbox::thin(int64_t max_bytes) {
    int64_t dropped = 0;
    for (;;) {
        auto s = stats();
        if (!s) return s.error();
        if (s->bytes <= max_bytes) break;
        // Every second routine sample, from the oldest.
        auto st = db_->prepare(
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n"
            " FROM outbox WHERE priority = 0) WHERE n % 2 = 0)");
        if (!st) return st.error();
        if (auto r = st->run(); !r) return r.error();
        int64_t n = db_->changes();
        if (n == 0) {
            // Only what is never dropped is left: that is the bound's problem, not theirs.
            log::warning(lg, "the outbox holds {} bytes of events and usage over its bound of {}", s->bytes, max_bytes);
            break;
        }
        dropped += n;
    }
    if (dropped > 0) log::notice(lg, "thinned {} routine samples to stay within the outbox's bound", dropped);
    return dropped;
}

result<outbox::admission> outbox::admit_command(const std::string& nonce, const std::string& command_id,
                                                int64_t expires_us, int64_t now_us) {
    auto tx = sqlite::transaction::begin(*db_);
    if (!tx) return tx.error();
    auto prune = db_->prepare("DELETE FROM command_nonces WHERE expires_us < ?");
    if (!prune) return prune.error();
    int64_t horizon = now_us - int64_t{3'600'000'000};
    if (auto r = prune->bind_all(horizon).run(); !r) return r.error();
    auto seen = db_->prepare("SELECT count(*) FROM command_nonces WHERE command_id = ?");
    if (!seen) return seen.error();
    seen->bind(1, command_id);
    if (auto r = seen->step(); !r) return r.error();
    bool done_before = seen->column_int64(0) > 0;
    auto ins = db_->prepare("INSERT OR IGNORE INTO command_nonces(nonce, expires_us, command_id) VALUES (?, ?, ?)");
    if (!ins) return ins.error();
    if (auto r = ins->bind_all(nonce, expires_us, command_id).run(); !r) return r.error();
    bool fresh_nonce = db_->changes() == 1;
    if (auto r = tx->commit(); !r) return r.error();
    if (!fresh_nonce) return admission::replayed;
    return done_before ? admission::done_before : admission::fresh;
}

result<outbox_stats> outbox::stats() {
    auto st = db_->prepare(
        "SELECT count(*), coalesce(sum(priority > 0), 0), coalesce(sum(length(body)), 0) + 96 * count(*),"
        " min(at_us), (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'outbox') FROM outbox");
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    outbox_stats s;
    s.messages = st->column_int64(0);
    s.priority_messages = st->column_int64(1);
    s.bytes = st->column_int64(2);
    s.oldest_at_us = st->column_opt_int64(3);
    s.last_seq = st->column_int64(4);
    return s;
}

}  // namespace bbt::agent
