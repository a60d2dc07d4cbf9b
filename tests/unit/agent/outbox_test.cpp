// The outbox: sequence numbers, order of sending, acknowledgements, thinning
// under a bound, and usage reported from the ledger as it closes intervals.
#include "bbt/agent/outbox.hpp"
#include "bbt/agent/ledger.hpp"

#include "temp_dir.hpp"

#include "doctest_bbt.hpp"

using namespace bbt;
using agent::ledger;
using agent::outbox;
namespace county = protocol::county;

namespace {

constexpr int64_t s = 1'000'000;
constexpr int64_t t0 = 1'795'276'800LL * s;
const std::string boot = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";

clock::stamp at(int64_t t) { return {clock::microseconds(t0 + t), clock::microseconds(t), boot}; }

county::heartbeat beat(int n) { return {static_cast<double>(n), true, n, {{"whiteboard", "idle"}}, {}}; }

std::vector<int64_t> seqs(const std::vector<county::message>& batch) {
    std::vector<int64_t> out;
    for (const auto& m : batch)
        out.push_back(m.seq);
    return out;
}

}  // namespace

TEST_CASE("messages get increasing sequence numbers, never reused, and events go first") {
    test::temp_dir dir;
    auto l = ledger::open(dir / "agent.db", at(0)).value();
    outbox o(l.database());
    CHECK(o.put(t0 + 1, beat(1)).value() == 1);
    CHECK(o.put(t0 + 2, beat(2)).value() == 2);
    CHECK(o.put(t0 + 3, county::alert{"projector", "projector.lamp-hours", "warning", "lamp at 92 %", true}).value() ==
          3);
    CHECK(o.put(t0 + 4, county::inventory{"school", "201", {}}).value() == 4);
    auto b = o.next_batch(10, 1 << 20).value();
    CHECK(seqs(b) == std::vector<int64_t>{3, 4, 1, 2});  // alert, inventory, then the samples
    CHECK(std::holds_alternative<county::alert>(b[0].content));
    // Acknowledged messages go; their numbers are not given again.
    std::vector<std::pair<int64_t, int64_t>> acked{{1, 3}};
    CHECK(o.ack(acked).value() == 3);
    CHECK(o.put(t0 + 5, beat(5)).value() == 5);
    CHECK(seqs(o.next_batch(10, 1 << 20).value()) == std::vector<int64_t>{4, 5});
    // A second ack of the same range changes nothing.
    CHECK(o.ack(acked).value() == 0);
    auto st = o.stats().value();
    CHECK(st.messages == 2);
    CHECK(st.last_seq == 5);
}

TEST_CASE("a batch keeps to its size, but always carries one message") {
    test::temp_dir dir;
    auto l = ledger::open(dir / "agent.db", at(0)).value();
    outbox o(l.database());
    for (int i = 0; i < 50; ++i)
        REQUIRE(o.put(t0 + i, beat(i)));
    CHECK(o.next_batch(20, 1 << 20).value().size() == 20);
    auto small = o.next_batch(50, 1000).value();
    CHECK(small.size() > 1);
    CHECK(small.size() < 50);
    CHECK(o.next_batch(50, 1).value().size() == 1);
}

TEST_CASE("a closed usage interval is queued by the ledger itself, with wall times as corrected when sent") {
    test::temp_dir dir;
    auto l = ledger::open(dir / "agent.db", at(0)).value();
    outbox o(l.database());
    REQUIRE(l.set_state("projector", "on", at(10 * s)));
    CHECK(o.stats().value().messages == 0);  // still open: nothing to report
    REQUIRE(l.set_state("projector", "standby", at(70 * s)));
    auto b = o.next_batch(10, 1 << 20).value();
    REQUIRE(b.size() == 1);
    const auto& u = std::get<county::usage>(b[0].content);
    CHECK(u.device == "projector");
    CHECK(u.state == "on");
    CHECK(u.start_us == t0 + 10 * s);
    CHECK(u.end_us == t0 + 70 * s);
    // The wall clock jumps by an hour (NTP): the queued interval moves with its boot.
    clock::stamp jumped{clock::microseconds(t0 + 3600 * s + 80 * s), clock::microseconds(80 * s), boot};
    REQUIRE(l.heartbeat(jumped));
    auto again = o.next_batch(10, 1 << 20).value();
    const auto& moved = std::get<county::usage>(again.at(0).content);
    CHECK(moved.start_us == t0 + 3600 * s + 10 * s);
    CHECK(moved.end_us == t0 + 3600 * s + 70 * s);
}

TEST_CASE("under a storage bound, samples are thinned from the oldest and events are never dropped") {
    test::temp_dir dir;
    auto l = ledger::open(dir / "agent.db", at(0)).value();
    outbox o(l.database());
    for (int i = 0; i < 400; ++i) {
        REQUIRE(o.put(t0 + i * 60 * s, beat(i)));
        if (i % 40 == 0) REQUIRE(o.put(t0 + i * 60 * s, county::event{"whiteboard", "disconnected", "unplugged"}));
    }
    auto before = o.stats().value();
    CHECK(before.messages == 410);
    int64_t bound = before.bytes / 3;
    int64_t dropped = o.thin(bound).value();
    auto after = o.stats().value();
    CHECK(dropped > 0);
    CHECK(after.bytes <= bound);
    CHECK(after.priority_messages == 10);  // every event is still there
    // What is left of the samples still spans the whole outage, thinned.
    auto b = o.next_batch(1024, 1 << 24).value();
    int64_t first = 0, last = 0;
    for (const auto& m : b) {
        if (!std::holds_alternative<county::heartbeat>(m.content)) continue;
        if (first == 0) first = m.at_us;
        last = m.at_us;
    }
    CHECK(first == t0);
    CHECK(last >= t0 + 390 * 60 * s);
    // Nothing but events left: thinning stops, and says so, dropping nothing more.
    test::temp_dir dir2;
    auto l2 = ledger::open(dir2 / "agent.db", at(0)).value();
    outbox o2(l2.database());
    for (int i = 0; i < 5; ++i)
        REQUIRE(o2.put(t0, county::event{"set", "power-cut", ""}));
    CHECK(o2.thin(1).value() == 0);
    CHECK(o2.stats().value().messages == 5);
}

TEST_CASE("a command's nonce is accepted once, also across a restart, and forgotten long after it expired") {
    using enum outbox::admission;
    test::temp_dir dir;
    {
        auto l = ledger::open(dir / "agent.db", at(0)).value();
        outbox o(l.database());
        CHECK(o.admit_command("n-1", "c-1", t0 + 600 * s, t0).value() == fresh);
        CHECK(o.admit_command("n-1", "c-1", t0 + 600 * s, t0 + s).value() == replayed);
        CHECK(o.admit_command("n-2", "c-2", t0 + 600 * s, t0 + s).value() == fresh);
        // The county sends c-1 again under a new nonce: nothing more to do.
        CHECK(o.admit_command("n-3", "c-1", t0 + 900 * s, t0 + 300 * s).value() == done_before);
    }
    auto l = ledger::open(dir / "agent.db", at(10 * s)).value();
    outbox o(l.database());
    CHECK(o.admit_command("n-1", "c-1", t0 + 600 * s, t0 + 2 * s).value() == replayed);
    CHECK(o.admit_command("n-4", "c-2", t0 + 900 * s, t0 + 400 * s).value() == done_before);
    // Two hours after it expired the nonce is forgotten (the expiry refuses a replay by then).
    CHECK(o.admit_command("n-1", "c-9", t0 + 600 * s, t0 + 900 * s + 7200 * s).value() == fresh);
}

TEST_CASE("text that is not UTF-8 is queued repaired and reads back as JSON any reader accepts") {
    test::temp_dir dir;
    auto l = ledger::open(dir / "agent.db", at(0)).value();
    outbox o(l.database());
    // A lesson name cut at byte 80 inside a character, as the recorder once did.
    std::string cut_name = std::string("八年级数学：勾股定理").substr(0, 14);
    REQUIRE(o.put(t0 + 1,
                  county::recording{cut_name + ".mp4", cut_name, 1, t0, 60.0, 1000, std::string(64, 'a'), "recorded"}));
    auto b = o.next_batch(10, 1 << 20).value();
    REQUIRE(b.size() == 1);
    auto rec = std::get<county::recording>(b[0].content);
    CHECK(rec.lesson.starts_with("八年级数"));
    CHECK(rec.lesson.ends_with("\xEF\xBF\xBD"));
    county::batch out{"school/201", "test", b};
    CHECK(county::decode_batch(county::encode(out)));
}

TEST_CASE("two thousand rows no reader accepts are set aside with one alert and the heartbeats behind them still go") {
    test::temp_dir dir;
    auto l = ledger::open(dir / "agent.db", at(0)).value();
    outbox o(l.database());
    auto& db = l.database();
    // Events (sent first) that an older agent or a damaged disk left unreadable:
    // broken JSON, and JSON that is not a message.
    REQUIRE(
        db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
                " INSERT INTO outbox(kind, priority, at_us, body) SELECT 'event', 2, i, '{\"device\": \"pro' FROM n"));
    REQUIRE(
        db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
                " INSERT INTO outbox(kind, priority, at_us, body) SELECT 'event', 2, i, '{\"device\": 7}' FROM n"));
    for (int i = 0; i < 3; ++i)
        REQUIRE(o.put(t0 + i, beat(i)));
    auto b = o.next_batch(100, 1 << 20).value();
    REQUIRE(b.size() == 3);
    for (const auto& m : b)
        CHECK(std::holds_alternative<county::heartbeat>(m.content));
    auto count = [&](const char* sql) {
        auto st = db.prepare(sql).value();
        REQUIRE(st.step().value());
        return st.column_int64(0);
    };
    CHECK(count("SELECT count(*) FROM outbox_quarantine") == 2000);
    CHECK(count("SELECT count(*) FROM outbox_quarantine WHERE reason LIKE 'its body is not JSON%'") == 1000);
    // One alert says so, and goes next; the rows are kept, not lost.
    auto next = o.next_batch(100, 1 << 20).value();
    REQUIRE(!next.empty());
    auto a = std::get<county::alert>(next[0].content);
    CHECK(a.code == "outbox.quarantined");
    CHECK(a.message.find("2000 message(s)") != std::string::npos);
    CHECK(count("SELECT count(*) FROM outbox WHERE kind = 'alert'") == 1);
}
