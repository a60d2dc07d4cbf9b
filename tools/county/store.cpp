#include "store.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <random>

namespace bbt::county {
namespace {

namespace json = boost::json;
namespace wire = protocol::county;

constexpr sqlite::migration migrations[] = {
    {1, R"sql(
        CREATE TABLE devices (
            device_id      TEXT PRIMARY KEY,
            school         TEXT NOT NULL,
            classroom      TEXT NOT NULL,
            enrolled_us    INTEGER NOT NULL,
            cert_serial    INTEGER NOT NULL,
            last_seen_us   INTEGER,
            agent_version  TEXT
        );
        CREATE TABLE reports (
            device_id    TEXT NOT NULL,
            seq          INTEGER NOT NULL,
            kind         TEXT NOT NULL,
            at_us        INTEGER NOT NULL,
            body         TEXT NOT NULL,
            received_us  INTEGER NOT NULL,
            PRIMARY KEY (device_id, seq)
        ) WITHOUT ROWID;
        CREATE INDEX reports_by_kind ON reports(kind, device_id, at_us);
        CREATE TABLE enrol_codes (
            code        TEXT PRIMARY KEY,
            school      TEXT NOT NULL,
            classroom   TEXT NOT NULL,
            expires_us  INTEGER NOT NULL,
            used_by     TEXT
        );
        CREATE TABLE commands (
            id            TEXT PRIMARY KEY,
            device_id     TEXT NOT NULL,
            verb          TEXT NOT NULL,
            args          TEXT NOT NULL,
            expires_us    INTEGER NOT NULL,
            delivered_us  INTEGER,
            ok            INTEGER,
            detail        TEXT
        );
    )sql"},
};

std::vector<std::pair<int64_t, int64_t>> ranges_of(std::vector<int64_t> seqs) {
    std::sort(seqs.begin(), seqs.end());
    std::vector<std::pair<int64_t, int64_t>> out;
    for (int64_t s : seqs) {
        if (!out.empty() && (s == out.back().second || s == out.back().second + 1)) {
            out.back().second = s;
        } else {
            out.emplace_back(s, s);
        }
    }
    return out;
}

error code_error(std::string_view why) { return error(std::make_error_code(std::errc::permission_denied), why); }

}  // namespace

result<store> store::open(const std::filesystem::path& path) {
    auto db = sqlite::database::open(path);
    if (!db) return db.error();
    if (auto r = db->migrate(migrations); !r) return r.error();
    return store(std::move(*db));
}

result<std::vector<std::pair<int64_t, int64_t>>> store::ingest(const std::string& device_id, const wire::batch& b,
                                                               int64_t now_us) {
    auto tx = sqlite::transaction::begin(db_);
    if (!tx) return tx.error();
    auto ins = db_.prepare(
        "INSERT OR IGNORE INTO reports(device_id, seq, kind, at_us, body, received_us) VALUES (?, ?, ?, ?, ?, ?)");
    if (!ins) return ins.error();
    auto result_upd = db_.prepare("UPDATE commands SET ok = ?, detail = ? WHERE id = ? AND device_id = ?");
    if (!result_upd) return result_upd.error();
    std::vector<int64_t> seqs;
    seqs.reserve(b.messages.size());
    for (const auto& m : b.messages) {
        auto j = wire::to_json(m);
        if (auto r = ins->bind_all(device_id, m.seq, wire::to_string(m.kind_of()), m.at_us,
                                   json::serialize(j.at("body")), now_us)
                         .run();
            !r) {
            return r.error();
        }
        ins->reset();
        if (const auto* cr = std::get_if<wire::command_result>(&m.content)) {
            if (auto r = result_upd->bind_all(cr->ok ? 1 : 0, cr->detail, cr->command_id, device_id).run(); !r) {
                return r.error();
            }
            result_upd->reset();
        }
        seqs.push_back(m.seq);
    }
    auto seen = db_.prepare("UPDATE devices SET last_seen_us = ?, agent_version = ? WHERE device_id = ?");
    if (!seen) return seen.error();
    if (auto r = seen->bind_all(now_us, b.agent_version, device_id).run(); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return ranges_of(std::move(seqs));
}

result<std::string> store::new_code(const std::string& school, const std::string& classroom, int64_t expires_us) {
    // 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L).
    static constexpr char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    std::random_device rd;
    std::string code;
    for (int i = 0; i < 10; ++i)
        code += alphabet[rd() % (sizeof alphabet - 1)];
    auto st = db_.prepare("INSERT INTO enrol_codes(code, school, classroom, expires_us) VALUES (?, ?, ?, ?)");
    if (!st) return st.error();
    if (auto r = st->bind_all(code, school, classroom, expires_us).run(); !r) return r.error();
    return code;
}

result<enrolment> store::redeem(const std::string& code, int64_t now_us) {
    auto tx = sqlite::transaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare("SELECT school, classroom, expires_us, used_by FROM enrol_codes WHERE code = ?");
    if (!st) return st.error();
    st->bind(1, code);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) {
        return code_error(
            i18n::text({"this enrolment code is not known to the county; check it, or ask the county "
                        "for a new one",
                        "县级平台没有此注册码；请核对，或向县级平台申请新码"}));
    }
    enrolment e;
    e.school = st->column_text(0);
    e.classroom = st->column_text(1);
    if (!st->column_is_null(3)) {
        return code_error(i18n::text({"this enrolment code has been used already; ask the county for a new one",
                                      "此注册码已被使用；请向县级平台申请新码"}));
    }
    if (st->column_int64(2) < now_us) {
        return code_error(i18n::text(
            {"this enrolment code has expired; ask the county for a new one", "此注册码已过期；请向县级平台申请新码"}));
    }
    st->reset();
    // Each enrolment of a classroom is a device of its own: a replaced set
    // starts its sequence numbers again without colliding with the old one's.
    auto n = db_.prepare("SELECT count(*) + 1 FROM devices WHERE school = ? AND classroom = ?");
    if (!n) return n.error();
    n->bind_all(e.school, e.classroom);
    if (auto r = n->step(); !r) return r.error();
    int64_t nth = n->column_int64(0);
    e.device_id = fmt::format("{}/{}#{}", e.school, e.classroom, nth);
    auto serial = db_.prepare("SELECT coalesce(max(cert_serial), 1) + 1 FROM devices");
    if (!serial) return serial.error();
    if (auto r = serial->step(); !r) return r.error();
    e.serial = serial->column_int64(0);
    auto dev = db_.prepare(
        "INSERT INTO devices(device_id, school, classroom, enrolled_us, cert_serial) VALUES (?, ?, ?, ?, ?)");
    if (!dev) return dev.error();
    if (auto r = dev->bind_all(e.device_id, e.school, e.classroom, now_us, e.serial).run(); !r) return r.error();
    auto used = db_.prepare("UPDATE enrol_codes SET used_by = ? WHERE code = ?");
    if (!used) return used.error();
    if (auto r = used->bind_all(e.device_id, code).run(); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return e;
}

result<void> store::queue_command(const queued_command& c) {
    auto st = db_.prepare("INSERT INTO commands(id, device_id, verb, args, expires_us) VALUES (?, ?, ?, ?, ?)");
    if (!st) return st.error();
    return st->bind_all(c.id, c.device_id, c.verb, c.args, c.expires_us).run();
}

result<std::vector<queued_command>> store::take_commands(const std::string& device_id, int64_t now_us) {
    auto tx = sqlite::transaction::begin(db_);
    if (!tx) return tx.error();
    auto st = db_.prepare(
        "SELECT id, verb, args, expires_us FROM commands WHERE device_id = ? AND delivered_us IS NULL AND expires_us > "
        "?"
        " ORDER BY rowid");
    if (!st) return st.error();
    st->bind_all(device_id, now_us);
    std::vector<queued_command> out;
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({st->column_text(0), device_id, st->column_text(1), st->column_text(2), st->column_int64(3)});
    }
    auto mark = db_.prepare("UPDATE commands SET delivered_us = ? WHERE id = ?");
    if (!mark) return mark.error();
    for (const auto& c : out) {
        if (auto r = mark->bind_all(now_us, c.id).run(); !r) return r.error();
        mark->reset();
    }
    if (auto r = tx->commit(); !r) return r.error();
    return out;
}

result<int64_t> store::count_reports(const std::string& device_id) {
    auto st = db_.prepare(device_id.empty() ? "SELECT count(*) FROM reports WHERE ?1 = ?1"
                                            : "SELECT count(*) FROM reports WHERE device_id = ?1");
    if (!st) return st.error();
    st->bind(1, device_id);
    if (auto r = st->step(); !r) return r.error();
    return st->column_int64(0);
}

}  // namespace bbt::county
