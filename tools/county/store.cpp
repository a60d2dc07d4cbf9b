#include "store.hpp"

#include "bbt/base/utf8.hpp"

#include "bbt/base/digest.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/protocol/catalogue.hpp"
#include "bbt/protocol/timetable.hpp"

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
    // What the dashboard reads, kept as reports arrive: the last inventory,
    // usage intervals, power-on spans from heartbeats, alerts with their
    // opening and clearing, lamp hours.
    {2, R"sql(
        ALTER TABLE devices ADD COLUMN inventory_at_us INTEGER;
        ALTER TABLE devices ADD COLUMN heartbeat_at_us INTEGER;
        ALTER TABLE devices ADD COLUMN health TEXT;
        ALTER TABLE devices ADD COLUMN queue_depth INTEGER;
        ALTER TABLE devices ADD COLUMN clock_synchronized INTEGER;
        ALTER TABLE commands ADD COLUMN deliveries INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE inventory (
            device_id  TEXT NOT NULL,
            position   INTEGER NOT NULL,
            kind       TEXT NOT NULL,
            vendor     TEXT NOT NULL,
            model      TEXT NOT NULL,
            serial     TEXT NOT NULL,
            firmware   TEXT NOT NULL,
            PRIMARY KEY (device_id, position)
        ) WITHOUT ROWID;
        CREATE TABLE usage (
            device_id  TEXT NOT NULL,
            device     TEXT NOT NULL,
            state      TEXT NOT NULL,
            start_us   INTEGER NOT NULL,
            end_us     INTEGER NOT NULL,
            PRIMARY KEY (device_id, device, start_us)
        ) WITHOUT ROWID;
        CREATE INDEX usage_by_time ON usage(end_us);
        CREATE TABLE power (
            device_id  TEXT NOT NULL,
            boot_us    INTEGER NOT NULL,
            last_us    INTEGER NOT NULL,
            PRIMARY KEY (device_id, boot_us)
        ) WITHOUT ROWID;
        CREATE TABLE alerts (
            id          INTEGER PRIMARY KEY,
            device_id   TEXT NOT NULL,
            device      TEXT NOT NULL,
            code        TEXT NOT NULL,
            severity    TEXT NOT NULL,
            message     TEXT NOT NULL,
            opened_us   INTEGER NOT NULL,
            cleared_us  INTEGER
        );
        CREATE UNIQUE INDEX alerts_open ON alerts(device_id, device, code) WHERE cleared_us IS NULL;
        CREATE TABLE lamps (
            device_id    TEXT NOT NULL,
            device       TEXT NOT NULL,
            lamp         INTEGER NOT NULL,
            hours        REAL NOT NULL,
            rated_hours  REAL NOT NULL,
            at_us        INTEGER NOT NULL,
            PRIMARY KEY (device_id, device, lamp)
        ) WITHOUT ROWID;
    )sql"},
    // What the county publishes to the sets (the courseware catalogue, each
    // classroom's timetable) and each set's readiness for a day's lessons.
    {3, R"sql(
        CREATE TABLE published (
            name        TEXT PRIMARY KEY,
            body        TEXT NOT NULL,
            etag        TEXT NOT NULL,
            updated_us  INTEGER NOT NULL
        );
        CREATE TABLE timetables (
            school      TEXT NOT NULL,
            classroom   TEXT NOT NULL,
            body        TEXT NOT NULL,
            etag        TEXT NOT NULL,
            updated_us  INTEGER NOT NULL,
            PRIMARY KEY (school, classroom)
        );
        CREATE TABLE readiness (
            device_id  TEXT NOT NULL,
            day        TEXT NOT NULL,
            lessons    INTEGER NOT NULL,
            resources  INTEGER NOT NULL,
            ready      INTEGER NOT NULL,
            missing    TEXT NOT NULL,
            at_us      INTEGER NOT NULL,
            PRIMARY KEY (device_id, day)
        ) WITHOUT ROWID;
    )sql"},
    // Recordings the sets upload (tus).
    {4, R"sql(
        CREATE TABLE uploads (
            id               TEXT PRIMARY KEY,
            device_id        TEXT NOT NULL,
            filename         TEXT NOT NULL,
            lesson           TEXT NOT NULL,
            sha256           TEXT NOT NULL,
            length           INTEGER NOT NULL,
            offset           INTEGER NOT NULL,
            started_us       INTEGER NOT NULL,
            duration_ms      INTEGER NOT NULL,
            state            TEXT NOT NULL,
            received_sha256  TEXT NOT NULL,
            received_bytes   INTEGER NOT NULL,
            conflicts        INTEGER NOT NULL,
            mismatches       INTEGER NOT NULL,
            created_us       INTEGER NOT NULL,
            updated_us       INTEGER NOT NULL,
            path             TEXT NOT NULL
        );
        CREATE INDEX uploads_by_file ON uploads(device_id, sha256, length);
    )sql"},
    // What each set says of the lessons it recorded (recording messages).
    {5, R"sql(
        CREATE TABLE set_recordings (
            device_id   TEXT NOT NULL,
            file        TEXT NOT NULL,
            lesson      TEXT NOT NULL,
            part        INTEGER NOT NULL,
            started_us  INTEGER NOT NULL,
            duration_s  REAL NOT NULL,
            bytes       INTEGER NOT NULL,
            sha256      TEXT NOT NULL,
            state       TEXT NOT NULL,
            at_us       INTEGER NOT NULL,
            PRIMARY KEY (device_id, file)
        ) WITHOUT ROWID;
    )sql"},
    // Certificates: when a set's current one expires, its renewals, and sets
    // retired (every certificate of theirs refused from then on).
    {6, R"sql(
        ALTER TABLE devices ADD COLUMN cert_not_after_us INTEGER;
        ALTER TABLE devices ADD COLUMN renewed_us INTEGER;
        ALTER TABLE devices ADD COLUMN renewals INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE devices ADD COLUMN retired_us INTEGER;
    )sql"},
    // The dashboard's accounts (school NULL: the county's staff), sessions
    // and one-time sign-in links; tokens kept as their SHA-256 only.
    {7, R"sql(
        CREATE TABLE accounts (
            name        TEXT PRIMARY KEY,
            password    TEXT NOT NULL,
            school      TEXT,
            created_us  INTEGER NOT NULL
        );
        CREATE TABLE dashboard_sessions (
            token_sha256  TEXT PRIMARY KEY,
            name          TEXT NOT NULL,
            csrf          TEXT NOT NULL,
            expires_us    INTEGER NOT NULL
        );
        CREATE TABLE sign_in_links (
            token_sha256  TEXT PRIMARY KEY,
            name          TEXT NOT NULL,
            expires_us    INTEGER NOT NULL
        );
    )sql"},
    // Raw reports are pruned by age (the dashboard's tables are kept).
    {8, R"sql(
        CREATE INDEX reports_by_received ON reports(received_us);
    )sql"},
};

constexpr std::string_view upload_columns =
    "id, device_id, filename, lesson, sha256, length, offset, started_us, duration_ms, state, received_sha256, "
    "received_bytes, conflicts, mismatches, created_us, updated_us, path";

upload upload_of(const sqlite::statement& st) {
    upload u;
    u.id = st.column_text(0);
    u.device_id = st.column_text(1);
    u.filename = st.column_text(2);
    u.lesson = st.column_text(3);
    u.sha256 = st.column_text(4);
    u.length = st.column_int64(5);
    u.offset = st.column_int64(6);
    u.started_us = st.column_int64(7);
    u.duration_ms = st.column_int64(8);
    u.state = st.column_text(9);
    u.received_sha256 = st.column_text(10);
    u.received_bytes = st.column_int64(11);
    u.conflicts = st.column_int64(12);
    u.mismatches = st.column_int64(13);
    u.created_us = st.column_int64(14);
    u.updated_us = st.column_int64(15);
    u.path = st.column_text(16);
    return u;
}

result<std::vector<upload>> uploads_of(sqlite::statement& st) {
    std::vector<upload> out;
    for (;;) {
        auto row = st.step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back(upload_of(st));
    }
    return out;
}

// A strong ETag of a published document: its SHA-256, quoted.
std::string etag_of(std::string_view body) { return "\"" + bbt::digest::sha256_hex(body).substr(0, 32) + "\""; }

// Two heartbeats of one power-on span give boot times this close together
// (wall-clock steps and rounding move them a little).
constexpr int64_t same_boot_us = 120'000'000;

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

error retired_error(const std::string& device_id) {
    return code_error(i18n::format({"the county has retired the set {}: it is no longer served; a set that is to "
                                    "take its place enrols with a new code",
                                    "县级平台已停用设备 {}，不再为其服务；接替它的设备请用新注册码注册"},
                                   device_id));
}

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
    auto prepared = cached(
        "INSERT OR IGNORE INTO reports(device_id, seq, kind, at_us, body, received_us) VALUES (?, ?, ?, ?, ?, ?)");
    if (!prepared) return prepared.error();
    auto* ins = *prepared;
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
        // A message seen before changed the county's picture then.
        if (db_.changes() == 1) {
            if (auto r = apply(device_id, m); !r) return r.error();
        }
        seqs.push_back(m.seq);
    }
    auto seen = db_.prepare("UPDATE devices SET last_seen_us = ?, agent_version = ? WHERE device_id = ?");
    if (!seen) return seen.error();
    if (auto r = seen->bind_all(now_us, b.agent_version, device_id).run(); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return ranges_of(std::move(seqs));
}

result<sqlite::statement*> store::cached(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
        auto st = db_.prepare(sql);
        if (!st) return st.error();
        it = statements_.emplace(std::string(sql), std::move(*st)).first;
    } else {
        it->second.reset();
    }
    return &it->second;
}

result<void> store::apply(const std::string& device_id, const wire::message& m) {
    auto run = [&](std::string_view sql, const auto&... args) -> result<void> {
        auto st = cached(sql);
        if (!st) return st.error();
        return (*st)->bind_all(args...).run();
    };
    return std::visit(
        [&](const auto& x) -> result<void> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, wire::inventory>) {
                // Only a newer inventory replaces what is known.
                auto q = cached("SELECT coalesce(inventory_at_us, -1) FROM devices WHERE device_id = ?");
                if (!q) return q.error();
                auto* st = *q;
                st->bind(1, device_id);
                auto row = st->step();
                if (!row) return row.error();
                bool older = !*row || st->column_int64(0) > m.at_us;
                st->reset();
                if (older) return {};
                if (auto r = run("DELETE FROM inventory WHERE device_id = ?", device_id); !r) return r;
                int64_t pos = 0;
                for (const auto& d : x.devices) {
                    if (auto r = run("INSERT INTO inventory VALUES (?, ?, ?, ?, ?, ?, ?)", device_id, pos++,
                                     std::string(to_string(d.kind)), d.vendor, d.model, d.serial, d.firmware);
                        !r) {
                        return r;
                    }
                }
                return run("UPDATE devices SET inventory_at_us = ? WHERE device_id = ?", m.at_us, device_id);
            } else if constexpr (std::is_same_v<T, wire::heartbeat>) {
                json::object health;
                for (const auto& [k, v] : x.health)
                    health[k] = v;
                if (auto r = run(
                        "UPDATE devices SET heartbeat_at_us = ?1, health = ?2, queue_depth = ?3, clock_synchronized = "
                        "?4 WHERE device_id = ?5 AND coalesce(heartbeat_at_us, -1) <= ?1",
                        m.at_us, json::serialize(health), x.queue_depth, x.clock_synchronized ? 1 : 0, device_id);
                    !r) {
                    return r;
                }
                int64_t boot = m.at_us - static_cast<int64_t>(x.uptime_s * 1e6);
                auto st = db_.prepare(
                    "SELECT boot_us FROM power WHERE device_id = ? AND boot_us BETWEEN ? AND ? ORDER BY boot_us LIMIT "
                    "1");
                if (!st) return st.error();
                st->bind_all(device_id, boot - same_boot_us, boot + same_boot_us);
                auto row = st->step();
                if (!row) return row.error();
                std::optional<int64_t> known = *row ? std::optional<int64_t>(st->column_int64(0)) : std::nullopt;
                st->reset();
                auto span = known
                                ? run("UPDATE power SET last_us = max(last_us, ?) WHERE device_id = ? AND boot_us = ?",
                                      m.at_us, device_id, *known)
                                : run("INSERT INTO power VALUES (?, ?, ?)", device_id, boot, m.at_us);
                if (!span) return span;
                for (const auto& l : x.lamps) {
                    if (auto r = run("INSERT INTO lamps VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET "
                                     "hours = ?4, rated_hours = ?5, at_us = ?6 WHERE at_us <= ?6",
                                     device_id, l.device, l.index, l.hours, l.rated_hours, m.at_us);
                        !r) {
                        return r;
                    }
                }
                return {};
            } else if constexpr (std::is_same_v<T, wire::usage>) {
                return run("INSERT OR IGNORE INTO usage VALUES (?, ?, ?, ?, ?)", device_id, x.device, x.state,
                           x.start_us, x.end_us);
            } else if constexpr (std::is_same_v<T, wire::alert>) {
                if (x.open) {
                    return run(
                        "INSERT INTO alerts(device_id, device, code, severity, message, opened_us) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (device_id, device, code) WHERE cleared_us "
                        "IS NULL DO UPDATE SET severity = ?4, message = ?5",
                        device_id, x.device, x.code, x.severity, x.message, m.at_us);
                }
                return run(
                    "UPDATE alerts SET cleared_us = ? WHERE device_id = ? AND device = ? AND code = ? AND "
                    "cleared_us IS NULL",
                    m.at_us, device_id, x.device, x.code);
            } else if constexpr (std::is_same_v<T, wire::command_result>) {
                return run("UPDATE commands SET ok = ?, detail = ? WHERE id = ? AND device_id = ?", x.ok ? 1 : 0,
                           x.detail, x.command_id, device_id);
            } else if constexpr (std::is_same_v<T, wire::recording>) {
                return run(
                    "INSERT INTO set_recordings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO UPDATE "
                    "SET lesson = ?3, part = ?4, started_us = ?5, duration_s = ?6, bytes = ?7, sha256 = ?8, state = "
                    "?9, "
                    "at_us = ?10 WHERE at_us <= ?10",
                    device_id, x.file, x.lesson, x.part, x.started_us, x.duration_s, x.bytes, x.sha256, x.state,
                    m.at_us);
            } else if constexpr (std::is_same_v<T, wire::readiness>) {
                json::array missing;
                for (const auto& id : x.missing)
                    missing.push_back(json::string(id));
                return run(
                    "INSERT INTO readiness VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET lessons = ?3, "
                    "resources = ?4, ready = ?5, missing = ?6, at_us = ?7 WHERE at_us <= ?7",
                    device_id, x.day, x.lessons, x.resources, x.ready, json::serialize(missing), m.at_us);
            } else {
                return {};  // events stay in the reports table
            }
        },
        m.content);
}

result<void> check_place_names(const std::string& school, const std::string& classroom) {
    // The device id is "SCHOOL/CLASSROOM#N": the certificate's common name
    // (at most 64 bytes) and the folders its recordings are kept in.
    auto bad = [](std::string_view n) {
        if (n.empty() || n.front() == '.' || n.front() == ' ' || n.back() == ' ' || !utf8::valid(n)) return true;
        for (unsigned char c : n) {
            if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '#') return true;
        }
        return false;
    };
    if (bad(school) || bad(classroom)) {
        return error(std::make_error_code(std::errc::invalid_argument),
                     i18n::format({"\"{}\" / \"{}\": a school's and a classroom's name must not be empty, start with a "
                                   "dot or a space, or hold / \\ # or control characters",
                                   "“{}”/“{}”：学校名和教室名不能为空，不能以点或空格开头，不能含 / \\ # 或控制字符"},
                                  utf8::repair(school), utf8::repair(classroom)));
    }
    if (school.size() + classroom.size() > max_place_bytes) {
        return error(std::make_error_code(std::errc::invalid_argument),
                     i18n::format({"\"{}\" and \"{}\" are {} bytes together; at most {} fit in a set's certificate "
                                   "(a Chinese character takes 3): shorten them",
                                   "“{}”和“{}”合计 {} 字节；设备证书中最多容纳 {} 字节（一个汉字占 3 字节）：请缩短"},
                                  school, classroom, school.size() + classroom.size(), max_place_bytes));
    }
    return {};
}

result<std::string> store::new_code(const std::string& school, const std::string& classroom, int64_t expires_us) {
    if (auto r = check_place_names(school, classroom); !r) return r.error();
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

result<enrolment> store::redeem(const std::string& code, int64_t now_us, const std::string& previous_device_id,
                                const issue_fn& issue) {
    // One transaction: a code whose certificate cannot be issued (a bad
    // request, a full disk) is not spent.
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
    // A set enrolled before in this classroom, and not retired, keeps its
    // device id and with it its history (its certificate had expired, or
    // its keys were lost).
    if (!previous_device_id.empty()) {
        auto same = db_.prepare(
            "SELECT 1 FROM devices WHERE device_id = ? AND school = ? AND classroom = ? AND retired_us IS NULL");
        if (!same) return same.error();
        same->bind_all(previous_device_id, e.school, e.classroom);
        auto found = same->step();
        if (!found) return found.error();
        if (*found) {
            e.device_id = previous_device_id;
            e.again = true;
        }
    }
    if (!e.again) {
        // Each enrolment of a classroom is a device of its own: a replaced set
        // starts its sequence numbers again without colliding with the old one's.
        auto n = db_.prepare("SELECT count(*) + 1 FROM devices WHERE school = ? AND classroom = ?");
        if (!n) return n.error();
        n->bind_all(e.school, e.classroom);
        if (auto r = n->step(); !r) return r.error();
        e.device_id = fmt::format("{}/{}#{}", e.school, e.classroom, n->column_int64(0));
    }
    if (issue) {
        auto cert = issue(e);
        if (!cert) return cert.error();
        e.certificate = std::move(*cert);
    }
    if (e.again) {
        if (auto r = record_renewal(e.device_id, e.certificate, now_us); !r) return r.error();
    } else {
        auto dev = db_.prepare(
            "INSERT INTO devices(device_id, school, classroom, enrolled_us, cert_serial, cert_not_after_us) "
            "VALUES (?, ?, ?, ?, ?, nullif(?, 0))");
        if (!dev) return dev.error();
        if (auto r = dev->bind_all(e.device_id, e.school, e.classroom, now_us, e.certificate.serial,
                                   e.certificate.not_after_us)
                         .run();
            !r)
            return r.error();
    }
    auto used = db_.prepare("UPDATE enrol_codes SET used_by = ? WHERE code = ?");
    if (!used) return used.error();
    if (auto r = used->bind_all(e.device_id, code).run(); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return e;
}

result<issued_certificate> store::renew(const std::string& device_id, int64_t now_us, const issue_fn& issue) {
    auto tx = sqlite::transaction::begin(db_);
    if (!tx) return tx.error();
    auto place = place_of(device_id);
    if (!place) return place.error();
    if (!*place) {
        return code_error(i18n::format({"the county has no set {}; enrol it with a code from the county",
                                        "县级平台没有设备 {}；请用县级平台的注册码注册"},
                                       device_id));
    }
    if ((*place)->was_retired) return retired_error(device_id);
    enrolment e;
    e.device_id = device_id;
    e.school = (*place)->school;
    e.classroom = (*place)->classroom;
    e.again = true;
    auto cert = issue(e);
    if (!cert) return cert.error();
    if (auto r = record_renewal(device_id, *cert, now_us); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return std::move(*cert);
}

result<void> store::record_renewal(const std::string& device_id, const issued_certificate& cert, int64_t now_us) {
    auto dev = db_.prepare(
        "UPDATE devices SET cert_serial = ?, cert_not_after_us = nullif(?, 0), renewed_us = ?, "
        "renewals = renewals + 1 WHERE device_id = ?");
    if (!dev) return dev.error();
    return dev->bind_all(cert.serial, cert.not_after_us, now_us, device_id).run();
}

result<bool> store::retired(const std::string& device_id) {
    auto st = cached("SELECT retired_us IS NOT NULL FROM devices WHERE device_id = ?");
    if (!st) return st.error();
    (*st)->bind(1, device_id);
    auto row = (*st)->step();
    if (!row) return row.error();
    bool r = *row && (*st)->column_int64(0) != 0;
    (*st)->reset();
    return r;
}

result<device_place> store::retire(const std::string& device_id, int64_t now_us) {
    auto place = place_of(device_id);
    if (!place) return place.error();
    if (!*place) {
        return error(std::make_error_code(std::errc::no_such_device),
                     i18n::format({"the county has no set {}; the dashboard lists them",
                                   "县级平台没有设备 {}；看板列出了所有设备"},
                                  device_id));
    }
    if ((*place)->was_retired) return **place;
    auto up = db_.prepare("UPDATE devices SET retired_us = ? WHERE device_id = ?");
    if (!up) return up.error();
    if (auto r = up->bind_all(now_us, device_id).run(); !r) return r.error();
    return **place;
}

result<std::optional<device_place>> store::place_of(const std::string& device_id) {
    auto st = db_.prepare("SELECT school, classroom, retired_us FROM devices WHERE device_id = ?");
    if (!st) return st.error();
    st->bind(1, device_id);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<device_place>();
    return std::optional<device_place>(device_place{st->column_text(0), st->column_text(1), !st->column_is_null(2)});
}

result<int64_t> store::prune_reports(int64_t before_us, int64_t limit) {
    auto st = db_.prepare(
        "DELETE FROM reports WHERE (device_id, seq) IN (SELECT device_id, seq FROM reports WHERE received_us < ? "
        "ORDER BY received_us LIMIT ?)");
    if (!st) return st.error();
    if (auto r = st->bind_all(before_us, limit).run(); !r) return r.error();
    return static_cast<int64_t>(db_.changes());
}

result<void> store::queue_command(const queued_command& c) {
    auto st = db_.prepare("INSERT INTO commands(id, device_id, verb, args, expires_us) VALUES (?, ?, ?, ?, ?)");
    if (!st) return st.error();
    return st->bind_all(c.id, c.device_id, c.verb, c.args, c.expires_us).run();
}

result<std::vector<queued_command>> store::take_commands(const std::string& device_id, int64_t now_us,
                                                         std::chrono::seconds redeliver_after) {
    auto tx = sqlite::transaction::begin(db_);
    if (!tx) return tx.error();
    // Until its result arrives a command goes out again now and then: the
    // reply that carried it may have been lost on the way.
    auto st = db_.prepare(
        "SELECT id, verb, args, expires_us FROM commands WHERE device_id = ? AND ok IS NULL AND expires_us > ? AND "
        "(delivered_us IS NULL OR delivered_us <= ?) ORDER BY rowid");
    if (!st) return st.error();
    st->bind_all(device_id, now_us, now_us - redeliver_after.count() * 1'000'000);
    std::vector<queued_command> out;
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({st->column_text(0), device_id, st->column_text(1), st->column_text(2), st->column_int64(3)});
    }
    auto mark = db_.prepare("UPDATE commands SET delivered_us = ?, deliveries = deliveries + 1 WHERE id = ?");
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

namespace bbt::county {

result<size_t> store::publish_catalogue(std::string_view json_text, int64_t now_us) {
    auto parsed = protocol::parse_catalogue(json_text);
    if (!parsed) return parsed.error();
    // Stored as the county's own encoding: one form, one ETag.
    std::string body = protocol::encode_catalogue(*parsed);
    std::string etag = etag_of(body);
    auto st = db_.prepare(
        "INSERT INTO published VALUES ('catalogue', ?1, ?2, ?3) ON CONFLICT DO UPDATE SET body = ?1, etag = ?2, "
        "updated_us = ?3");
    if (!st) return st.error();
    if (auto r = st->bind_all(body, etag, now_us).run(); !r) return r.error();
    return parsed->size();
}

result<std::optional<published>> store::catalogue() {
    auto st = db_.prepare("SELECT body, etag FROM published WHERE name = 'catalogue'");
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<published>{};
    return std::optional<published>{published{st->column_text(0), st->column_text(1)}};
}

result<size_t> store::publish_timetable(const std::string& school, const std::string& classroom, std::string_view ics,
                                        int64_t now_us) {
    // Read as the sets will, over a year from now: what they would refuse is refused here.
    int64_t now_s = now_us / 1'000'000;
    auto t = protocol::parse_timetable(ics, now_s - 7 * 86400, now_s + 366 * 86400, 480);
    if (!t) return t.error();
    auto st = db_.prepare(
        "INSERT INTO timetables VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET body = ?3, etag = ?4, "
        "updated_us = ?5");
    if (!st) return st.error();
    if (auto r = st->bind_all(school, classroom, ics, etag_of(ics), now_us).run(); !r) return r.error();
    return t->lessons.size();
}

result<std::optional<published>> store::timetable_of(const std::string& device_id) {
    auto st = db_.prepare(
        "SELECT t.body, t.etag FROM timetables t JOIN devices d ON d.school = t.school AND d.classroom = t.classroom "
        "WHERE d.device_id = ?");
    if (!st) return st.error();
    st->bind(1, device_id);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<published>{};
    return std::optional<published>{published{st->column_text(0), st->column_text(1)}};
}

result<void> store::create_upload(const upload& u) {
    auto st = db_.prepare(fmt::format(
        "INSERT INTO uploads({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", upload_columns));
    if (!st) return st.error();
    return st
        ->bind_all(u.id, u.device_id, u.filename, u.lesson, u.sha256, u.length, u.offset, u.started_us, u.duration_ms,
                   u.state, u.received_sha256, u.received_bytes, u.conflicts, u.mismatches, u.created_us, u.updated_us,
                   u.path)
        .run();
}

result<std::optional<upload>> store::find_upload(const std::string& id) {
    auto st = db_.prepare(fmt::format("SELECT {} FROM uploads WHERE id = ?", upload_columns));
    if (!st) return st.error();
    st->bind(1, id);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<upload>{};
    return std::optional<upload>{upload_of(*st)};
}

result<std::optional<upload>> store::find_upload(const std::string& device_id, const std::string& sha256,
                                                 int64_t length) {
    auto st = db_.prepare(fmt::format(
        "SELECT {} FROM uploads WHERE device_id = ? AND sha256 = ? AND length = ? ORDER BY created_us DESC LIMIT 1",
        upload_columns));
    if (!st) return st.error();
    st->bind_all(device_id, sha256, length);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<upload>{};
    return std::optional<upload>{upload_of(*st)};
}

result<void> store::upload_progress(const std::string& id, int64_t offset, int64_t bytes, int64_t now_us) {
    auto st =
        db_.prepare("UPDATE uploads SET offset = ?, received_bytes = received_bytes + ?, updated_us = ? WHERE id = ?");
    if (!st) return st.error();
    return st->bind_all(offset, bytes, now_us, id).run();
}

result<void> store::upload_conflict(const std::string& id) {
    auto st = db_.prepare("UPDATE uploads SET conflicts = conflicts + 1 WHERE id = ?");
    if (!st) return st.error();
    return st->bind_all(id).run();
}

result<void> store::upload_checked(const std::string& id, const std::string& received_sha256, const std::string& path,
                                   int64_t now_us) {
    auto st =
        db_.prepare("UPDATE uploads SET state = 'checked', received_sha256 = ?, path = ?, updated_us = ? WHERE id = ?");
    if (!st) return st.error();
    return st->bind_all(received_sha256, path, now_us, id).run();
}

result<void> store::upload_complete(const std::string& id, int64_t now_us) {
    auto st = db_.prepare("UPDATE uploads SET state = 'complete', updated_us = ? WHERE id = ? AND state = 'checked'");
    if (!st) return st.error();
    return st->bind_all(now_us, id).run();
}

result<void> store::upload_restart(const std::string& id, int64_t now_us) {
    auto st = db_.prepare("UPDATE uploads SET offset = 0, mismatches = mismatches + 1, updated_us = ? WHERE id = ?");
    if (!st) return st.error();
    return st->bind_all(now_us, id).run();
}

result<void> store::delete_upload(const std::string& id) {
    auto st = db_.prepare("DELETE FROM uploads WHERE id = ?");
    if (!st) return st.error();
    return st->bind_all(id).run();
}

result<std::vector<upload>> store::uploads(size_t limit) {
    auto st = db_.prepare(fmt::format("SELECT {} FROM uploads ORDER BY created_us DESC LIMIT ?", upload_columns));
    if (!st) return st.error();
    st->bind(1, static_cast<int64_t>(limit));
    return uploads_of(*st);
}

result<std::vector<upload>> store::uploads_in_state(std::string_view state) {
    auto st = db_.prepare(fmt::format("SELECT {} FROM uploads WHERE state = ? ORDER BY created_us", upload_columns));
    if (!st) return st.error();
    st->bind(1, state);
    return uploads_of(*st);
}

result<int64_t> store::unfinished_bytes(const std::string& device_id) {
    auto st = db_.prepare("SELECT coalesce(sum(length), 0) FROM uploads WHERE device_id = ? AND state != 'complete'");
    if (!st) return st.error();
    st->bind(1, device_id);
    if (auto r = st->step(); !r) return r.error();
    return st->column_int64(0);
}

}  // namespace bbt::county
