// The dashboard's accounts on a real SQLite file: Argon2id hashes, sign-in,
// one-time links and sessions.
#include "accounts.hpp"
#include "store.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

using namespace bbt;
using namespace bbt::county;

namespace {
constexpr int64_t s = 1'000'000;
constexpr int64_t t0 = 1'796'194'800 * s;
}  // namespace

TEST_CASE("a password is kept as a salted Argon2id hash and only the right one signs in") {
    test::temp_dir dir;
    auto st = store::open(dir / "county.db");
    REQUIRE(st);
    auto& db = st->database();
    REQUIRE(add_account(db, {"office", ""}, "county office password", t0));
    REQUIRE(add_account(db, {"hill", "Hillside"}, "山坡中学的密码很长很长", t0));
    auto a = hash_password("same password here"), b = hash_password("same password here");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    CHECK(*a != *b);  // salted
    CHECK(password_matches(*a, "same password here"));
    CHECK_FALSE(password_matches(*a, "same password herE"));
    CHECK_FALSE(password_matches("not a hash", "same password here"));

    auto ok = sign_in(db, "hill", "山坡中学的密码很长很长");
    REQUIRE(ok);
    REQUIRE(*ok);
    CHECK((*ok)->school == "Hillside");
    CHECK_FALSE(sign_in(db, "hill", "wrong password!!").value());
    CHECK_FALSE(sign_in(db, "nobody", "wrong password!!").value());
    // Refused: a name taken, a short password, a name that is not one.
    CHECK_FALSE(add_account(db, {"office", ""}, "another long password", t0));
    auto short_one = add_account(db, {"short", ""}, "123456789", t0);
    REQUIRE_FALSE(short_one);
    CHECK(std::string(short_one.error().message()).find("10 characters") != std::string::npos);
    CHECK_FALSE(add_account(db, {"a b/c", ""}, "long enough password", t0));
    CHECK(accounts(db).value().size() == 2);
}

TEST_CASE("a sign-in link works once and not after it expired; sessions end with their time or the account") {
    test::temp_dir dir;
    auto st = store::open(dir / "county.db");
    REQUIRE(st);
    auto& db = st->database();
    REQUIRE(add_account(db, {"office", ""}, "county office password", t0));
    auto link = make_sign_in_link(db, "office", t0, std::chrono::minutes(30));
    REQUIRE(link);
    CHECK_FALSE(make_sign_in_link(db, "nobody", t0, std::chrono::minutes(30)));
    auto who = use_sign_in_link(db, *link, t0 + 60 * s);
    REQUIRE(who);
    REQUIRE(*who);
    CHECK((*who)->name == "office");
    CHECK_FALSE(use_sign_in_link(db, *link, t0 + 61 * s).value());  // spent
    auto late = make_sign_in_link(db, "office", t0, std::chrono::minutes(30)).value();
    CHECK_FALSE(use_sign_in_link(db, late, t0 + 31 * 60 * s).value());  // expired

    auto opened = open_session(db, {"office", ""}, t0, std::chrono::hours(12));
    REQUIRE(opened);
    auto [token, session] = *opened;
    CHECK(session.csrf.size() == 32);
    auto found = find_session(db, token, t0 + 3600 * s);
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->csrf == session.csrf);
    CHECK_FALSE(find_session(db, token, t0 + 13 * 3600 * s).value());
    CHECK_FALSE(find_session(db, "0" + token.substr(1), t0).value());
    // A new password, or the account removed, ends its sessions.
    REQUIRE(set_password(db, "office", "a new long password"));
    CHECK_FALSE(find_session(db, token, t0 + 3600 * s).value());
    auto again = open_session(db, {"office", ""}, t0, std::chrono::hours(12)).value();
    REQUIRE(remove_account(db, "office").value());
    CHECK_FALSE(find_session(db, again.first, t0 + s).value());
    CHECK_FALSE(remove_account(db, "office").value());
}
