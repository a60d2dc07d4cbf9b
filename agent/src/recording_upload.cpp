#include "bbt/agent/recording_upload.hpp"

#include "bbt/base/digest.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/run_on.hpp"
#include "bbt/base/utf8.hpp"
#include "bbt/media/cache.hpp"
#include "bbt/protocol/json_text.hpp"
#include "bbt/protocol/tus.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

namespace bbt::agent {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
namespace tus = protocol::tus;
using namespace std::chrono_literals;

const log::category lg{"upload"};
constexpr int max_mismatches = 3;

error upload_error(const i18n::msg& what, auto&&... args) {
    return error(std::make_error_code(std::errc::io_error), i18n::format(what, args...));
}

std::string sha256_of(std::string_view data) { return digest::of(digest::algorithm::sha256, data); }

struct chunk {
    std::string data;
    std::string checksum;  // Upload-Checksum
};

// Bytes [offset, offset + n) of the recording, and their checksum.
result<chunk> read_chunk(const fs::path& path, int64_t offset, size_t n) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno_error(errno, i18n::text({"opening a recording to upload it", "打开录像以上传"}), path.string());
    chunk c;
    c.data.resize(n);
    size_t done = 0;
    while (done < n) {
        ssize_t r = ::pread(fd, c.data.data() + done, n - done, offset + static_cast<off_t>(done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            ::close(fd);
            return errno_error(e,
                               i18n::text({"reading a recording to upload it (has it changed?)",
                                           "读取录像以上传（文件是否已改变？）"}),
                               path.string());
        }
        done += static_cast<size_t>(r);
    }
    ::close(fd);
    c.checksum = tus::encode_checksum({"sha256", sha256_of(c.data)});
    return c;
}

std::string message_of(const protocol::https_response& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (!ec && v.is_object()) {
        if (const auto* e = v.as_object().if_contains("error"); e && e->is_string()) return std::string(e->as_string());
    }
    return r.body.substr(0, 200);
}

}  // namespace

std::string encode_facts(const recording_facts& f) {
    json::object o{{"file", f.file},   {"lesson", f.lesson}, {"started_us", f.started_us}, {"duration_s", f.duration_s},
                   {"bytes", f.bytes}, {"sha256", f.sha256}};
    json::object up{{"url", f.upload_url},
                    {"offset", f.upload_offset},
                    {"county_sha256", f.county_sha256},
                    {"confirmed_us", f.confirmed_us}};
    o["upload"] = std::move(up);
    if (!f.lesson_key.empty()) {
        o["lesson_key"] = f.lesson_key;
        o["part"] = f.part;
    }
    o["deleted_us"] = f.deleted_us;
    return protocol::json_text::serialize(o) + "\n";
}

result<recording_facts> parse_facts(std::string_view text) {
    auto bad = [] {
        return error(base_errc::corrupt, i18n::text({"a recording's facts file is damaged", "录像信息文件已损坏"}));
    };
    boost::system::error_code ec;
    // An older agent wrote a lesson's name cut inside a character: read as
    // U+FFFD, not refused.
    auto v = json::parse(utf8::repair(text), ec);
    if (ec || !v.is_object()) return bad();
    const auto& o = v.as_object();
    recording_facts f;
    try {
        f.file = std::string(o.at("file").as_string());
        f.lesson = std::string(o.at("lesson").as_string());
        f.started_us = o.at("started_us").as_int64();
        f.duration_s = o.at("duration_s").to_number<double>();
        f.bytes = o.at("bytes").as_int64();
        f.sha256 = std::string(o.at("sha256").as_string());
        const auto& up = o.at("upload").as_object();
        f.upload_url = std::string(up.at("url").as_string());
        f.upload_offset = up.at("offset").as_int64();
        f.county_sha256 = std::string(up.at("county_sha256").as_string());
        f.confirmed_us = up.at("confirmed_us").as_int64();
        f.deleted_us = o.at("deleted_us").as_int64();
        if (const auto* k = o.if_contains("lesson_key")) {
            f.lesson_key = std::string(k->as_string());
            f.part = o.at("part").as_int64();
        }
    } catch (const std::exception&) {
        return bad();
    }
    if (f.file.empty() || f.file.find('/') != std::string::npos || f.bytes < 0) return bad();
    return f;
}

recording_facts facts_from_name(std::string file) {
    recording_facts f;
    f.file = std::move(file);
    std::string_view name = f.file;
    if (name.ends_with(".mp4")) name.remove_suffix(4);
    std::tm tm{};
    int n = 0;
    if (name.size() >= 15 &&
        std::sscanf(std::string(name.substr(0, 15)).c_str(), "%4d%2d%2d-%2d%2d%2d%n", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 6 &&
        n == 15) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        tm.tm_isdst = -1;
        if (std::time_t t = std::mktime(&tm); t != static_cast<std::time_t>(-1)) {
            f.started_us = static_cast<int64_t>(t) * 1'000'000;
        }
        name.remove_prefix(15);
        if (name.starts_with("-")) name.remove_prefix(1);
    }
    f.lesson = utf8::repair(name);
    return f;
}

protocol::county::recording recording_message(const recording_facts& f, std::string state) {
    return {f.file,          utf8::clean(f.lesson, 500), f.part, f.started_us, f.duration_s, f.bytes, f.sha256,
            std::move(state)};
}

fs::path facts_path(const fs::path& recording) { return fs::path(recording.string() + ".json"); }

result<void> save_facts(const fs::path& dir, const recording_facts& f) {
    return write_file_atomic(facts_path(dir / f.file), encode_facts(f));
}

std::string_view upload_state(const recording_facts& f) {
    if (f.confirmed_us > 0) return f.deleted_us > 0 ? "removed" : "uploaded";
    if (!f.upload_url.empty()) return "uploading";
    return "waiting";
}

recording_uploader::recording_uploader(asio::any_io_executor control, const agent_config::recorder_config& config,
                                       ledger_service& ledger, sender send, std::function<bool(const fs::path&)> in_use,
                                       std::function<bool()> lesson_on)
    : control_(control),
      config_(config),
      ledger_(ledger),
      send_(std::move(send)),
      in_use_(std::move(in_use)),
      lesson_on_(std::move(lesson_on)),
      wake_(control),
      pace_(control) {}

recording_uploader::~recording_uploader() { disk_.join(); }

void recording_uploader::start() { asio::co_spawn(control_, run(), asio::detached); }

void recording_uploader::stop() {
    stopping_ = true;
    wake_.cancel();
    pace_.cancel();
}

void recording_uploader::wake() { wake_.cancel(); }

std::vector<recording_facts> recording_uploader::all() const {
    std::vector<recording_facts> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(config_.dir, ec)) {
        auto name = e.path().filename().string();
        if (!name.ends_with(".mp4.json")) continue;
        auto text = read_file(e.path(), 1 << 16);
        if (!text) continue;
        if (auto f = parse_facts(*text)) {
            out.push_back(std::move(*f));
        } else if (std::string mp4 = name.substr(0, name.size() - 5); fs::exists(config_.dir / mp4, ec)) {
            out.push_back(facts_from_name(mp4));  // listed as its name says until it is rebuilt
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
    return out;
}

asio::awaitable<void> recording_uploader::run() {
    while (!stopping_) {
        bool ok = true;
        std::error_code ec;
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(config_.dir, ec)) {
            auto name = e.path().filename().string();
            if (name.ends_with(".mp4") && !name.ends_with(".tmp.mp4")) files.push_back(e.path());
        }
        // Oldest first: the names begin with the time recording began.
        std::sort(files.begin(), files.end());
        for (const auto& path : files) {
            if (stopping_) co_return;
            if (in_use_(path)) continue;
            recording_facts f;
            if (auto text = read_file(facts_path(path), 1 << 16)) {
                if (auto parsed = parse_facts(*text)) {
                    f = std::move(*parsed);
                } else {
                    // Rebuilt from what the file's name says (its time and
                    // lesson), hashed again and saved below: once, not on
                    // every pass.
                    log::warning(lg, "the facts of {} cannot be read ({}); rebuilt from its name", path.string(),
                                 parsed.error().what());
                    f = facts_from_name(path.filename().string());
                }
            }
            f.file = path.filename().string();
            int64_t size = static_cast<int64_t>(fs::file_size(path, ec));
            if (ec) continue;
            if (f.sha256.empty() || f.bytes != size) {
                // New, or changed since it was hashed: hashed (off the control
                // loop) and uploaded as a new file.
                auto hash = [path] { return digest::sha256_file(path); };
                auto sha = co_await run_on<result<std::string>>(disk_, std::move(hash));
                if (!sha) {
                    log::warning(lg, "{}", sha.error().what());
                    continue;
                }
                f.sha256 = *sha;
                f.bytes = size;
                f.upload_url.clear();
                f.upload_offset = 0;
                f.confirmed_us = 0;
                if (auto r = save_facts(config_.dir, f); !r) log::warning(lg, "{}", r.error().what());
            }
            if (f.confirmed_us == 0 && config_.upload && !refused_.contains(f.file)) {
                auto done = co_await upload(f);
                if (!done) {
                    ok = false;
                    if (failures_ == 0 || failures_ % 10 == 0) {
                        log::warning(lg, "uploading {}: {}; tried again later", f.file, done.error().what());
                    }
                    break;
                }
            }
            if (f.confirmed_us > 0 && f.deleted_us == 0 &&
                clock::wall_now().count() - f.confirmed_us >= config_.keep_after_upload.count() * 1000) {
                // The county has every byte (its SHA-256 matched): only now may the copy here go.
                fs::remove(path, ec);
                if (ec) {
                    log::warning(lg, "deleting {} after its upload: {}", path.string(), ec.message());
                    continue;
                }
                f.deleted_us = clock::wall_now().count();
                if (auto r = save_facts(config_.dir, f); !r) log::warning(lg, "{}", r.error().what());
                ledger_.outbox_put(f.deleted_us, recording_message(f, "removed"));
                log::info(lg, "{} deleted here: the county has confirmed it", f.file);
            }
        }
        failures_ = ok ? 0 : failures_ + 1;
        auto wait = ok ? std::chrono::milliseconds(30s)
                       : std::chrono::milliseconds(1000LL << std::min(failures_ - 1, 8));  // 1 s doubling to ~4 min
        wake_.expires_after(wait);
        co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<result<protocol::https_response>> recording_uploader::call(
    std::string method, std::string url, std::vector<std::pair<std::string, std::string>> headers, std::string body) {
    protocol::https_request req;
    req.method = std::move(method);
    req.url = std::move(url);
    req.headers = std::move(headers);
    req.headers.emplace_back("Tus-Resumable", std::string(tus::version));
    req.content_type = std::string(tus::offset_content_type);
    req.body = std::move(body);
    req.timeout = 120s;
    co_return co_await send_(std::move(req));
}

asio::awaitable<result<void>> recording_uploader::create(recording_facts& f) {
    tus::metadata m{{"filename", f.file}, {"sha256", f.sha256}};
    if (!f.lesson.empty()) m["lesson"] = f.part > 1 ? fmt::format("{} ({})", f.lesson, f.part) : f.lesson;
    if (f.started_us > 0) m["started_us"] = std::to_string(f.started_us);
    if (f.duration_s > 0) m["duration_ms"] = std::to_string(static_cast<int64_t>(f.duration_s * 1000));
    std::vector<std::pair<std::string, std::string>> h{{"Upload-Length", std::to_string(f.bytes)},
                                                       {"Upload-Metadata", tus::encode_metadata(m)}};
    auto res = co_await call("POST", "/v1/uploads", std::move(h));
    if (!res) co_return res.error();
    auto location = res->header("Location");
    if (res->status != 201 || location.empty() || !location.starts_with("/")) {
        if (res->status >= 400 && res->status < 500 && res->status != 408 && res->status != 429) {
            // The county will not take it as it is (too large, ...): not asked again until the agent restarts.
            refused_.insert(f.file);
            ledger_.outbox_put(
                clock::wall_now().count(),
                protocol::county::alert{"recorder", "recorder.upload-refused", "warning",
                                        fmt::format("{}: {}", f.file, message_of(*res)).substr(0, 400), true});
        }
        co_return upload_error(
            {"the county did not take the upload of {} ({} {})", "县级平台未接受 {} 的上传（{} {}）"}, f.file,
            res->status, message_of(*res));
    }
    f.upload_url = std::string(location);
    f.upload_offset = 0;
    if (auto r = save_facts(config_.dir, f); !r) co_return r.error();
    log::info(lg, "uploading {} ({} bytes) to {}", f.file, f.bytes, f.upload_url);
    co_return result<void>{};
}

result<void> recording_uploader::confirm(recording_facts& f, std::string_view county_sha256) {
    if (county_sha256 != f.sha256) {
        // Not this file's bytes (an old upload?): start a new one.
        f.upload_url.clear();
        (void)save_facts(config_.dir, f);
        return upload_error({"the county holds other bytes for {} (SHA-256 {}, here {}); it is uploaded again",
                             "县级平台保存的 {} 内容不同（SHA-256 {}，本机 {}）；将重新上传"},
                            f.file, county_sha256, f.sha256);
    }
    f.county_sha256 = std::string(county_sha256);
    f.confirmed_us = clock::wall_now().count();
    f.upload_offset = f.bytes;
    if (auto r = save_facts(config_.dir, f); !r) return r.error();
    mismatches_.erase(f.file);
    log::notice(lg, "{} is at the county: {} bytes, SHA-256 confirmed", f.file, f.bytes);
    ledger_.outbox_put(clock::wall_now().count(), recording_message(f, "uploaded"));
    return {};
}

asio::awaitable<void> recording_uploader::pace(size_t bytes, std::chrono::steady_clock::time_point since) {
    double mbit = lesson_on_ && lesson_on_() ? config_.class_upload_bandwidth_mbit : config_.upload_bandwidth_mbit;
    if (mbit <= 0) co_return;
    auto wanted = std::chrono::duration<double>(static_cast<double>(bytes) * 8 / (mbit * 1e6));
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(wanted - (std::chrono::steady_clock::now() - since));
    if (left <= 0ms) co_return;
    pace_.expires_after(left);
    co_await pace_.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<result<bool>> recording_uploader::upload(recording_facts& f) {
    if (f.upload_url.empty()) {
        if (auto r = co_await create(f); !r) co_return r.error();
    }
    // Where the county is: HEAD, whatever this set last heard.
    auto head = co_await call("HEAD", f.upload_url, {});
    if (!head) co_return head.error();
    if (head->status == 404 || head->status == 410) {
        log::info(lg, "the county no longer has the upload of {}; it begins again", f.file);
        f.upload_url.clear();
        if (auto r = co_await create(f); !r) co_return r.error();
        head = co_await call("HEAD", f.upload_url, {});
        if (!head) co_return head.error();
    }
    if (head->status != 200) {
        co_return upload_error(
            {"the county answered {} for the upload of {}: {}", "县级平台对 {1} 的上传返回 {0}：{2}"}, head->status,
            f.file, message_of(*head));
    }
    auto offset = tus::parse_offset(head->header("Upload-Offset"));
    if (!offset) co_return offset.error();
    if (auto sha = head->header("X-BBT-SHA256"); !sha.empty()) {
        if (auto r = confirm(f, sha); !r) co_return r.error();
        co_return true;
    }
    int bad_chunks = 0;
    const auto chunk_bytes = static_cast<int64_t>(config_.upload_chunk_kb) * 1024;
    while (!stopping_) {
        auto since = std::chrono::steady_clock::now();
        size_t n = static_cast<size_t>(std::min(chunk_bytes, f.bytes - *offset));
        auto path = config_.dir / f.file;
        int64_t at = *offset;
        auto read = [path, at, n] { return read_chunk(path, at, n); };
        auto c = co_await run_on<result<chunk>>(disk_, std::move(read));
        if (!c) co_return c.error();
        std::vector<std::pair<std::string, std::string>> h{{"Upload-Offset", std::to_string(at)},
                                                           {"Upload-Checksum", c->checksum}};
        auto res = co_await call("PATCH", f.upload_url, std::move(h), std::move(c->data));
        if (!res) co_return res.error();
        auto said = tus::parse_offset(res->header("Upload-Offset"));
        if (res->status == 204 && said) {
            *offset = *said;
            f.upload_offset = *said;
            if (auto sha = res->header("X-BBT-SHA256"); !sha.empty()) {
                if (auto r = confirm(f, sha); !r) co_return r.error();
                co_return true;
            }
            if (auto r = save_facts(config_.dir, f); !r) co_return r.error();
            co_await pace(n, since);
            continue;
        }
        if (res->status == 409) {
            // The county is elsewhere (an answer lost on the way): go on from where it is.
            if (said) {
                *offset = *said;
                continue;
            }
            co_return upload_error({"the county refused a chunk of {}: {}", "县级平台拒绝了 {} 的数据块：{}"}, f.file,
                                   message_of(*res));
        }
        if (res->status == tus::status_checksum_mismatch) {
            if (at + static_cast<int64_t>(n) == f.bytes && said && *said == 0) {
                // The whole file did not match at the county: it starts over.
                int m = ++mismatches_[f.file];
                log::warning(lg, "the county found {} different from its SHA-256 (time {} of {}); sending it again",
                             f.file, m, max_mismatches);
                if (m >= max_mismatches) {
                    refused_.insert(f.file);
                    ledger_.outbox_put(clock::wall_now().count(),
                                       protocol::county::alert{"recorder", "recorder.upload-mismatch", "warning",
                                                               fmt::format("{}: the county received different bytes "
                                                                           "{} times; kept here, not sent again",
                                                                           f.file, m),
                                                               true});
                    co_return upload_error({"{} reached the county damaged {} times; it is kept here",
                                            "{} 已 {} 次在传输中损坏；本机保留该文件"},
                                           f.file, m);
                }
                *offset = 0;
                continue;
            }
            if (++bad_chunks >= max_mismatches) {
                co_return upload_error(
                    {"chunks of {} keep arriving damaged at the county", "{} 的数据块多次在传输中损坏"}, f.file);
            }
            continue;
        }
        co_return upload_error({"the county answered {} to a chunk of {}: {}", "县级平台对 {1} 的数据块返回 {0}：{2}"},
                               res->status, f.file, message_of(*res));
    }
    co_return false;
}

}  // namespace bbt::agent
