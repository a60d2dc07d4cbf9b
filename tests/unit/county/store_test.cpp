// bbt-county's store: reports once per (device, sequence), and commands
// sent again until their result arrives.
#include "store.hpp"

#include "temp_dir.hpp"

#include "doctest_bbt.hpp"

using namespace bbt;
using namespace bbt::county;
namespace wire = bbt::protocol::county;

namespace {
constexpr int64_t s = 1'000'000;
constexpr int64_t t0 = 1'796'194'800 * s;
}  // namespace

TEST_CASE("a command goes out again until its result arrives, and never after it expired") {
    test::temp_dir dir;
    auto db = store::open(dir / "county.db");
    REQUIRE(db);
    auto code = db->new_code("第三小学", "201", t0 + 3600 * s);
    REQUIRE(code);
    auto e = db->redeem(*code, t0);
    REQUIRE(e);
    REQUIRE(db->queue_command({"c-1", e->device_id, "class.start", "{}", t0 + 600 * s}));
    REQUIRE(db->queue_command({"c-2", e->device_id, "class.end", "{}", t0 + 30 * s}));

    CHECK(db->take_commands(e->device_id, t0).value().size() == 2);
    CHECK(db->take_commands(e->device_id, t0 + 10 * s).value().empty());  // just sent
    // The reply may have been lost: a minute later c-1 goes again; c-2 has expired.
    auto again = db->take_commands(e->device_id, t0 + 61 * s).value();
    REQUIRE(again.size() == 1);
    CHECK(again[0].id == "c-1");
    // Its result arrives: it is not sent again.
    wire::batch b{e->device_id, "0.3.0", {{1, t0 + 62 * s, wire::command_result{"c-1", "class.start", true, ""}}}};
    REQUIRE(db->ingest(e->device_id, b, t0 + 62 * s));
    CHECK(db->take_commands(e->device_id, t0 + 300 * s).value().empty());
    auto st = db->database().prepare("SELECT ok, deliveries FROM commands WHERE id = 'c-1'");
    REQUIRE(st);
    REQUIRE(st->step().value());
    CHECK(st->column_int64(0) == 1);
    CHECK(st->column_int64(1) == 2);
}

TEST_CASE("a report stored twice counts once") {
    test::temp_dir dir;
    auto db = store::open(dir / "county.db");
    REQUIRE(db);
    auto e = db->redeem(db->new_code("第三小学", "201", t0 + 3600 * s).value(), t0).value();
    wire::batch b{e.device_id, "0.3.0", {{1, t0, wire::event{"whiteboard", "connected", ""}}}};
    auto first = db->ingest(e.device_id, b, t0);
    REQUIRE(first);
    auto second = db->ingest(e.device_id, b, t0 + s);
    REQUIRE(second);
    CHECK(*second == std::vector<std::pair<int64_t, int64_t>>{{1, 1}});
    CHECK(db->count_reports(e.device_id).value() == 1);
}

TEST_CASE("raw reports past their age are pruned in batches and what the dashboard counts from them stays") {
    test::temp_dir dir;
    auto db = store::open(dir / "county.db");
    REQUIRE(db);
    auto e = db->redeem(db->new_code("第三小学", "201", t0 + 3600 * s).value(), t0).value();
    // A year ago: a usage interval; now: a heartbeat.
    int64_t year = 365LL * 86'400 * s;
    wire::batch old{
        e.device_id, "0.3.0", {{1, t0 - year, wire::usage{"whiteboard", "in-use", t0 - year, t0 - year + 60 * s}}}};
    REQUIRE(db->ingest(e.device_id, old, t0 - year));
    wire::batch fresh{e.device_id, "0.3.0", {{2, t0, wire::heartbeat{60, true, 0, {}, {}}}}};
    REQUIRE(db->ingest(e.device_id, fresh, t0));
    CHECK(db->count_reports(e.device_id).value() == 2);
    CHECK(db->prune_reports(t0 - 30 * 86'400 * s, 1).value() == 1);
    CHECK(db->prune_reports(t0 - 30 * 86'400 * s, 1).value() == 0);
    CHECK(db->count_reports(e.device_id).value() == 1);
    auto st = db->database().prepare("SELECT count(*) FROM usage WHERE device_id = ?");
    REQUIRE(st);
    st->bind(1, e.device_id);
    REQUIRE(st->step().value());
    CHECK(st->column_int64(0) == 1);
}
