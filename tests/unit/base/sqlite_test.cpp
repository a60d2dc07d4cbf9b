#include "bbt/base/sqlite.hpp"

#include "temp_dir.hpp"

#include "doctest_bbt.hpp"

using namespace bbt;
using bbt::test::temp_dir;

namespace {

int64_t count(sqlite::database& db, const char* sql) {
    auto st = db.prepare(sql);
    REQUIRE(st);
    auto row = st->step();
    REQUIRE(row);
    REQUIRE(*row);
    return st->column_int64(0);
}

constexpr sqlite::migration steps[] = {
    {1, "CREATE TABLE t (a INTEGER)"},
    {2, "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'two'"},
    {3, "CREATE TABLE u (x INTEGER); INSERT INTO u SELECT a FROM t"},
};

}  // namespace

TEST_CASE("a database opens in WAL mode and statements bind and read values") {
    temp_dir dir;
    auto db = sqlite::database::open(dir / "x.db");
    REQUIRE(db);
    auto mode = db->prepare("PRAGMA journal_mode");
    REQUIRE(mode);
    REQUIRE(mode->step().value());
    CHECK(mode->column_text(0) == "wal");
    REQUIRE(db->exec("CREATE TABLE kv (k TEXT, v INTEGER, d REAL)"));
    auto ins = db->prepare("INSERT INTO kv VALUES (?, ?, ?)");
    REQUIRE(ins);
    REQUIRE(ins->bind_all("a", int64_t{1} << 40, 2.5).run());
    REQUIRE(ins->bind(1, "b").bind(2, nullptr).bind(3, 0.0).run());
    auto sel = db->prepare("SELECT k, v, d FROM kv ORDER BY k");
    REQUIRE(sel);
    REQUIRE(sel->step().value());
    CHECK(sel->column_text(0) == "a");
    CHECK(sel->column_int64(1) == int64_t{1} << 40);
    CHECK(sel->column_double(2) == 2.5);
    REQUIRE(sel->step().value());
    CHECK_FALSE(sel->column_opt_int64(1).has_value());
    CHECK_FALSE(sel->step().value());
}

TEST_CASE("a transaction rolls back unless committed") {
    temp_dir dir;
    auto db = sqlite::database::open(dir / "x.db");
    REQUIRE(db);
    REQUIRE(db->exec("CREATE TABLE t (a INTEGER)"));
    {
        auto tx = sqlite::transaction::begin(*db);
        REQUIRE(tx);
        REQUIRE(db->exec("INSERT INTO t VALUES (1)"));
    }
    CHECK(count(*db, "SELECT count(*) FROM t") == 0);
    {
        auto tx = sqlite::transaction::begin(*db);
        REQUIRE(tx);
        REQUIRE(db->exec("INSERT INTO t VALUES (1)"));
        REQUIRE(tx->commit());
    }
    CHECK(count(*db, "SELECT count(*) FROM t") == 1);
}

TEST_CASE("migrations bring a database from every earlier schema version to the latest") {
    for (int from = 0; from <= 3; ++from) {
        CAPTURE(from);
        temp_dir dir;
        {
            auto db = sqlite::database::open(dir / "m.db");
            REQUIRE(db);
            REQUIRE(db->migrate(std::span(steps, static_cast<size_t>(from))));
            CHECK(db->user_version().value() == from);
            if (from >= 1) REQUIRE(db->exec("INSERT INTO t(a) VALUES (42)"));
        }
        auto db = sqlite::database::open(dir / "m.db");
        REQUIRE(db);
        REQUIRE(db->migrate(steps));
        CHECK(db->user_version().value() == 3);
        CHECK(count(*db, "SELECT count(*) FROM u") == (from >= 1 && from < 3 ? 1 : 0));
        if (from >= 1) CHECK(count(*db, "SELECT count(*) FROM t WHERE a = 42") == 1);
    }
}

TEST_CASE("a failing migration leaves the database at the last good version") {
    temp_dir dir;
    auto db = sqlite::database::open(dir / "m.db");
    REQUIRE(db);
    constexpr sqlite::migration broken[] = {
        {1, "CREATE TABLE t (a INTEGER)"},
        {2, "CREATE TABLE v (x INTEGER); THIS IS NOT SQL"},
    };
    auto r = db->migrate(broken);
    REQUIRE_FALSE(r);
    CHECK(r.error().what().find("schema version 2") != std::string::npos);
    CHECK(db->user_version().value() == 1);
    CHECK(count(*db, "SELECT count(*) FROM sqlite_master WHERE name = 'v'") == 0);
}

TEST_CASE("a database from a newer bbt is refused, not downgraded") {
    temp_dir dir;
    auto db = sqlite::database::open(dir / "m.db");
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA user_version=9"));
    auto r = db->migrate(steps);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == base_errc::schema_too_new);
    CHECK(r.error().message().find("newer") != std::string::npos);
}

TEST_CASE("a database locked by another connection reports busy after the timeout") {
    temp_dir dir;
    auto a = sqlite::database::open(dir / "b.db");
    REQUIRE(a);
    REQUIRE(a->exec("CREATE TABLE t (x INTEGER)"));
    auto tx = sqlite::transaction::begin(*a);
    REQUIRE(tx);
    auto b = sqlite::database::open(dir / "b.db", {.busy_timeout = std::chrono::milliseconds(20)});
    REQUIRE(b);
    auto r = b->exec("INSERT INTO t VALUES (1)");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == base_errc::busy);
}

TEST_CASE("a file that is not a database is reported as damaged") {
    temp_dir dir;
    bbt::test::write_file(dir / "junk.db", std::string(8192, 'x'));
    auto db = sqlite::database::open(dir / "junk.db");
    REQUIRE_FALSE(db);
    CHECK(db.error().code() == base_errc::corrupt);
    CHECK(db.error().message().find("move it aside") != std::string::npos);
}
