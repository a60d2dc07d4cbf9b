// Courseware downloads against a real nginx (Debian's package) on loopback:
// resume after kill -9, a file changed on the server, a corrupted byte, quota
// and pins. Skips with a message where nginx is not installed.
#include "bbt/base/digest.hpp"
#include "bbt/media/cache.hpp"
#include "bbt/media/download.hpp"
#include "bbt/protocol/pki.hpp"
#include "bounded.hpp"

#include "doctest_bbt.hpp"
#include "nginx.hpp"
#include "process.hpp"
#include "small_disk.hpp"
#include "temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <thread>

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace bbt::media::cache;
using bbt::digest::sha256_file;
using bbt::test::read_file;
using bbt::test::temp_dir;
using bbt::test::write_file;

namespace {

using bbt::test::nginx;
using bbt::test::nginx_binary;
using bbt::test::random_bytes;

// Puts `content` on the server as `name` and describes it as the catalogue would.
resource publish(const temp_dir& dir, const nginx& server, const std::string& name, const std::string& content) {
    write_file(dir / "www" / name, content);
    resource r;
    r.id = name;
    r.type = "video";
    r.url = server.url(name);
    r.size = static_cast<int64_t>(content.size());
    r.sha256 = sha256_file(dir / "www" / name).value();
    return r;
}

bbt::result<fs::path> fetch(store& s, const resource& r, download_report& rep, download_options o = {}) {
    asio::io_context io;
    auto f = asio::co_spawn(io, download(io.get_executor(), s, r, o, &rep), asio::use_future);
    return bbt::test::run_bounded(io, f);
}

bool have_nginx() {
    if (fs::exists(nginx_binary)) return true;
    BBT_SKIP("no " << nginx_binary << " (scripts/setup installs nginx)");
    return false;
}

}  // namespace

TEST_CASE("a courseware file comes from nginx, verified, into the store") {
    if (!have_nginx()) return;
    temp_dir dir;
    nginx server(dir.path());
    auto s = store::open(dir / "cache", {}).value();
    auto r = publish(dir, server, "lesson.mp4", random_bytes(3 << 20, 1));
    download_report rep;
    auto p = fetch(*s, r, rep);
    REQUIRE(p);
    CHECK(read_file(*p) == read_file(dir / "www/lesson.mp4"));
    CHECK(rep.fetched == r.size);
    CHECK(rep.resumed_from == 0);
    CHECK(s->get("lesson.mp4", 1).value() == *p);
    // A missing file is an error that names the status, and nothing is stored.
    auto missing = r;
    missing.id = "gone";
    missing.url = server.url("gone.mp4");
    auto e = fetch(*s, missing, rep);
    REQUIRE_FALSE(e);
    CHECK(e.error().message().find("404") != std::string::npos);
    CHECK_FALSE(s->find("gone").value());
}

TEST_CASE("an https:// courseware server is trusted by its CA and its name and refused without them") {
    if (!have_nginx()) return;
    temp_dir dir;
    // The county's own CA, and the resource server's certificate for 127.0.0.1.
    namespace pki = bbt::protocol::pki;
    auto ca_key = pki::generate_key().value();
    auto ca = pki::self_signed_ca(ca_key, "county resources CA", std::chrono::hours(24)).value();
    auto key = pki::generate_key().value();
    pki::issue_options o;
    o.server = true;
    o.dns_names = {"127.0.0.1"};
    write_file(dir / "server.pem", pki::sign_csr(pki::make_csr(key, "127.0.0.1").value(), ca, ca_key, o).value());
    write_file(dir / "server.key", key);
    write_file(dir / "ca.pem", ca);
    // A certificate for another name, from the same CA.
    pki::issue_options other = o;
    other.dns_names = {"resources.county.example"};
    fs::create_directories(dir / "other");
    write_file(dir / "other/server.pem",
               pki::sign_csr(pki::make_csr(key, "resources").value(), ca, ca_key, other).value());
    nginx server(dir.path(), dir / "server.pem", dir / "server.key");
    auto s = store::open(dir / "cache", {}).value();
    auto r = publish(dir, server, "lesson.mp4", random_bytes(1 << 20, 7));
    REQUIRE(r.url.starts_with("https://"));
    download_report rep;
    // Not in the system's store: refused, saying why.
    auto untrusted = fetch(*s, r, rep);
    REQUIRE_FALSE(untrusted);
    CHECK(untrusted.error().message().find("not trusted") != std::string::npos);
    CHECK_FALSE(s->find("lesson.mp4").value());
    // With the county's CA: fetched and verified.
    download_options with_ca;
    with_ca.ca_file = dir / "ca.pem";
    auto p = fetch(*s, r, rep, with_ca);
    REQUIRE_MESSAGE(p, (p ? "" : p.error().what()));
    CHECK(read_file(*p) == read_file(dir / "www/lesson.mp4"));
    // The right CA but another name: refused.
    temp_dir dir2;
    nginx misnamed(dir2.path(), dir / "other/server.pem", dir / "server.key");
    auto r2 = publish(dir2, misnamed, "other.mp4", random_bytes(1000, 8));
    auto wrong_name = fetch(*s, r2, rep, with_ca);
    REQUIRE_FALSE(wrong_name);
    CHECK(wrong_name.error().message().find("not trusted") != std::string::npos);
}

TEST_CASE("a download killed with kill -9 resumes without fetching again what was on disk") {
    if (!have_nginx()) return;
    temp_dir dir;
    nginx server(dir.path());
    auto r = publish(dir, server, "big.mp4", random_bytes(16 << 20, 2));
    {
        auto s = store::open(dir / "cache", {}).value();
        auto partial = s->partial_path(r);
        pid_t pid = ::fork();
        if (pid == 0) {
            // The downloading process, slowed down so that it is killed mid-way.
            auto cs = store::open(dir / "cache", {}).value();
            download_report rep;
            download_options o;
            o.bytes_per_second = 4 << 20;
            (void)fetch(*cs, r, rep, o);
            ::_exit(0);
        }
        std::error_code ec;
        for (int i = 0; i < 500 && (!fs::exists(partial, ec) || fs::file_size(partial, ec) < (5u << 20)); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    auto s = store::open(dir / "cache", {}).value();
    auto on_disk = static_cast<int64_t>(fs::file_size(s->partial_path(r)));
    REQUIRE(on_disk >= (5 << 20));
    REQUIRE(on_disk < r.size);
    download_report rep;
    auto p = fetch(*s, r, rep);
    REQUIRE(p);
    MESSAGE("killed with " << on_disk << " of " << r.size << " bytes on disk; resumed, fetching " << rep.fetched);
    CHECK(rep.resumed_from == on_disk);
    CHECK(rep.fetched == r.size - on_disk);
    CHECK_FALSE(rep.restarted);
    CHECK(sha256_file(*p).value() == r.sha256);
    CHECK(server.access_log().find("\" 206 ") != std::string::npos);
}

TEST_CASE("a file that changed on the server between attempts restarts cleanly") {
    if (!have_nginx()) return;
    temp_dir dir;
    nginx server(dir.path());
    auto s = store::open(dir / "cache", {}).value();
    auto old_content = random_bytes(1 << 20, 3);
    auto r_old = publish(dir, server, "unit1.mp4", old_content);
    // Half of the old version on disk, with the old version's ETag, as after a break.
    download_report first;
    REQUIRE(fetch(*s, r_old, first));
    auto old_etag = s->find("unit1.mp4").value()->etag;
    REQUIRE(old_etag.starts_with("\""));
    REQUIRE(s->evict("unit1.mp4"));
    write_file(s->partial_path(r_old), old_content.substr(0, old_content.size() / 2));
    write_file(fs::path(s->partial_path(r_old).string() + ".etag"), old_etag + "\n");
    auto r_new = publish(dir, server, "unit1.mp4", random_bytes(1 << 20, 4));
    // ETags of nginx are mtime-size: the new file's mtime is set a minute on,
    // so that its ETag differs however fast this ran (no waiting for a second to pass).
    auto published = dir / "www" / "unit1.mp4";
    fs::last_write_time(published, fs::last_write_time(published) + std::chrono::minutes(1));
    // The catalogue now gives the new hash; the partial of the old one stays where it was,
    // so the new download has nothing to resume; resume the old partial against the new file:
    r_new.sha256 = r_old.sha256;  // the agent's catalogue is not updated yet
    fs::rename(s->partial_path(r_old), s->partial_path(r_new));
    fs::rename(s->partial_path(r_old).string() + ".etag", s->partial_path(r_new).string() + ".etag");
    download_report rep;
    auto p = fetch(*s, r_new, rep);
    // If-Range did not match: the whole new file came (200), and it does not
    // verify against the stale catalogue: refused, never served.
    REQUIRE_FALSE(p);
    CHECK(p.error().code() == cache_errc::corrupt);
    CHECK(rep.restarted);
    CHECK(server.access_log().find("\" 200 ") != std::string::npos);
    CHECK_FALSE(s->find("unit1.mp4").value());
    // With the catalogue updated, it comes, whole and verified.
    auto r_fixed = publish(dir, server, "unit1.mp4", read_file(dir / "www/unit1.mp4"));
    download_report again;
    REQUIRE(fetch(*s, r_fixed, again));
    CHECK(again.resumed_from == 0);
}

TEST_CASE("a corrupted byte in what was on disk is found by the hash and the file fetched again") {
    if (!have_nginx()) return;
    temp_dir dir;
    nginx server(dir.path());
    auto s = store::open(dir / "cache", {}).value();
    auto content = random_bytes(2 << 20, 5);
    auto r = publish(dir, server, "unit2.mp4", content);
    // A partial download with the server's ETag, one byte of it wrong.
    download_report first;
    REQUIRE(fetch(*s, r, first));
    auto etag = s->find("unit2.mp4").value()->etag;
    REQUIRE(s->evict("unit2.mp4"));
    auto half = content.substr(0, content.size() / 2);
    half[1000] = static_cast<char>(half[1000] ^ 0x01);
    write_file(s->partial_path(r), half);
    write_file(fs::path(s->partial_path(r).string() + ".etag"), etag + "\n");
    download_report rep;
    auto p = fetch(*s, r, rep);
    REQUIRE(p);
    CHECK(rep.restarted);  // resumed, failed the hash, fetched again from 0
    CHECK(sha256_file(*p).value() == r.sha256);
}

TEST_CASE("a download that cannot fit is refused before it starts; pinned courseware is kept") {
    if (!have_nginx()) return;
    temp_dir dir;
    nginx server(dir.path());
    store_options o;
    o.quota_bytes = 3 << 20;
    o.keep_free_bytes = 0;
    auto s = store::open(dir / "cache", o).value();
    auto a = publish(dir, server, "a.mp4", random_bytes(1 << 20, 6));
    auto b = publish(dir, server, "b.mp4", random_bytes(1 << 20, 7));
    auto c = publish(dir, server, "c.mp4", random_bytes(2 << 20, 8));
    download_report rep;
    REQUIRE(fetch(*s, a, rep));
    REQUIRE(fetch(*s, b, rep));
    REQUIRE(s->pin("a.mp4", INT64_MAX));
    REQUIRE(s->pin("b.mp4", INT64_MAX));
    auto refused = fetch(*s, c, rep);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == cache_errc::no_room);
    CHECK_FALSE(fs::exists(s->partial_path(c)));
    CHECK(s->find("a.mp4").value());
    CHECK(s->find("b.mp4").value());
    // Unpinned, the least recently used makes way.
    REQUIRE(s->pin("b.mp4", 0));
    REQUIRE(fetch(*s, c, rep));
    CHECK_FALSE(s->find("b.mp4").value());
    CHECK(s->find("a.mp4").value());
}

TEST_CASE(
    "a full disk: refused before the first byte when it cannot fit, and when it fills mid-download nothing "
    "is served, then the download resumes") {
    if (!have_nginx()) return;
    temp_dir dir;
    bbt::test::small_disk disk(dir / "disk", "4m");
    if (!disk.mounted()) {
        BBT_SKIP("cannot mount a small tmpfs as a full disk (needs root)");
        return;
    }
    nginx server(dir.path());
    store_options o;
    o.keep_free_bytes = 64 << 10;
    auto s = store::open(dir / "disk/cache", o).value();

    // Larger than the disk: refused at once, nothing written.
    auto big = publish(dir, server, "big.mp4", random_bytes(5 << 20, 9));
    download_report rep;
    auto refused = fetch(*s, big, rep);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == cache_errc::no_room);
    CHECK(refused.error().message().find("free the disk") != std::string::npos);
    CHECK(rep.fetched == 0);
    CHECK_FALSE(fs::exists(s->partial_path(big)));

    // Fits when it starts; something else fills the disk while it downloads.
    auto r = publish(dir, server, "lesson.mp4", random_bytes(2 << 20, 10));
    std::thread filler([&] {
        while (!fs::exists(s->partial_path(r)) || fs::file_size(s->partial_path(r)) < (512 << 10))
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::string junk(3 << 20, 'x');
        std::ofstream(dir / "disk/junk", std::ios::binary) << junk;  // as much as fits
    });
    download_options slow;
    slow.bytes_per_second = 1 << 20;  // time for the filler to fill the disk mid-way
    download_report cut;
    auto full = fetch(*s, r, cut, slow);
    filler.join();
    REQUIRE_FALSE(full);
    CHECK(full.error().message().find("disk full") != std::string::npos);
    CHECK(s->get("lesson.mp4", 1).value() == std::nullopt);
    auto kept = fs::file_size(s->partial_path(r));
    CHECK(kept > 0);
    CHECK(kept < static_cast<uintmax_t>(r.size));

    // Room again: it resumes from what it had, and verifies.
    fs::remove(dir / "disk/junk");
    download_report again;
    auto done = fetch(*s, r, again);
    REQUIRE_MESSAGE(done, (done ? "" : done.error().what()));
    CHECK(again.resumed_from == static_cast<int64_t>(kept));
    CHECK(again.fetched == r.size - static_cast<int64_t>(kept));
    CHECK(sha256_file(*done).value() == r.sha256);
}
