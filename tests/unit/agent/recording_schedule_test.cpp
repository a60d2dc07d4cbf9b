// Which timetable lesson the recorder records now, and the facts kept beside
// each recording.
#include "bbt/agent/recording_service.hpp"
#include "bbt/agent/recording_upload.hpp"

#include "doctest_bbt.hpp"

using namespace bbt;
using namespace bbt::agent;

namespace {

protocol::lesson lesson(std::string uid, int64_t start, int64_t end, bool record) {
    protocol::lesson l;
    l.uid = std::move(uid);
    l.summary = l.uid;
    l.start = start;
    l.end = end;
    l.record = record;
    return l;
}

}  // namespace

TEST_CASE("the lesson recorded now: marked for recording, on now, and of several the one that began last") {
    std::vector<protocol::lesson> ls{lesson("math", 1000, 3700, true), lesson("art", 4000, 6700, false),
                                     lesson("music", 3600, 5000, true)};
    CHECK_FALSE(lesson_to_record(ls, 999));
    CHECK(lesson_to_record(ls, 1000)->uid == "math");
    CHECK(lesson_to_record(ls, 3599)->uid == "math");
    // Overlapping: the later one.
    CHECK(lesson_to_record(ls, 3650)->uid == "music");
    // Not marked: not recorded, even when on.
    CHECK(lesson_to_record(ls, 5000) == std::nullopt);
    // The end is not part of the lesson.
    CHECK(lesson_to_record({lesson("a", 10, 20, true)}, 20) == std::nullopt);
    CHECK(lesson_to_record({}, 15) == std::nullopt);
}

TEST_CASE("a recording's facts survive writing and reading, and a damaged file is said to be damaged") {
    recording_facts f;
    f.file = "20261202-0800-数学-part2.mp4";
    f.lesson = "数学";
    f.lesson_key = "math@1796232000";
    f.part = 2;
    f.started_us = 1'796'232'000'000'000;
    f.duration_s = 2700.5;
    f.bytes = 1'400'000'000;
    f.sha256 = std::string(64, 'c');
    f.upload_url = "/v1/uploads/ab";
    f.upload_offset = 4 << 20;
    auto back = parse_facts(encode_facts(f));
    REQUIRE(back);
    CHECK(*back == f);
    CHECK(upload_state(f) == "uploading");
    f.confirmed_us = 1;
    CHECK(upload_state(f) == "uploaded");
    f.deleted_us = 2;
    CHECK(upload_state(f) == "removed");
    recording_facts adhoc;
    adhoc.file = "a.mp4";
    CHECK(upload_state(adhoc) == "waiting");
    CHECK(*parse_facts(encode_facts(adhoc)) == adhoc);
    for (const char* bad : {"", "{", "[]", R"({"file":"a.mp4"})", R"({"file":"../a.mp4","lesson":"","started_us":0,
        "duration_s":0,"bytes":0,"sha256":"","upload":{"url":"","offset":0,"county_sha256":"","confirmed_us":0},
        "deleted_us":0})"}) {
        INFO(bad);
        auto r = parse_facts(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().message().find("damaged") != std::string::npos);
    }
}
