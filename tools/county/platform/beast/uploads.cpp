#include "uploads.hpp"

#include "bbt/base/coroutine_frames.hpp"
#include "bbt/base/digest.hpp"
#include "bbt/base/utf8.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/run_on.hpp"
#include "bbt/base/unique_fd.hpp"
#include "bbt/protocol/json_text.hpp"
#include "bbt/protocol/pki.hpp"
#include "bbt/protocol/tus.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>

namespace bbt::county {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace tus = protocol::tus;
namespace fs = std::filesystem;

const log::category lg{"uploads"};
constexpr std::string_view prefix = "/v1/uploads";

using request = http::request<http::empty_body>;
using response = http::response<http::string_body>;

bool hex64(std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A file name a set may give: no folders, nothing hidden, no control characters.
bool safe_name(std::string_view n) {
    if (n.empty() || n.size() > 200 || n.front() == '.') return false;
    for (unsigned char c : n) {
        if (c < 0x20 || c == '/' || c == '\\' || c == 0x7f) return false;
    }
    return true;
}

std::optional<digest::algorithm> checksum_algorithm(std::string_view name) {
    if (name == "sha256") return digest::algorithm::sha256;
    if (name == "sha1") return digest::algorithm::sha1;
    return std::nullopt;
}

// A folder name made from a part of a device id: nothing hidden, no folders.
bool safe_folder(std::string_view n) { return safe_name(n) && n != ".."; }

// Writes `data` at `offset` of the partial file, first cutting off anything
// beyond `offset` (a chunk written before a crash, never recorded), and
// syncs it.
result<void> write_chunk(const fs::path& path, int64_t offset, std::string_view data) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return errno_error(errno, "open", path.string());
    auto fail = [&](const char* op) {
        int e = errno;
        if (::ftruncate(fd, offset) != 0) { /* the offset recorded still holds */
        }
        ::close(fd);
        return errno_error(e, op, path.string());
    };
    if (::ftruncate(fd, offset) != 0) return fail("ftruncate");
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail("write");
        done += static_cast<size_t>(n);
    }
    if (::fdatasync(fd) != 0) return fail("fdatasync");
    ::close(fd);
    return {};
}

result<void> sync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, "open", dir.string());
    int r = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (r != 0) return errno_error(e, "fsync", dir.string());
    return {};
}

// A chunk on its way to the partial file: written at the upload's offset as
// it arrives, synced when it is whole, cut off again when it is not taken.
class chunk_file {
public:
    static result<chunk_file> open(const fs::path& path, int64_t offset) {
        unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640));
        if (!fd) return errno_error(errno, "open", path.string());
        // Anything beyond the offset was written before a crash and never recorded.
        if (::ftruncate(fd.get(), offset) != 0) return errno_error(errno, "ftruncate", path.string());
        return chunk_file(std::move(fd), path, offset);
    }
    result<void> append(std::string_view data) {
        size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::pwrite(fd_.get(), data.data() + done, data.size() - done, end_);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return errno_error(n < 0 ? errno : ENOSPC, "write", path_.string());
            done += static_cast<size_t>(n);
            end_ += n;
        }
        return {};
    }
    result<void> sync() {
        if (::fdatasync(fd_.get()) != 0) return errno_error(errno, "fdatasync", path_.string());
        return {};
    }
    // The chunk is not taken: the file ends at the recorded offset again.
    void cut_back() noexcept {
        if (::ftruncate(fd_.get(), start_) != 0) { /* the recorded offset still holds */
        }
        end_ = start_;
    }
    [[nodiscard]] int64_t written() const noexcept { return end_ - start_; }

private:
    chunk_file(unique_fd fd, fs::path path, int64_t offset)
        : fd_(std::move(fd)), path_(std::move(path)), start_(offset), end_(offset) {}
    unique_fd fd_;
    fs::path path_;
    int64_t start_, end_;
};

// Bytes free for this process on the file system holding `dir`.
result<int64_t> free_bytes(const fs::path& dir) {
    struct statvfs v {};
    if (::statvfs(dir.c_str(), &v) != 0) return errno_error(errno, "statvfs", dir.string());
    return static_cast<int64_t>(v.f_bavail) * static_cast<int64_t>(v.f_frsize);
}

}  // namespace

struct uploads::impl {
    asio::any_io_executor ex;
    store& db;
    upload_options options;
    asio::thread_pool hashing{1};
    std::set<std::string> checking;  // uploads whose whole file is being hashed
    std::set<std::string> writing;   // uploads a PATCH is writing to now

    impl(asio::any_io_executor e, store& s, upload_options o) : ex(e), db(s), options(std::move(o)) {}
    ~impl() { hashing.join(); }

    fs::path partial_dir() const { return options.dir / ".partial"; }
    fs::path partial_path(const std::string& id) const { return partial_dir() / id; }

    static response answer(const request& req, http::status status) {
        response res{status, req.version()};
        res.set(http::field::server, "bbt-county");
        res.set("Tus-Resumable", tus::version);
        res.keep_alive(req.keep_alive());
        return res;
    }
    static response refuse(const request& req, http::status status, std::string_view message) {
        auto res = answer(req, status);
        res.set(http::field::content_type, "application/json");
        res.body() = protocol::json_text::serialize(json::object{{"error", message}});
        res.prepare_payload();
        return res;
    }
    static response unavailable(const request& req, const error& e) {
        log::error(lg, "{}", e.what());
        auto res = refuse(req, http::status::service_unavailable,
                          i18n::text({"the county cannot take this now (its log says why); try again later",
                                      "县级平台暂时无法处理（原因见其日志）；请稍后再试"}));
        res.set(http::field::retry_after, "30");
        return res;
    }
    static response no_room(const request& req, std::string_view why) {
        auto res = refuse(req, http::status::insufficient_storage, why);
        res.set(http::field::retry_after, "3600");
        return res;
    }

    asio::awaitable<response> handle(const request& req, std::string peer, body_source& body) {
        if (req.method() == http::verb::options) {
            auto res = answer(req, http::status::no_content);
            res.set("Tus-Version", tus::version);
            res.set("Tus-Extension", tus::extensions);
            res.set("Tus-Max-Size", std::to_string(options.max_bytes));
            res.set("Tus-Checksum-Algorithm", "sha256,sha1");
            res.prepare_payload();
            co_return res;
        }
        if (req["Tus-Resumable"] != tus::version) {
            auto res = refuse(req, http::status::precondition_failed,
                              i18n::text({"this server speaks tus 1.0.0 (Tus-Resumable: 1.0.0)",
                                          "本服务器使用 tus 1.0.0 协议（Tus-Resumable: 1.0.0）"}));
            res.set("Tus-Version", tus::version);
            co_return res;
        }
        if (peer.empty()) {
            co_return refuse(
                req, http::status::unauthorized,
                i18n::text({"uploads need the set's certificate from enrolment", "上传需要注册时颁发的证书"}));
        }
        std::string_view target(req.target().data(), req.target().size());
        if (target == prefix) {
            if (req.method() != http::verb::post) {
                co_return refuse(req, http::status::method_not_allowed, "POST or OPTIONS");
            }
            co_return create(req, peer);
        }
        if (!target.starts_with(prefix) || target.size() <= prefix.size() + 1 || target[prefix.size()] != '/') {
            co_return refuse(req, http::status::not_found, i18n::text({"no such upload", "没有此上传"}));
        }
        std::string id(target.substr(prefix.size() + 1));
        auto found = db.find_upload(id);
        if (!found) co_return unavailable(req, found.error());
        // Another set's upload is not there for this one.
        if (!*found || (*found)->device_id != peer) {
            co_return refuse(req, http::status::not_found, i18n::text({"no such upload", "没有此上传"}));
        }
        auto& u = **found;
        switch (req.method()) {
            case http::verb::head: co_return head(req, u);
            case http::verb::patch: co_return co_await patch(req, std::move(u), body);
            case http::verb::delete_: co_return terminate(req, u);
            default: co_return refuse(req, http::status::method_not_allowed, "HEAD, PATCH or DELETE");
        }
    }

    response created(const request& req, const upload& u) {
        auto res = answer(req, http::status::created);
        res.set(http::field::location, fmt::format("{}/{}", prefix, u.id));
        res.set("Upload-Offset", std::to_string(u.offset));
        res.prepare_payload();
        return res;
    }

    response create(const request& req, const std::string& peer) {
        auto length = tus::parse_offset(req["Upload-Length"]);
        if (!length) {
            return refuse(req, http::status::bad_request,
                          i18n::format({"Upload-Length: {}", "Upload-Length：{}"}, length.error().message()));
        }
        if (*length > options.max_bytes) {
            return refuse(req, http::status::payload_too_large,
                          i18n::format({"a recording of {} bytes is larger than this server takes ({} bytes)",
                                        "录像 {} 字节，超过本服务器接收上限（{} 字节）"},
                                       *length, options.max_bytes));
        }
        auto meta = tus::parse_metadata(req["Upload-Metadata"]);
        if (!meta) return refuse(req, http::status::bad_request, meta.error().message());
        auto get = [&](std::string_view k) {
            auto it = meta->find(k);
            return it == meta->end() ? std::string() : it->second;
        };
        upload u;
        // Metadata values are base64 of any bytes: kept as valid UTF-8 only.
        u.filename = utf8::repair(get("filename"));
        u.sha256 = get("sha256");
        u.lesson = utf8::clean(get("lesson"), 200);
        if (!safe_name(u.filename)) {
            return refuse(req, http::status::bad_request,
                          i18n::text({"Upload-Metadata needs \"filename\": a file name without folders, at most 200 "
                                      "bytes, not starting with a dot",
                                      "Upload-Metadata 需要“filename”：不含目录、最多 200 字节、不以点开头的文件名"}));
        }
        if (!hex64(u.sha256)) {
            return refuse(req, http::status::bad_request,
                          i18n::text({"Upload-Metadata needs \"sha256\": the whole file's SHA-256 in lower-case hex",
                                      "Upload-Metadata 需要“sha256”：整个文件的 SHA-256（小写十六进制）"}));
        }
        for (auto [key, out] : {std::pair{"started_us", &u.started_us}, {"duration_ms", &u.duration_ms}}) {
            if (auto v = get(key); !v.empty()) {
                int64_t n = -1;
                auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
                if (ec != std::errc() || p != v.data() + v.size() || n < 0) {
                    return refuse(req, http::status::bad_request,
                                  i18n::format({"Upload-Metadata \"{}\" must be a whole number, 0 or more",
                                                "Upload-Metadata“{}”必须为非负整数"},
                                               key));
                }
                *out = n;
            }
        }
        auto again = db.find_upload(peer, u.sha256, *length);
        if (!again) return unavailable(req, again.error());
        if (*again) return created(req, **again);
        // What this set has reserved already, and what the disk can take.
        auto reserved = db.unfinished_bytes(peer);
        if (!reserved) return unavailable(req, reserved.error());
        if (*reserved + *length > options.set_quota) {
            return refuse(
                req, http::status::payload_too_large,
                i18n::format({"this set has {} bytes in unfinished uploads; with {} more it would be over "
                              "its quota of {} bytes: finish or delete those first",
                              "此设备未完成的上传已有 {} 字节；再加 {} 字节将超出其配额 {} 字节：请先完成或删除"
                              "这些上传"},
                             *reserved, *length, options.set_quota));
        }
        std::error_code ec;
        fs::create_directories(partial_dir(), ec);
        if (ec) return unavailable(req, errno_error(ec.value(), "mkdir", partial_dir().string()));
        auto free = free_bytes(options.dir);
        if (!free) return unavailable(req, free.error());
        if (*free < *length + options.min_free) {
            log::warning(lg, "{} cannot begin an upload of {} bytes: {} bytes free in {}", peer, *length, *free,
                         options.dir.string());
            return no_room(req, i18n::format({"the county's disk has {} MB free, too little for a recording of {} MB; "
                                              "try again later",
                                              "县级平台磁盘剩余 {} MB，不足以接收 {} MB 的录像；请稍后再试"},
                                             *free >> 20, *length >> 20));
        }
        int64_t now = clock::wall_now().count();
        u.id = protocol::pki::random_hex(16);
        u.device_id = peer;
        u.length = *length;
        u.created_us = u.updated_us = now;
        // An empty file is complete at once, once checked.
        if (auto r = write_chunk(partial_path(u.id), 0, {}); !r) return unavailable(req, r.error());
        if (auto r = db.create_upload(u); !r) return unavailable(req, r.error());
        log::info(lg, "{} begins uploading {} ({} bytes) as {}", peer, u.filename, u.length, u.id);
        return created(req, u);
    }

    static void describe(response& res, const upload& u) {
        res.set("Upload-Offset", std::to_string(u.offset));
        res.set("Upload-Length", std::to_string(u.length));
        if (u.state == "complete") res.set("X-BBT-SHA256", u.received_sha256);
    }

    response head(const request& req, const upload& u) {
        auto res = answer(req, http::status::ok);
        describe(res, u);
        res.set(http::field::cache_control, "no-store");
        res.prepare_payload();
        return res;
    }

    response terminate(const request& req, const upload& u) {
        if (u.state != "uploading") {
            return refuse(req, http::status::forbidden,
                          i18n::text({"a recording the county has in full is not deleted by a set",
                                      "县级平台已完整接收的录像不能由设备删除"}));
        }
        if (checking.contains(u.id) || writing.contains(u.id)) {
            return refuse(req, http::status::conflict,
                          i18n::text({"the upload is being written or checked", "上传正在写入或校验"}));
        }
        if (auto r = db.delete_upload(u.id); !r) return unavailable(req, r.error());
        std::error_code ec;
        fs::remove(partial_path(u.id), ec);
        log::info(lg, "{} dropped the upload {} ({})", u.device_id, u.id, u.filename);
        auto res = answer(req, http::status::no_content);
        res.prepare_payload();
        return res;
    }

    // A chunk, written as it arrives. Everything that can be decided from the
    // header is decided before a byte of the body is read.
    asio::awaitable<response> patch(const request& req, upload u, body_source& body) {
        if (req[http::field::content_type] != tus::offset_content_type) {
            co_return refuse(req, http::status::unsupported_media_type,
                             "Content-Type must be application/offset+octet-stream");
        }
        auto offset = tus::parse_offset(req["Upload-Offset"]);
        if (!offset) {
            co_return refuse(req, http::status::bad_request,
                             i18n::format({"Upload-Offset: {}", "Upload-Offset：{}"}, offset.error().message()));
        }
        if (checking.contains(u.id) || writing.contains(u.id)) {
            co_return refuse(req, http::status::conflict,
                             i18n::text({"the upload is being written or checked", "上传正在写入或校验"}));
        }
        if (*offset != u.offset || u.state == "complete") {
            if (auto r = db.upload_conflict(u.id); !r) co_return unavailable(req, r.error());
            auto res = refuse(req, http::status::conflict,
                              i18n::format({"the upload is at byte {}, not {}; ask with HEAD and go on from there",
                                            "上传位于第 {} 字节，而非 {}；请用 HEAD 查询后从该处继续"},
                                           u.offset, *offset));
            describe(res, u);
            co_return res;
        }
        // A chunk that cannot fit, said by its length or found as it comes.
        auto beyond = [&] {
            return refuse(req, http::status::bad_request,
                          i18n::format({"the chunk goes beyond the upload's length ({} bytes)",
                                        "数据块超出上传总长度（{} 字节）"},
                                       u.length));
        };
        const int64_t room = u.length - u.offset;
        if (auto n = req[http::field::content_length]; !n.empty()) {
            auto declared = tus::parse_offset(n);
            if (declared && *declared > room) co_return beyond();
        }
        std::optional<tus::checksum> want;
        std::optional<digest::hasher> hasher;
        if (auto h = req["Upload-Checksum"]; !h.empty()) {
            auto c = tus::parse_checksum(h);
            if (!c) co_return refuse(req, http::status::bad_request, c.error().message());
            auto a = checksum_algorithm(c->algorithm);
            if (!a) {
                co_return refuse(req, http::status::bad_request,
                                 i18n::format({"checksum algorithm \"{}\" is not supported; use sha256 or sha1",
                                               "不支持校验算法“{}”；请使用 sha256 或 sha1"},
                                              c->algorithm));
            }
            want = std::move(*c);
            hasher.emplace(*a);
        }
        if (u.state == "checked") co_return co_await finish(req, std::move(u));

        writing.insert(u.id);
        struct release {
            std::set<std::string>& set;
            std::string id;
            ~release() { set.erase(id); }
        } guard{writing, u.id};
        auto file = chunk_file::open(partial_path(u.id), u.offset);
        if (!file) co_return unavailable(req, file.error());
        auto cannot_store = [&](const error& e) {
            log::error(lg, "writing a chunk of {}: {}", u.id, e.what());
            file->cut_back();
            if (e.code() == std::errc::no_space_on_device) {
                return no_room(req, i18n::text({"the county's disk is full; the chunk was not taken, try again later",
                                                "县级平台磁盘已满；数据块未被接收，请稍后再试"}));
            }
            return unavailable(req, e);
        };
        bool broken = false;
        for (;;) {
            auto piece = co_await body.next();
            if (!piece) {
                broken = true;
                break;
            }
            if (piece->empty()) break;
            if (file->written() + static_cast<int64_t>(piece->size()) > room) {
                file->cut_back();
                co_return beyond();
            }
            if (auto r = file->append(*piece); !r) co_return cannot_store(r.error());
            if (hasher) hasher->update(*piece);
        }
        if (broken) {
            // tus keeps what arrived of a chunk that broke off, unless a
            // checksum said what the whole chunk is: then nothing is taken.
            if (want || file->written() == 0) {
                file->cut_back();
                co_return refuse(req, http::status::bad_request, i18n::text({"the chunk broke off", "数据块传输中断"}));
            }
            log::info(lg, "a chunk of {} broke off after {} bytes; they are kept", u.id, file->written());
        } else if (want && hasher->finish_bytes() != want->digest) {
            file->cut_back();
            co_return refuse(
                req, static_cast<http::status>(tus::status_checksum_mismatch),
                i18n::text({"the chunk's checksum does not match; send it again", "数据块校验和不符；请重新发送"}));
        }
        if (int64_t n = file->written(); n > 0) {
            if (auto r = file->sync(); !r) co_return cannot_store(r.error());
            u.offset += n;
            if (auto r = db.upload_progress(u.id, u.offset, n, clock::wall_now().count()); !r) {
                co_return unavailable(req, r.error());
            }
        }
        if (u.offset == u.length) {
            guard.set.erase(u.id);
            co_return co_await finish(req, std::move(u));
        }
        auto res = answer(req, http::status::no_content);
        describe(res, u);
        res.prepare_payload();
        co_return res;
    }

    // Where a set's recordings are kept: DIR/SCHOOL/CLASSROOM#N, each part a
    // plain folder name; nullopt for a device id that cannot be one.
    std::optional<fs::path> folder_of(const std::string& device_id) const {
        auto slash = device_id.find('/');
        if (slash == std::string::npos) return std::nullopt;
        std::string school = device_id.substr(0, slash), room = device_id.substr(slash + 1);
        if (!safe_folder(school) || !safe_folder(room)) return std::nullopt;
        return options.dir / school / room;
    }

    // The last byte is in: the whole file against what the set said.
    asio::awaitable<response> finish(const request& req, upload u) {
        int64_t now = clock::wall_now().count();
        if (u.state == "uploading") {
            auto dir = folder_of(u.device_id);
            if (!dir) {
                co_return refuse(req, http::status::forbidden,
                                 i18n::format({"the set's name \"{}\" cannot be a folder; enrol it again under a "
                                               "school and classroom without / or a leading dot",
                                               "设备名“{}”不能用作目录；请以不含 / 且不以点开头的学校和教室名重新注册"},
                                              u.device_id));
            }
            checking.insert(u.id);
            auto path = partial_path(u.id);
            auto hash = [path] { return digest::sha256_file(path); };
            auto got = co_await run_on<result<std::string>>(hashing, std::move(hash));
            checking.erase(u.id);
            if (!got) co_return unavailable(req, got.error());
            if (*got != u.sha256) {
                log::warning(lg, "{}'s upload {} ({}) does not match its SHA-256 ({} held, {} said); it starts over",
                             u.device_id, u.id, u.filename, *got, u.sha256);
                if (auto r = write_chunk(path, 0, {}); !r) co_return unavailable(req, r.error());
                if (auto r = db.upload_restart(u.id, now); !r) co_return unavailable(req, r.error());
                u.offset = 0;
                auto res = refuse(req, static_cast<http::status>(tus::status_checksum_mismatch),
                                  i18n::text({"the whole recording does not match its SHA-256; it is received again "
                                              "from the start",
                                              "整个录像与其 SHA-256 不符；将从头重新接收"}));
                describe(res, u);
                co_return res;
            }
            std::error_code ec;
            auto final_path = *dir / u.filename;
            if (fs::exists(final_path, ec)) final_path = *dir / fmt::format("{}-{}", u.id, u.filename);
            // Recorded before the move: a crash in between is finished by settle().
            if (auto r = db.upload_checked(u.id, *got, final_path.string(), now); !r) {
                co_return unavailable(req, r.error());
            }
            u.state = "checked";
            u.received_sha256 = *got;
            u.path = final_path.string();
        }
        if (auto r = settle(u); !r) co_return unavailable(req, r.error());
        log::notice(lg, "{} uploaded {} in full ({} bytes, SHA-256 matches): {}", u.device_id, u.filename, u.length,
                    u.path);
        auto res = answer(req, http::status::no_content);
        describe(res, u);
        res.prepare_payload();
        co_return res;
    }

    // A checked upload into its place, and complete; again after a crash
    // does the same (the file is where the partial one was, or already moved).
    result<void> settle(upload& u) {
        fs::path to = u.path, from = partial_path(u.id);
        std::error_code ec;
        if (fs::exists(from, ec)) {
            fs::create_directories(to.parent_path(), ec);
            fs::rename(from, to, ec);
            if (ec) return errno_error(ec.value(), "rename", to.string());
            (void)sync_dir(to.parent_path());
        } else if (!fs::exists(to, ec)) {
            return error(std::make_error_code(std::errc::no_such_file_or_directory),
                         i18n::format({"the upload {} was checked but neither {} nor {} is there",
                                       "上传 {} 已校验，但 {} 和 {} 均不存在"},
                                      u.id, from.string(), to.string()));
        }
        if (auto r = db.upload_complete(u.id, clock::wall_now().count()); !r) return r.error();
        u.state = "complete";
        return {};
    }

    result<size_t> recover() {
        auto checked = db.uploads_in_state("checked");
        if (!checked) return checked.error();
        size_t done = 0;
        for (auto& u : *checked) {
            if (auto r = settle(u); !r) {
                log::error(lg, "finishing the upload {} of {}: {}", u.id, u.device_id, r.error().what());
                continue;
            }
            log::notice(lg, "finished the upload {} of {} that a stop had interrupted: {}", u.id, u.device_id, u.path);
            ++done;
        }
        return done;
    }
};

uploads::uploads(asio::any_io_executor ex, store& db, upload_options options)
    : impl_(std::make_unique<impl>(ex, db, std::move(options))) {}
uploads::~uploads() = default;

const upload_options& uploads::options() const noexcept { return impl_->options; }

result<size_t> uploads::recover() { return impl_->recover(); }

asio::awaitable<response> uploads::handle(const request& req, std::string peer, body_source& body) {
    return impl_->handle(req, std::move(peer), body);
}

}  // namespace bbt::county
