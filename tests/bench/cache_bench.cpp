// Courseware cache figures:
//   cache.verify_throughput  SHA-256 of a 1 GiB file by the cache (MB/s), vs
//                            `openssl dgst -sha256` on the same file in the same run
//   cache.open_latency       store::get of a cached item (median, µs)
//   cache.download_throughput  a 1 GiB file from nginx on loopback into the
//                            store, verified and committed (MB/s), vs `curl`
//                            fetching the same file from the same nginx to disk
#include "bbt/base/digest.hpp"
#include "bbt/media/cache.hpp"
#include "bbt/media/download.hpp"

#include "nginx.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
namespace cache = bbt::media::cache;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

void write_gib(const std::filesystem::path& file, int64_t size) {
    std::ofstream out(file, std::ios::binary);
    std::vector<char> block(1 << 20);
    std::mt19937_64 rng(7);
    for (auto& c : block)
        c = static_cast<char>(rng());
    for (int64_t n = 0; n < size; n += static_cast<int64_t>(block.size())) {
        block[0] = static_cast<char>(n >> 20);  // no two blocks alike
        out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
}

void bench_download(const std::filesystem::path& root) {
    constexpr const char* curl = "/usr/bin/curl";
    if (!std::filesystem::exists(bbt::test::nginx_binary)) {
        fmt::print("bench: cache.download_throughput skipped (no nginx: run scripts/setup)\n");
        return;
    }
    auto dir = root / "download";
    std::filesystem::create_directories(dir);
    bbt::test::nginx server(dir);
    constexpr int64_t size = int64_t{1} << 30;
    write_gib(server.www() / "lesson.bin", size);
    cache::resource r;
    r.id = "lesson";
    r.size = size;
    r.url = server.url("lesson.bin");
    r.sha256 = bbt::digest::sha256_file(server.www() / "lesson.bin").value();
    // Best of three each; every run writes the whole file to disk.
    double ours = 1e9, theirs = 1e9;
    bool reference = std::filesystem::exists(curl);
    for (int i = 0; i < 3; ++i) {
        std::filesystem::remove_all(dir / "store");
        auto s = cache::store::open(dir / "store", {}).value();
        boost::asio::io_context io;
        auto t = clock_type::now();
        auto f = boost::asio::co_spawn(io, cache::download(io.get_executor(), *s, r, {}), boost::asio::use_future);
        io.run();
        auto got = f.get();
        if (!got) {
            fmt::print("bench: cache.download_throughput failed: {}\n", got.error().what());
            return;
        }
        ours = std::min(ours, seconds_since(t));
        if (reference) {
            t = clock_type::now();
            reference = bbt::test::run({curl, "-sS", "-o", (dir / "curl.bin").string(), r.url}, {},
                                       std::chrono::minutes(5)) == 0;
            theirs = std::min(theirs, seconds_since(t));
            std::filesystem::remove(dir / "curl.bin");
        }
    }
    double mb = static_cast<double>(size) / 1e6;
    if (reference) {
        fmt::print(
            "bench: cache.download_throughput {:.0f} MB/s vs curl {:.2f} (curl {:.0f} MB/s; ours also verifies "
            "the SHA-256)\n",
            mb / ours, theirs / ours, mb / theirs);
    } else {
        fmt::print("bench: cache.download_throughput {:.0f} MB/s (curl did not run: install curl)\n", mb / ours);
    }
    server.stop();
    std::filesystem::remove_all(dir);
}

}  // namespace

void bench_cache(const std::filesystem::path& root) {
    auto dir = root / "cache";
    std::filesystem::create_directories(dir);
    auto file = dir / "gib.bin";
    constexpr int64_t size = int64_t{1} << 30;
    write_gib(file, size);
    // Best of three each, the file in the page cache for both.
    double ours = 1e9, theirs = 1e9;
    bool reference = true;
    std::string hash;
    for (int i = 0; i < 3; ++i) {
        auto t = clock_type::now();
        hash = bbt::digest::sha256_file(file).value();
        ours = std::min(ours, seconds_since(t));
        t = clock_type::now();
        reference = reference && bbt::test::run({"/usr/bin/openssl", "dgst", "-sha256", file.string()}, {},
                                                std::chrono::minutes(5)) == 0;
        theirs = std::min(theirs, seconds_since(t));
    }
    double mb = static_cast<double>(size) / 1e6;
    if (reference) {
        fmt::print("bench: cache.verify_throughput {:.0f} MB/s vs openssl_dgst {:.2f}\n", mb / ours, theirs / ours);
    } else {
        fmt::print("bench: cache.verify_throughput {:.0f} MB/s (openssl dgst did not run: install openssl)\n",
                   mb / ours);
    }

    // A cached item opened as the player would, many times.
    auto s = cache::store::open(dir / "store", {}).value();
    cache::resource r;
    r.id = "lesson";
    r.size = size;
    r.sha256 = hash;
    std::filesystem::rename(file, s->partial_path(r));
    s->commit(r, "", 1).value();
    std::vector<double> us;
    for (int i = 0; i < 1000; ++i) {
        auto t = clock_type::now();
        auto p = s->get("lesson", i).value();
        us.push_back(seconds_since(t) * 1e6);
        if (!p) return;
    }
    std::sort(us.begin(), us.end());
    fmt::print("bench: cache.open_latency {:.0f} us (median of 1000; p99 {:.0f} us)\n", us[us.size() / 2],
               us[us.size() * 99 / 100]);
    s.reset();
    std::filesystem::remove_all(dir);
    bench_download(root);
}
