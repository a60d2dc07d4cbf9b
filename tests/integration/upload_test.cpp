// Recordings uploaded to the real bbt-county over tus on loopback (mutual
// TLS): interrupted at random points by kill -9 of the agent or the county,
// the upload completes with every confirmed chunk sent once; bytes damaged
// at the county are found by the whole file's SHA-256 and sent again; the
// copy here is deleted only once the county's checksum matched.
#include "agent_fixture.hpp"
#include "bounded.hpp"
#include "county_fixture.hpp"
#include "http_get.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/digest.hpp"
#include "bbt/base/utf8.hpp"

#include "bbt/protocol/https_client.hpp"
#include "bbt/protocol/tus.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <random>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;
namespace tus = protocol::tus;

namespace {

// One request through the agent's HTTPS client, from the test.
protocol::https_response send(const protocol::tls_identity& tls, protocol::https_request req) {
    boost::asio::io_context ioc;
    req.timeout = 10s;
    auto fut = boost::asio::co_spawn(ioc, protocol::https_send(ioc.get_executor(), tls, req), boost::asio::use_future);
    auto r = bbt::test::run_bounded(ioc, fut);
    REQUIRE(r);
    return std::move(*r);
}

std::string sha256_raw(std::string_view data) { return digest::of(digest::algorithm::sha256, data); }

std::string hex(std::string_view raw) {
    std::string out;
    for (unsigned char c : raw)
        out += fmt::format("{:02x}", c);
    return out;
}

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

// A county and an agent that records and uploads to it.
struct started_county : test::county_fixture {
    started_county() { start(); }
};
struct set_and_county {
    started_county county;
    test::agent_fixture f{"", "3", agent_config(county)};
    test::notify_listener n{f.dir / "notify"};
    test::child agent = f.start(n);

    set_and_county() { REQUIRE(n.wait_for("READY=1")); }
};

// A tus request of a test, as a set sends it.
protocol::https_request tus_request(const test::county_fixture& county, std::string method, std::string path,
                                    std::vector<std::pair<std::string, std::string>> headers, std::string body = {}) {
    protocol::https_request r;
    r.method = std::move(method);
    r.url = county.url() + path;
    r.headers = std::move(headers);
    r.headers.emplace_back("Tus-Resumable", "1.0.0");
    r.content_type = "application/offset+octet-stream";
    r.body = std::move(body);
    return r;
}

}  // namespace

TEST_CASE(
    "an upload broken at random points by kill -9 of the agent or the county completes, sending no confirmed "
    "chunk twice, and the copy here goes only after the county's checksum matched") {
    set_and_county rig;
    auto& [county, f, n, agent] = rig;
    // Recorded before enrolment: nothing can be uploaded yet, so the bytes are kept for the comparison.
    auto file = record(f, 3);
    auto original = f.dir / "original.mp4";
    fs::copy_file(file, original);
    auto sha = digest::sha256_file(original);
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
    CHECK(*digest::sha256_file(u->path) == *sha);
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
    // The county heard of it too (recording messages): recorded, uploaded, removed; the last one stands.
    std::string said;
    for (int i = 0; i < 400 && said != "removed"; ++i) {
        std::this_thread::sleep_for(50ms);
        auto db = sqlite::database::open(county.db);
        REQUIRE(db);
        auto st = db->prepare("SELECT state, sha256, lesson FROM set_recordings");
        REQUIRE(st);
        if (*st->step()) {
            said = st->column_text(0);
            if (said == "removed") {
                CHECK(st->column_text(1) == *sha);
                CHECK(st->column_text(2) == "math");
            }
        }
    }
    CHECK(said == "removed");
}

TEST_CASE(
    "bytes damaged at the county fail the whole file's SHA-256: the upload starts over, the copy here is kept "
    "until the county has it right") {
    set_and_county rig;
    auto& [county, f, n, agent] = rig;
    auto file = record(f, 2);
    auto sha = digest::sha256_file(file);
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
    CHECK(*digest::sha256_file(u->path) == *sha);
    // Sent twice over: once damaged, once whole.
    CHECK(u->received_bytes == 2 * u->length);
    CHECK(f.log().find("different from its SHA-256") != std::string::npos);
    CHECK_FALSE(fs::exists(file));
}

TEST_CASE(
    "the county speaks tus 1.0: creation, offsets, checksums, conflicts, termination, and each set sees only "
    "its own uploads") {
    test::county_fixture county;
    county.start();
    // Two enrolled sets; their identities drive the requests.
    auto enrolled = [&](const std::string& classroom, test::agent_fixture& f) {
        test::notify_listener n(f.dir / "notify");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        f.ctl_json({"county", "enrol", county.code(classroom)});
        return protocol::tls_identity{test::read_file(county.pki / "ca.pem"),
                                      test::read_file(f.state / "county" / "cert.pem"),
                                      test::read_file(f.state / "county" / "key.pem")};
    };
    test::agent_fixture fa("", "3", agent_config(county) + "enabled = false\n");
    test::agent_fixture fb("", "3", agent_config(county) + "enabled = false\n");
    auto a = enrolled("401", fa);
    auto b = enrolled("402", fb);
    auto req = [&](std::string method, std::string path, std::vector<std::pair<std::string, std::string>> headers,
                   std::string body = {}) {
        return tus_request(county, std::move(method), std::move(path), std::move(headers), std::move(body));
    };
    std::string data(100'000, '\0');
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 7 % 251);
    std::string whole = hex(sha256_raw(data));
    tus::metadata meta{{"filename", "20261202-0800-数学.mp4"}, {"sha256", whole}, {"lesson", "数学"}};

    auto options = send(a, req("OPTIONS", "/v1/uploads", {}));
    CHECK(options.status == 204);
    CHECK(options.header("Tus-Version") == "1.0.0");
    CHECK(options.header("Tus-Extension").find("checksum") != std::string_view::npos);
    CHECK(options.header("Tus-Checksum-Algorithm").find("sha256") != std::string_view::npos);

    // Without Tus-Resumable: 412, naming the version.
    auto bare = req("POST", "/v1/uploads", {{"Upload-Length", "100000"}});
    bare.headers.pop_back();
    auto r = send(a, bare);
    CHECK(r.status == 412);
    CHECK(r.header("Tus-Version") == "1.0.0");
    // Bad metadata, a missing hash, a folder in the name: 400 with the reason.
    r = send(a, req("POST", "/v1/uploads", {{"Upload-Length", "100000"}, {"Upload-Metadata", "filename eA="}}));
    CHECK(r.status == 400);
    CHECK(r.body.find("base64") != std::string::npos);
    r = send(a, req("POST", "/v1/uploads",
                    {{"Upload-Length", "100000"}, {"Upload-Metadata", tus::encode_metadata({{"filename", "a.mp4"}})}}));
    CHECK(r.status == 400);
    CHECK(r.body.find("sha256") != std::string::npos);
    r = send(a, req("POST", "/v1/uploads",
                    {{"Upload-Length", "100000"},
                     {"Upload-Metadata", tus::encode_metadata({{"filename", "../a.mp4"}, {"sha256", whole}})}}));
    CHECK(r.status == 400);

    auto created = send(
        a, req("POST", "/v1/uploads", {{"Upload-Length", "100000"}, {"Upload-Metadata", tus::encode_metadata(meta)}}));
    REQUIRE(created.status == 201);
    std::string at(created.header("Location"));
    REQUIRE(at.starts_with("/v1/uploads/"));
    // The same file again (an answer lost on the way): the same upload.
    auto again = send(
        a, req("POST", "/v1/uploads", {{"Upload-Length", "100000"}, {"Upload-Metadata", tus::encode_metadata(meta)}}));
    CHECK(again.header("Location") == at);
    // Another set does not see it.
    CHECK(send(b, req("HEAD", at, {})).status == 404);
    CHECK(send(b, req("PATCH", at, {{"Upload-Offset", "0"}}, data.substr(0, 10))).status == 404);

    auto head = send(a, req("HEAD", at, {}));
    CHECK(head.status == 200);
    CHECK(head.header("Upload-Offset") == "0");
    CHECK(head.header("Upload-Length") == "100000");
    CHECK(head.header("Cache-Control") == "no-store");

    auto chunk = [&](int64_t from, int64_t n) {
        std::string c = data.substr(static_cast<size_t>(from), static_cast<size_t>(n));
        return req("PATCH", at,
                   {{"Upload-Offset", std::to_string(from)},
                    {"Upload-Checksum", tus::encode_checksum({"sha256", sha256_raw(c)})}},
                   c);
    };
    r = send(a, chunk(0, 40'000));
    CHECK(r.status == 204);
    CHECK(r.header("Upload-Offset") == "40000");
    // At a confirmed offset: 409, saying where it is; counted.
    r = send(a, chunk(0, 40'000));
    CHECK(r.status == 409);
    CHECK(r.header("Upload-Offset") == "40000");
    // A damaged chunk: 460, nothing taken.
    auto damaged = chunk(40'000, 30'000);
    damaged.body[5] ^= 1;
    CHECK(send(a, damaged).status == 460);
    // Wrong content type: 415; beyond the length: 400; an unknown algorithm: 400.
    auto typed = chunk(40'000, 10);
    typed.content_type = "application/octet-stream";
    CHECK(send(a, typed).status == 415);
    CHECK(send(a, req("PATCH", at, {{"Upload-Offset", "40000"}}, std::string(60'001, 'x'))).status == 400);
    auto md5 = chunk(40'000, 10);
    md5.headers[1].second = "md5 " + tus::base64("0123456789abcdef");
    CHECK(send(a, md5).status == 400);
    CHECK(send(a, req("HEAD", at, {})).header("Upload-Offset") == "40000");
    // Without a checksum the chunk is taken as it comes.
    r = send(a, req("PATCH", at, {{"Upload-Offset", "40000"}}, data.substr(40'000, 30'000)));
    CHECK(r.status == 204);
    r = send(a, chunk(70'000, 30'000));
    CHECK(r.status == 204);
    CHECK(r.header("Upload-Offset") == "100000");
    CHECK(r.header("X-BBT-SHA256") == whole);
    CHECK(send(a, req("HEAD", at, {})).header("X-BBT-SHA256") == whole);
    // A recording the county has in full is not dropped by the set.
    CHECK(send(a, req("DELETE", at, {})).status == 403);
    auto u = upload_at(county);
    REQUIRE(u);
    CHECK(u->conflicts == 1);
    CHECK(u->received_bytes == 100'000);
    CHECK(test::read_file(u->path) == data);
    CHECK(fs::path(u->path).filename() == "20261202-0800-数学.mp4");

    // Termination of an unfinished upload.
    tus::metadata other{{"filename", "b.mp4"}, {"sha256", std::string(64, 'b')}};
    auto second = send(
        b, req("POST", "/v1/uploads", {{"Upload-Length", "10"}, {"Upload-Metadata", tus::encode_metadata(other)}}));
    REQUIRE(second.status == 201);
    std::string at2(second.header("Location"));
    CHECK(send(a, req("DELETE", at2, {})).status == 404);
    CHECK(send(b, req("DELETE", at2, {})).status == 204);
    CHECK(send(b, req("HEAD", at2, {})).status == 404);
}

TEST_CASE(
    "a lesson named in 40 Chinese characters records and lists in zh and en and uploads and is deleted once "
    "confirmed and the county shows its name and time") {
    set_and_county rig;
    auto& [county, f, n, agent] = rig;
    // 40 characters, 120 bytes: over the file name's 80 bytes, so the name on
    // disk is cut, and must be cut between characters.
    const std::string lesson = "八年级数学勾股定理的证明与应用第二课时复习巩固练习及拓展探究课堂小结与布置作业题";
    REQUIRE(lesson.size() == 120);
    auto started = f.ctl_json({"record", "start", "--lesson", lesson});
    std::string file(started.at("file").as_string());
    CHECK(utf8::valid(file));
    CHECK(fs::path(file).filename().string().find("八年级数学") != std::string::npos);
    f.ctl_json_until({"record", "status"}, [&](const json::object& s) {
        return s.at("recording").as_bool() && s.at("duration_s").to_number<double>() >= 1;
    });
    f.ctl_json({"record", "stop"});
    // Listed whole, in both languages.
    auto entry = listed(f);
    CHECK(entry.at("lesson").as_string() == lesson);
    for (const char* lang : {"zh_CN.UTF-8", "C.UTF-8"}) {
        f.lang = lang;
        REQUIRE(f.ctl({"record", "ls"}) == 0);
        CHECK(f.ctl_out().find(lesson) != std::string::npos);
        CHECK(f.ctl_out().find(std::string(lang).starts_with("zh") ? "课程：" : "lesson: ") != std::string::npos);
    }
    f.lang = "C.UTF-8";
    f.ctl_json({"county", "enrol", county.code("303")});
    f.ctl_json_until(
        {"record", "ls"},
        [](const json::object& o) { return o.at("recordings").as_array()[0].at("upload").at("state") == "removed"; },
        120s);
    CHECK_FALSE(fs::exists(file));
    // The county has its name and the time it began, as valid JSON.
    auto overview =
        test::http_fetch(county.dashboard_port, "/api/v1/overview", "GET", {{"Cookie", county.dashboard_cookie()}});
    REQUIRE(overview.status == 200);
    REQUIRE(utf8::valid(overview.body));
    auto o = json::parse(overview.body).as_object();
    REQUIRE(o.at("recordings").as_array().size() == 1);
    const auto& r = o.at("recordings").as_array()[0].as_object();
    CHECK(r.at("lesson").as_string() == lesson);
    CHECK(r.at("state").as_string() == "complete");
    int64_t started_us = r.at("started_us").as_int64();
    int64_t now_us = bbt::clock::wall_now().count();
    CHECK(started_us > now_us - 3'600'000'000LL);
    CHECK(started_us <= now_us);
    // Nothing is left to upload, and no facts file is unreadable.
    CHECK(f.log().find("cannot be read") == std::string::npos);
}

namespace {

protocol::https_response create_upload(const test::county_fixture& county, const protocol::tls_identity& set,
                                       std::string_view data, const std::string& name) {
    tus::metadata meta{{"filename", name}, {"sha256", hex(sha256_raw(data))}};
    return send(set, tus_request(county, "POST", "/v1/uploads",
                                 {{"Upload-Length", std::to_string(data.size())},
                                  {"Upload-Metadata", tus::encode_metadata(meta)}}));
}

}  // namespace

TEST_CASE("a 60 MiB chunk from a set goes to disk as it comes: bbt-county's memory stays far below it") {
    test::county_fixture county;
    county.start();
    auto set = county.identity("No.3 Primary/301#1");
    std::string data(60 << 20, '\0');
    for (size_t i = 0; i < data.size(); i += 4096)
        data[i] = static_cast<char>(i / 4096);
    auto created = create_upload(county, set, data, "big.mp4");
    REQUIRE(created.status == 201);
    std::string at(created.header("Location"));
    auto r = send(set, tus_request(county, "PATCH", at,
                                   {{"Upload-Offset", "0"},
                                    {"Upload-Checksum", tus::encode_checksum({"sha256", sha256_raw(data)})}},
                                   data));
    CHECK(r.status == 204);
    CHECK(r.header("X-BBT-SHA256") == hex(sha256_raw(data)));
    auto u = upload_at(county);
    REQUIRE(u);
    CHECK(u->state == "complete");
    CHECK(fs::file_size(u->path) == data.size());
    // Kept under the school and the classroom.
    CHECK(fs::path(u->path).parent_path().filename() == "301#1");
    CHECK(fs::path(u->path).parent_path().parent_path().filename() == "No.3 Primary");
    // Held whole, the chunk alone would be 61,440 KiB.
    int64_t peak = county.peak_rss_kib();
    MESSAGE("bbt-county's peak RSS: " << peak << " KiB");
    CHECK(peak > 0);
    BBT_CHECK_PEAK_KIB(peak, 40 * 1024);
}

TEST_CASE("a set over its upload quota gets 413 and a county without room 507, and nothing is reserved") {
    test::county_fixture county;
    county.storage_keys = "set_quota_mb = 1\nmin_free_mb = 0\n";
    county.write_config();
    county.start();
    auto set = county.identity("No.3 Primary/302#1");
    auto other = county.identity("No.3 Primary/303#1");
    std::string first(700'000, 'a'), second(700'000, 'b');
    CHECK(create_upload(county, set, first, "a.mp4").status == 201);
    auto over = create_upload(county, set, second, "b.mp4");
    CHECK(over.status == 413);
    CHECK(over.body.find("quota") != std::string::npos);
    // The quota is each set's own.
    CHECK(create_upload(county, other, second, "b.mp4").status == 201);
    county.stop();

    // A disk that cannot keep a gibibyte free beyond the recording: 507.
    county.storage_keys = fmt::format("min_free_mb = {}\n", int64_t{1} << 30);
    county.write_config();
    county.start();
    auto full = create_upload(county, set, std::string(10, 'c'), "c.mp4");
    CHECK(full.status == 507);
    CHECK(full.body.find("MB free") != std::string::npos);
    CHECK(full.header("Retry-After") == "3600");
    auto db = sqlite::database::open(county.db);
    REQUIRE(db);
    auto st = db->prepare("SELECT count(*) FROM uploads");
    REQUIRE(st);
    REQUIRE(st->step());
    CHECK(st->column_int64(0) == 2);
}

TEST_CASE("an upload checked but not yet moved into place when bbt-county stopped is completed at its next start") {
    test::county_fixture county;
    county.start();
    auto set = county.identity("No.3 Primary/304#1");
    std::string data(50'000, 'x');
    auto created = create_upload(county, set, data, "lesson.mp4");
    REQUIRE(created.status == 201);
    std::string at(created.header("Location"));
    REQUIRE(send(set, tus_request(county, "PATCH", at, {{"Upload-Offset", "0"}}, data)).status == 204);
    county.stop();
    // As a stop between the check and the move leaves it: recorded as
    // checked, the file still where it was received.
    auto u = upload_at(county);
    REQUIRE(u);
    REQUIRE(u->state == "complete");
    auto partial = county.dir / "recordings" / ".partial" / u->id;
    fs::rename(u->path, partial);
    {
        auto db = sqlite::database::open(county.db);
        REQUIRE(db);
        REQUIRE(db->exec(fmt::format("UPDATE uploads SET state = 'checked' WHERE id = '{}'", u->id)));
    }
    county.start();
    auto after = upload_at(county);
    REQUIRE(after);
    CHECK(after->state == "complete");
    CHECK(test::read_file(after->path) == data);
    CHECK_FALSE(fs::exists(partial));
    auto head = send(set, tus_request(county, "HEAD", at, {}));
    CHECK(head.header("X-BBT-SHA256") == hex(sha256_raw(data)));
    CHECK(test::read_file(county.dir / "county.log").find("interrupted") != std::string::npos);
}
