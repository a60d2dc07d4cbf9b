// Courseware downloads into the cache, over HTTP, on the control loop.
// A download resumes from what is on disk (Range, guarded by If-Range with
// the server's strong ETag, so a file that changed on the server restarts
// from the beginning), honours a bandwidth limit, and ends in the store's
// verified commit: a file that does not match its hash is never served.
#pragma once

#include "bbt/media/cache.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>

namespace bbt::media::cache {

struct download_options {
    int64_t bytes_per_second = 0;  // 0: no limit
    // When set, asked before each chunk and used instead of bytes_per_second
    // (the limit changes with class hours and the downloads running).
    std::function<int64_t()> rate;
    std::chrono::milliseconds timeout{60'000};  // without a byte this long, the attempt fails
    // https://: the system's CA store, and this CA file (PEM) besides when
    // set (a county's own CA for its resource server).
    std::filesystem::path ca_file;
};

// What a download did, for logs and tests.
struct download_report {
    int64_t resumed_from = 0;  // bytes already on disk that were kept
    int64_t fetched = 0;       // bytes received
    bool restarted = false;    // the server's file changed (or the kept bytes were bad): fetched from 0
};

[[nodiscard]] boost::asio::awaitable<result<std::filesystem::path>> download(boost::asio::any_io_executor ex, store& s,
                                                                             const resource& r,
                                                                             download_options options,
                                                                             download_report* report = nullptr);

}  // namespace bbt::media::cache
