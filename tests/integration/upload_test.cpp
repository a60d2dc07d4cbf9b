// Recordings uploaded to the real bbt-county over tus on loopback (mutual
// TLS): interrupted at random points by kill -9 of the agent or the county,
// the upload completes with every confirmed chunk sent once; bytes damaged
// at the county are found by the whole file's SHA-256 and sent again; the
// copy here is deleted only once the county's checksum matched.
#include "agent_fixture.hpp"
#include "county_fixture.hpp"

#include "bbt/media/cache.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <random>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct county_upload {
    std::string id, state, received_sha256, path;
    int64_t length = 0, offset = 0, received_bytes = 0, conflicts = 0, mismatches = 0;
};

std::optional<county_upload> upload_at(const test::county_fixture& county) {
    auto db = sqlite::database::open(county.db);
    REQUIRE(db);
    auto st = db->prepare(
        "SELECT id, state, received_sha256, path, length, offset, received_bytes, conflicts, mismatches FROM uploads");
    if (!st) return std::nullopt;  // before the county made its tables
    auto row = st->step();
    REQUIRE(row);
    if (!*row) return std::nullopt;
    return county_upload{st->column_text(0),  st->column_text(1),  st->column_text(2),
                         st->column_text(3),  st->column_int64(4), st->column_int64(5),
                         st->column_int64(6), st->column_int64(7), st->column_int64(8)};
}

// An agent that records FFmpeg's test sources and uploads slowly in small chunks.
std::string agent_config(const test::county_fixture& county) {
    return fmt::format(
        "[county]\nurl = \"{}\"\nca = \"{}\"\nheartbeat = 5\nretry_min = 0.1\nretry_max = 1\n"
        "[recorder]\nvideo_format = \"lavfi\"\nvideo_input = \"testsrc2=size=320x240:rate=25\"\n"
        "audio_format = \"lavfi\"\naudio_input = \"sine=frequency=440:sample_rate=48000\"\n"
        "video_bitrate_kbit = 500\nupload_chunk_kb = 16\nupload_bandwidth_mbit = 0.25\nkeep_after_upload = 0\n",
        county.url(), (county.pki / "ca.pem").string());
}

// Records `seconds` through bbtctl; the file's path.
std::string record(test::agent_fixture& f, double seconds) {
    auto started = f.ctl_json({"record", "start", "--lesson", "math"});
    std::string file(started.at("file").as_string());
    f.ctl_json_until({"record", "status"}, [&](const json::object& s) {
        return s.at("recording").as_bool() && s.at("duration_s").to_number<double>() >= seconds;
    });
    f.ctl_json({"record", "stop"});
    REQUIRE(fs::exists(file));
    return file;
}

json::object listed(test::agent_fixture& f) {
    auto ls = f.ctl_json({"record", "ls"});
    REQUIRE(ls.at("recordings").as_array().size() == 1);
    return ls.at("recordings").as_array()[0].as_object();
}

std::string upload_state_of(test::agent_fixture& f) {
    return std::string(listed(f).at("upload").at("state").as_string());
}

}  // namespace

TEST_CASE(
    "an upload broken at random points by kill -9 of the agent or the county completes, sending no confirmed "
    "chunk twice, and the copy here goes only after the county's checksum matched") {
    test::county_fixture county;
    county.start();
    test::agent_fixture f("", "3", agent_config(county));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    // Recorded before enrolment: nothing can be uploaded yet, so the bytes are kept for the comparison.
    auto file = record(f, 3);
    auto original = f.dir / "original.mp4";
    fs::copy_file(file, original);
    auto sha = media::cache::sha256_file(original);
    REQUIRE(sha);
    CHECK(upload_state_of(f) == "waiting");
    f.ctl_json({"county", "enrol", county.code("301")});

    std::mt19937 rng(20261202);
    std::uniform_int_distribution<int> delay_ms(150, 1500);
    int kills = 0, agent_kills = 0, county_kills = 0;
    for (int i = 0; i < 6; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        auto u = upload_at(county);
        if (u && u->state == "complete") break;
        ++kills;
        if (rng() % 2 == 0) {
            ++agent_kills;
            agent.signal(SIGKILL);
            REQUIRE(agent.wait(10s));
            test::notify_listener again(f.dir / ("notify" + std::to_string(i)));
            agent = f.start(again);
            REQUIRE(again.wait_for("READY=1"));
        } else {
            ++county_kills;
            county.proc.signal(SIGKILL);
            REQUIRE(county.proc.wait(10s));
            county.start();
        }
    }
    auto done = f.ctl_json_until(
        {"record", "ls"},
        [](const json::object& o) {
            const auto& r = o.at("recordings").as_array();
            return r.size() == 1 && r[0].at("upload").at("state") == "removed";
        },
        120s);
    MESSAGE("interrupted " << kills << " times (agent " << agent_kills << ", county " << county_kills << ")");
    auto u = upload_at(county);
    REQUIRE(u);
    INFO(test::read_file(county.dir / "county.log"));
    CHECK(u->state == "complete");
    CHECK(u->received_sha256 == *sha);
    CHECK(u->length == static_cast<int64_t>(fs::file_size(original)));
    // Every byte arrived in an accepted chunk exactly once; no chunk was sent at a confirmed offset.
    CHECK(u->received_bytes == u->length);
    CHECK(u->conflicts == 0);
    CHECK(u->mismatches == 0);
    // The county's copy is the recording, byte for byte, and plays.
    CHECK(*media::cache::sha256_file(u->path) == *sha);
    CHECK(fs::path(u->path).filename() == fs::path(file).filename());
    CHECK(test::ffprobe(u->path, {"-show_entries", "stream=codec_name"}).find("h264") != std::string::npos);
    // Here: deleted (keep_after_upload = 0), its facts kept.
    CHECK_FALSE(fs::exists(file));
    auto facts = json::parse(test::read_file(file + ".json")).as_object();
    CHECK(facts.at("upload").at("county_sha256") == sha->c_str());
    CHECK(facts.at("upload").at("confirmed_us").as_int64() <= facts.at("deleted_us").as_int64());
    CHECK(done.at("recordings").as_array()[0].at("lesson") == "math");
    f.lang = "zh_CN.UTF-8";
    REQUIRE(f.ctl({"record", "ls"}) == 0);
    CHECK(f.ctl_out().find("已上传，本机已删除") != std::string::npos);
}

TEST_CASE(
    "bytes damaged at the county fail the whole file's SHA-256: the upload starts over, the copy here is kept "
    "until the county has it right") {
    test::county_fixture county;
    county.start();
    test::agent_fixture f("", "3", agent_config(county));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    auto file = record(f, 2);
    auto sha = media::cache::sha256_file(file);
    REQUIRE(sha);
    f.ctl_json({"county", "enrol", county.code("302")});
    // Once the county holds a chunk, the agent is paused and the county's first byte damaged.
    std::optional<county_upload> u;
    for (int i = 0; i < 2000 && !(u && u->offset > 0); ++i) {
        std::this_thread::sleep_for(10ms);
        u = upload_at(county);
    }
    REQUIRE(u);
    agent.signal(SIGSTOP);
    u = upload_at(county);
    INFO("the upload must still be going on when it is damaged; slow it down if this fails");
    REQUIRE(u->state == "uploading");
    auto partial = county.dir / "recordings" / ".partial" / u->id;
    {
        int fd = ::open(partial.c_str(), O_RDWR);
        REQUIRE(fd >= 0);
        unsigned char b = 0;
        REQUIRE(::pread(fd, &b, 1, 0) == 1);
        b ^= 0xff;
        REQUIRE(::pwrite(fd, &b, 1, 0) == 1);
        ::close(fd);
    }
    agent.signal(SIGCONT);
    f.ctl_json_until(
        {"record", "ls"},
        [](const json::object& o) { return o.at("recordings").as_array()[0].at("upload").at("state") == "removed"; },
        120s);
    u = upload_at(county);
    REQUIRE(u);
    CHECK(u->state == "complete");
    CHECK(u->mismatches == 1);
    CHECK(u->received_sha256 == *sha);
    CHECK(*media::cache::sha256_file(u->path) == *sha);
    // Sent twice over: once damaged, once whole.
    CHECK(u->received_bytes == 2 * u->length);
    CHECK(f.log().find("different from its SHA-256") != std::string::npos);
    CHECK_FALSE(fs::exists(file));
}
