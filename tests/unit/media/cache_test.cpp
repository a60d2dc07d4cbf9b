#include "bbt/media/cache.hpp"
#include "bbt/base/digest.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

#include <fstream>

using namespace bbt::media::cache;
using bbt::digest::sha256_file;
namespace fs = std::filesystem;

namespace {

// A resource whose partial download holds `content`; its hash as the catalogue gives it.
resource staged(store& s, const std::string& id, const std::string& content, int priority = 0) {
    resource r;
    r.id = id;
    r.title = "lesson " + id;
    r.type = "video";
    r.url = "http://127.0.0.1/" + id;
    r.size = static_cast<int64_t>(content.size());
    r.priority = priority;
    bbt::test::temp_dir tmp;
    bbt::test::write_file(tmp / "f", content);
    r.sha256 = sha256_file(tmp / "f").value();
    bbt::test::write_file(s.partial_path(r), content);
    return r;
}

}  // namespace

TEST_CASE("a verified download enters the store, is served, and survives reopening") {
    bbt::test::temp_dir dir;
    fs::path object;
    {
        auto s = store::open(dir.path(), {}).value();
        auto r = staged(*s, "math-7-1", "frames of a lesson video");
        auto c = s->commit(r, "\"etag-1\"", 1000);
        REQUIRE(c);
        object = *c;
        CHECK(bbt::test::read_file(object) == "frames of a lesson video");
        CHECK_FALSE(fs::exists(s->partial_path(r)));
        CHECK(object.filename() == r.sha256);
    }
    auto s = store::open(dir.path(), {}).value();
    auto got = s->get("math-7-1", 2000);
    REQUIRE(got);
    REQUIRE(got->has_value());
    CHECK(**got == object);
    auto it = s->find("math-7-1").value();
    REQUIRE(it);
    CHECK(it->etag == "\"etag-1\"");
    CHECK(it->last_used_us == 2000);
    CHECK(s->get("nothing", 1).value() == std::nullopt);
}

TEST_CASE("a download that does not match the catalogue is discarded, never served") {
    bbt::test::temp_dir dir;
    auto s = store::open(dir.path(), {}).value();
    auto r = staged(*s, "a", "the right content");
    bbt::test::write_file(s->partial_path(r), "the wrong content");  // same size, one flipped word
    auto c = s->commit(r, "", 1);
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == cache_errc::corrupt);
    CHECK(c.error().message().find("SHA-256") != std::string::npos);
    CHECK_FALSE(fs::exists(s->partial_path(r)));
    CHECK(s->get("a", 1).value() == std::nullopt);

    auto shorter = staged(*s, "b", "0123456789");
    bbt::test::write_file(s->partial_path(shorter), "01234");
    auto c2 = s->commit(shorter, "", 1);
    REQUIRE_FALSE(c2);
    CHECK(c2.error().message().find("5 bytes") != std::string::npos);

    auto bad_hash = staged(*s, "c", "x");
    bad_hash.sha256 = "not-a-hash";
    CHECK_FALSE(s->commit(bad_hash, "", 1));
}

TEST_CASE("room is made from the lowest priority, then the least recently used, never from what is pinned") {
    bbt::test::temp_dir dir;
    store_options o;
    o.quota_bytes = 100;
    o.keep_free_bytes = 0;
    auto s = store::open(dir.path(), o).value();
    REQUIRE(s->commit(staged(*s, "old-low", std::string(30, 'a'), 0), "", 10));
    REQUIRE(s->commit(staged(*s, "new-low", std::string(30, 'b'), 0), "", 20));
    REQUIRE(s->commit(staged(*s, "high", std::string(30, 'c'), 5), "", 5));
    CHECK(s->used_bytes().value() == 90);
    // 40 more: one 30-byte item must go, the older of the low priority ones.
    REQUIRE(s->make_room(40, 100));
    CHECK_FALSE(s->find("old-low").value());
    CHECK(s->find("new-low").value());
    CHECK(s->find("high").value());
    // Pinned until later: neither may go; 80 more cannot be had.
    REQUIRE(s->pin("new-low", 1000));
    REQUIRE(s->pin("high", 1000));
    auto no = s->make_room(80, 100);
    REQUIRE_FALSE(no);
    CHECK(no.error().code() == cache_errc::no_room);
    CHECK(s->find("new-low").value());
    // Once the pins expire, they go, high priority last.
    REQUIRE(s->make_room(70, 2000));
    CHECK_FALSE(s->find("new-low").value());
    CHECK(s->find("high").value());
    CHECK(s->pin("gone", 1).error().code() == cache_errc::not_found);
}

TEST_CASE("two resources with the same content share one object, kept while either needs it") {
    bbt::test::temp_dir dir;
    auto s = store::open(dir.path(), {}).value();
    auto a = s->commit(staged(*s, "a", "same bytes"), "", 1).value();
    auto b = s->commit(staged(*s, "b", "same bytes"), "", 1).value();
    CHECK(a == b);
    CHECK(s->used_bytes().value() == 10);
    REQUIRE(s->evict("a"));
    CHECK(fs::exists(b));
    REQUIRE(s->evict("b"));
    CHECK_FALSE(fs::exists(b));
    CHECK(s->evict("b").error().code() == cache_errc::not_found);
}

TEST_CASE("a stored file damaged on disk is found and removed, not served") {
    bbt::test::temp_dir dir;
    auto s = store::open(dir.path(), {}).value();
    auto obj = s->commit(staged(*s, "v", "lesson video bytes"), "", 1).value();
    auto keep = s->commit(staged(*s, "w", "another lesson"), "", 1).value();
    {
        std::fstream f(obj, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(3);
        f.put('X');  // one byte flipped, same size: only the hash sees it
    }
    auto removed = s->verify_all().value();
    REQUIRE(removed.size() == 1);
    CHECK(removed[0] == "v");
    CHECK(s->get("v", 2).value() == std::nullopt);
    CHECK(s->get("w", 2).value() == keep);
    // Truncated: the size check on the way to the screen catches it at once.
    fs::resize_file(keep, 3);
    CHECK(s->get("w", 3).value() == std::nullopt);
    CHECK(s->list().value().empty());
}

TEST_CASE("uses are written in one go, and a reopened store has them") {
    bbt::test::temp_dir dir;
    {
        auto s = store::open(dir.path(), {}).value();
        for (auto id : {"a", "b"}) {
            auto r = staged(*s, id, std::string("content of ") + id);
            REQUIRE(s->commit(r, "", 100));
        }
        REQUIRE(s->get("a", 5000).value());
        REQUIRE(s->get("b", 7000).value());
        REQUIRE(s->get("a", 6000).value());
        CHECK(s->find("a").value()->last_used_us == 6000);  // noted, not yet written
        REQUIRE(s->flush_usage());
    }
    auto s = store::open(dir.path(), {}).value();
    CHECK(s->find("a").value()->last_used_us == 6000);
    CHECK(s->find("b").value()->last_used_us == 7000);
}

TEST_CASE("a sweep puts right what a power cut left: stray objects, entries without files, stale partials") {
    bbt::test::temp_dir dir;
    auto s = store::open(dir.path(), {}).value();
    auto kept = staged(*s, "kept", "a lesson that stays");
    REQUIRE(s->commit(kept, "", 1));
    auto lost = staged(*s, "lost", "a lesson whose file went");
    auto lost_path = s->commit(lost, "", 1).value();
    fs::remove(lost_path);
    // A file renamed into the store whose entry never reached the index.
    fs::create_directories(dir / "objects" / "ab");
    bbt::test::write_file(dir / "objects" / "ab" / std::string(64, 'b'), "stray");
    auto wanted = staged(*s, "wanted", "half a download");
    auto stale = staged(*s, "stale", "a download nobody wants");
    bbt::test::write_file(fs::path(s->partial_path(stale).string() + ".etag"), "\"x\"\n");
    auto rep = s->sweep({wanted.sha256});
    REQUIRE(rep);
    CHECK(rep->objects_removed == 1);
    CHECK(rep->entries_removed == 1);
    CHECK(rep->partials_removed == 1);
    CHECK(fs::exists(s->partial_path(wanted)));
    CHECK_FALSE(fs::exists(s->partial_path(stale)));
    CHECK_FALSE(fs::exists(fs::path(s->partial_path(stale).string() + ".etag")));
    CHECK_FALSE(s->find("lost").value());
    CHECK(s->get("kept", 2).value());
}

TEST_CASE("what probing found is kept with the entry; unprobed entries are listed until then") {
    bbt::test::temp_dir dir;
    auto s = store::open(dir.path(), {}).value();
    auto r = staged(*s, "v", "not really a video");
    REQUIRE(s->commit(r, "", 1));
    CHECK(s->unprobed().value().size() == 1);
    REQUIRE(s->set_probe(r.sha256, playable::no, R"({"error":"no picture"})"));
    auto it = s->find("v").value();
    CHECK(it->play == playable::no);
    CHECK(it->probe == R"({"error":"no picture"})");
    CHECK(s->unprobed().value().empty());
    CHECK(s->thumbnail_path(r.sha256).filename() == r.sha256 + ".jpg");
}

TEST_CASE("the hashing pipe gives the file's SHA-256, from a kept prefix and chunks fed in order") {
    bbt::test::temp_dir dir;
    std::string content;
    for (int i = 0; i < 300'000; ++i)
        content += static_cast<char>(i * 7 + i / 251);
    bbt::test::write_file(dir / "f", content);
    sha256_pipe pipe;
    REQUIRE(pipe.feed_file(dir / "f", 12'345));
    for (size_t at = 12'345; at < content.size(); at += 4'096) {
        auto b = pipe.buffer(std::min<size_t>(4'096, content.size() - at));
        std::copy_n(content.data() + at, b.size(), b.data());
        pipe.feed(std::move(b));
    }
    CHECK(pipe.finish() == sha256_file(dir / "f").value());
    sha256_pipe empty;
    CHECK(empty.finish() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
