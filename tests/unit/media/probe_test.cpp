// Probing with libav (through the FFmpeg module): files made by the ffmpeg
// command line from its test sources, and files libav must refuse.
#include "bbt/media/probe.hpp"

#include "doctest_bbt.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <filesystem>

using namespace bbt;
namespace fs = std::filesystem;

namespace {

constexpr const char* ffmpeg_binary = "/usr/bin/ffmpeg";

bool make(const std::vector<std::string>& args) {
    std::vector<std::string> argv{ffmpeg_binary, "-hide_banner", "-loglevel", "error", "-y"};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv) == 0;
}

}  // namespace

TEST_CASE("libav tells a lesson video's length, streams and picture; sound alone; and refuses what it cannot play") {
    if (!fs::exists(ffmpeg_binary)) {
        BBT_SKIP("no " << ffmpeg_binary << " to make test media (scripts/setup installs ffmpeg)");
        return;
    }
    test::temp_dir dir;
    REQUIRE(make({"-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=3", "-f", "lavfi", "-i",
                  "sine=frequency=440:duration=3:sample_rate=44100", "-c:v", "mpeg4", "-c:a", "aac", "-shortest",
                  (dir / "lesson.mp4").string()}));
    REQUIRE(make({"-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=22050", "-c:a", "mp2",
                  (dir / "song.mp2").string()}));

    auto v = media::probe(dir / "lesson.mp4", dir / "thumb.jpg", media::expect::video);
    REQUIRE_MESSAGE(v, (v ? "" : v.error().what()));
    CHECK(v->format.find("mp4") != std::string::npos);
    CHECK(v->duration_s == doctest::Approx(3.0).epsilon(0.05));
    REQUIRE(v->streams.size() == 2);
    CHECK(v->streams[0] == media::stream_info{"video", "mpeg4", 640, 360, 0, 0});
    CHECK(v->streams[1] == media::stream_info{"audio", "aac", 0, 0, 44100, 1});
    CHECK(v->thumbnail);
    auto jpeg = test::read_file(dir / "thumb.jpg");
    CHECK(jpeg.substr(0, 2) == "\xff\xd8");
    // 320 wide, 180 high: the size is in the JPEG's start-of-frame segment.
    auto sof = jpeg.find("\xff\xc0");
    REQUIRE(sof != std::string::npos);
    auto be16 = [&](size_t at) {
        return (static_cast<unsigned char>(jpeg[at]) << 8) | static_cast<unsigned char>(jpeg[at + 1]);
    };
    CHECK(be16(sof + 7) == 320);
    CHECK(be16(sof + 5) == 180);

    auto a = media::probe(dir / "song.mp2", dir / "none.jpg", media::expect::audio);
    REQUIRE(a);
    CHECK(a->streams.at(0).sample_rate == 22050);
    CHECK_FALSE(a->thumbnail);
    CHECK_FALSE(fs::exists(dir / "none.jpg"));
    // Sound alone is not a video.
    auto not_video = media::probe(dir / "song.mp2", {}, media::expect::video);
    REQUIRE_FALSE(not_video);
    CHECK(not_video.error().code() == base_errc::corrupt);

    // Random bytes, and a video cut to its first 2 KB: refused, saying what to do.
    test::write_file(dir / "noise.mp4", test::random_bytes(300'000, 7));
    auto n = media::probe(dir / "noise.mp4", {}, media::expect::video);
    REQUIRE_FALSE(n);
    CHECK(n.error().code() == base_errc::corrupt);
    CHECK(n.error().message().find("not offered") != std::string::npos);
    test::write_file(dir / "cut.mp4", test::read_file(dir / "lesson.mp4").substr(0, 2048));
    auto cut = media::probe(dir / "cut.mp4", {}, media::expect::video);
    CHECK_FALSE(cut);
    CHECK_FALSE(media::probe(dir / "missing.mp4", {}));
}
