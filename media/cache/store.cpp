#include "bbt/base/i18n.hpp"
#include "bbt/base/sqlite.hpp"
#include "bbt/media/cache.hpp"

#include "bbt/base/digest.hpp"
#include "bbt/base/unique_fd.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace bbt::media::cache {
namespace {

namespace fs = std::filesystem;

class cache_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.cache"; }
    std::string message(int ev) const override {
        switch (static_cast<cache_errc>(ev)) {
            case cache_errc::corrupt: return "file does not match its catalogue entry";
            case cache_errc::no_room: return "no room in the cache";
            case cache_errc::not_found: return "not in the cache";
        }
        return "unknown bbt.cache error";
    }
};

constexpr sqlite::migration migrations[] = {
    {1,
     "CREATE TABLE items(id TEXT PRIMARY KEY, title TEXT NOT NULL, subject TEXT NOT NULL, grade TEXT NOT NULL,"
     " type TEXT NOT NULL, url TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
     " priority INTEGER NOT NULL DEFAULT 0, etag TEXT NOT NULL DEFAULT '', last_used INTEGER NOT NULL DEFAULT 0,"
     " pinned_until INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX items_sha256 ON items(sha256);"},
    {2,
     "ALTER TABLE items ADD COLUMN playable INTEGER NOT NULL DEFAULT -1;"
     "ALTER TABLE items ADD COLUMN probe TEXT NOT NULL DEFAULT '';"},
};

result<void> fsync_path(const fs::path& p, bool directory) {
    int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, i18n::text({"opening to sync", "打开以同步"}), p.string());
    unique_fd c{fd};
    if (::fsync(fd) != 0) return errno_error(errno, i18n::text({"syncing to disk", "同步到磁盘"}), p.string());
    return {};
}

item item_from(const sqlite::statement& st) {
    item it;
    it.res.id = st.column_text(0);
    it.res.title = st.column_text(1);
    it.res.subject = st.column_text(2);
    it.res.grade = st.column_text(3);
    it.res.type = st.column_text(4);
    it.res.url = st.column_text(5);
    it.res.sha256 = st.column_text(6);
    it.res.size = st.column_int64(7);
    it.res.priority = static_cast<int>(st.column_int64(8));
    it.etag = st.column_text(9);
    it.last_used_us = st.column_int64(10);
    it.pinned_until_us = st.column_int64(11);
    it.play = static_cast<playable>(st.column_int64(12));
    it.probe = st.column_text(13);
    return it;
}

constexpr const char* item_columns =
    "id, title, subject, grade, type, url, sha256, size, priority, etag, last_used, pinned_until, playable, probe";

bool valid_sha256(std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

const std::error_category& cache_category() noexcept {
    static const cache_category_impl c;
    return c;
}

std::error_code make_error_code(cache_errc e) noexcept { return {static_cast<int>(e), cache_category()}; }

struct sha256_pipe::impl {
    digest::hasher hash;  // touched by the worker, or by the caller once drained
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::vector<char>> queue;
    std::vector<std::vector<char>> spare;
    bool busy = false;
    bool done = false;
    std::thread worker;

    static constexpr size_t max_queued = 8;

    impl() : worker([this] { run(); }) {}
    void run() {
        std::unique_lock lock(m);
        for (;;) {
            cv.wait(lock, [&] { return done || !queue.empty(); });
            if (queue.empty()) return;
            auto data = std::move(queue.front());
            queue.pop_front();
            busy = true;
            lock.unlock();
            hash.update(data.data(), data.size());
            lock.lock();
            busy = false;
            spare.push_back(std::move(data));
            cv.notify_all();
        }
    }
    void drain() {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return queue.empty() && !busy; });
    }
};

sha256_pipe::sha256_pipe() : impl_(std::make_unique<impl>()) {}

sha256_pipe::~sha256_pipe() {
    {
        std::lock_guard lock(impl_->m);
        impl_->done = true;
        impl_->queue.clear();
    }
    impl_->cv.notify_all();
    impl_->worker.join();
}

std::vector<char> sha256_pipe::buffer(size_t size) {
    std::vector<char> b;
    {
        std::lock_guard lock(impl_->m);
        if (!impl_->spare.empty()) {
            b = std::move(impl_->spare.back());
            impl_->spare.pop_back();
        }
    }
    b.resize(size);
    return b;
}

void sha256_pipe::feed(std::vector<char> data) {
    std::unique_lock lock(impl_->m);
    impl_->cv.wait(lock, [&] { return impl_->queue.size() < impl::max_queued; });
    impl_->queue.push_back(std::move(data));
    impl_->cv.notify_all();
}

result<void> sha256_pipe::feed_file(const fs::path& path, int64_t bytes) {
    impl_->drain();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, i18n::text({"opening a file to verify it", "打开文件以校验"}), path.string());
    unique_fd c{fd};
    std::vector<char> buf(1 << 20);
    while (bytes > 0) {
        ssize_t n = ::read(fd, buf.data(), static_cast<size_t>(std::min<int64_t>(bytes, 1 << 20)));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            return errno_error(n < 0 ? errno : EIO, i18n::text({"reading a file to verify it", "读取文件以校验"}),
                               path.string());
        }
        impl_->hash.update(buf.data(), static_cast<size_t>(n));
        bytes -= n;
    }
    return {};
}

std::string sha256_pipe::finish() {
    impl_->drain();
    return impl_->hash.finish_hex();
}

struct store::impl {
    fs::path dir;
    store_options options;
    sqlite::database db;
    std::map<std::string, int64_t, std::less<>> uses;  // id -> last use, not yet written

    fs::path object_path(std::string_view sha) const { return dir / "objects" / sha.substr(0, 2) / sha; }

    result<void> remove_object_if_unused(const std::string& sha) {
        auto st = db.prepare("SELECT count(*) FROM items WHERE sha256 = ?");
        if (!st) return st.error();
        st->bind(1, sha);
        if (auto r = st->step(); !r) return r.error();
        if (st->column_int64(0) > 0) return {};
        std::error_code ec;
        fs::remove(object_path(sha), ec);
        fs::remove(dir / "thumbs" / (sha + ".jpg"), ec);
        return {};
    }

    // The entries that `where` (an SQL WHERE clause, or empty) selects, by id.
    result<std::vector<item>> items(std::string_view where) {
        auto st = db.prepare(fmt::format("SELECT {} FROM items {} ORDER BY id", item_columns, where));
        if (!st) return st.error();
        std::vector<item> out;
        for (;;) {
            auto row = st->step();
            if (!row) return row.error();
            if (!*row) break;
            out.push_back(item_from(*st));
        }
        return out;
    }

    result<void> remove_entry(const std::string& id, const std::string& sha) {
        auto del = db.prepare("DELETE FROM items WHERE id = ?");
        if (!del) return del.error();
        del->bind(1, id);
        if (auto r = del->run(); !r) return r.error();
        return remove_object_if_unused(sha);
    }
};

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
store::~store() {
    if (impl_) (void)flush_usage();
}

result<std::unique_ptr<store>> store::open(const fs::path& dir, store_options options) {
    std::error_code ec;
    for (const auto& d : {dir, dir / "objects", dir / "partial", dir / "thumbs"}) {
        fs::create_directories(d, ec);
        if (ec) {
            return errno_error(ec.value(), i18n::text({"creating the courseware cache", "创建课件缓存"}), d.string());
        }
    }
    auto db = sqlite::database::open(dir / "index.sqlite");
    if (!db) return db.error();
    if (auto r = db->migrate(migrations); !r) return r.error();
    auto p = std::make_unique<impl>(impl{dir, options, std::move(*db), {}});
    return std::unique_ptr<store>(new store(std::move(p)));
}

fs::path store::partial_path(const resource& r) const { return impl_->dir / "partial" / (r.sha256 + ".part"); }

result<fs::path> store::commit(const resource& r, std::string_view etag, int64_t now_us, std::string_view hashed) {
    if (!valid_sha256(r.sha256)) {
        return error(cache_errc::corrupt,
                     i18n::format({"the catalogue's SHA-256 of {} is not 64 hex digits; ask the county to fix the "
                                   "catalogue",
                                   "目录中 {} 的 SHA-256 不是 64 位十六进制数；请联系县级平台修正目录"},
                                  r.id));
    }
    auto partial = partial_path(r);
    std::error_code ec;
    auto size = fs::file_size(partial, ec);
    if (ec) return errno_error(ec.value(), i18n::text({"reading a download", "读取下载文件"}), partial.string());
    auto reject = [&](std::string what) -> error {
        fs::remove(partial, ec);
        return error(cache_errc::corrupt, what, r.id);
    };
    if (static_cast<int64_t>(size) != r.size) {
        return reject(i18n::format({"the download has {} bytes, the catalogue says {}; it is discarded and fetched "
                                    "again",
                                    "下载文件为 {} 字节，目录为 {} 字节；已丢弃并将重新下载"},
                                   size, r.size));
    }
    auto sha = hashed.empty() ? digest::sha256_file(partial) : result<std::string>(std::string(hashed));
    if (!sha) return sha.error();
    if (*sha != r.sha256) {
        return reject(i18n::format({"the download's SHA-256 is {}, the catalogue says {}; it is discarded and "
                                    "fetched again",
                                    "下载文件的 SHA-256 为 {}，目录为 {}；已丢弃并将重新下载"},
                                   *sha, r.sha256));
    }
    auto object = impl_->object_path(r.sha256);
    fs::create_directories(object.parent_path(), ec);
    if (auto s = fsync_path(partial, false); !s) return s.error();
    if (fs::exists(object)) {
        fs::remove(partial, ec);  // the same content is already stored
    } else {
        fs::rename(partial, object, ec);
        if (ec) return errno_error(ec.value(), i18n::text({"storing a download", "保存下载文件"}), object.string());
        if (auto s = fsync_path(object.parent_path(), true); !s) return s.error();
    }
    auto old = find(r.id);
    if (!old) return old.error();
    auto st = impl_->db.prepare(
        "INSERT INTO items(id, title, subject, grade, type, url, sha256, size, priority, etag, last_used) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET title = excluded.title, "
        "subject = excluded.subject, grade = excluded.grade, type = excluded.type, url = excluded.url, "
        "sha256 = excluded.sha256, size = excluded.size, priority = excluded.priority, etag = excluded.etag, "
        "last_used = excluded.last_used");
    if (!st) return st.error();
    st->bind_all(r.id, r.title, r.subject, r.grade, r.type, r.url, r.sha256, r.size, r.priority, etag, now_us);
    if (auto x = st->run(); !x) return x.error();
    // A resource whose content changed leaves its old object, if nothing else uses it.
    if (*old && (*old)->res.sha256 != r.sha256) {
        if (auto x = impl_->remove_object_if_unused((*old)->res.sha256); !x) return x.error();
    }
    return object;
}

result<std::optional<item>> store::find(std::string_view id) {
    auto st = impl_->db.prepare(fmt::format("SELECT {} FROM items WHERE id = ?", item_columns));
    if (!st) return st.error();
    st->bind(1, id);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<item>{};
    item it = item_from(*st);
    if (auto use = impl_->uses.find(id); use != impl_->uses.end()) {
        it.last_used_us = std::max(it.last_used_us, use->second);  // noted, not written yet
    }
    return std::optional<item>{std::move(it)};
}

result<std::optional<fs::path>> store::get(std::string_view id, int64_t now_us) {
    auto it = find(id);
    if (!it) return it.error();
    if (!*it) return std::optional<fs::path>{};
    auto path = impl_->object_path((*it)->res.sha256);
    std::error_code ec;
    // A fast check on the way to the screen; the full hash is verify_all's, in idle time.
    if (fs::file_size(path, ec) != static_cast<uintmax_t>((*it)->res.size) || ec) {
        if (auto r = impl_->remove_entry((*it)->res.id, (*it)->res.sha256); !r) return r.error();
        return std::optional<fs::path>{};
    }
    impl_->uses.insert_or_assign(std::string(id), now_us);
    return std::optional<fs::path>{path};
}

result<void> store::flush_usage() {
    if (impl_->uses.empty()) return {};
    auto tx = sqlite::transaction::begin(impl_->db);
    if (!tx) return tx.error();
    auto st = impl_->db.prepare("UPDATE items SET last_used = max(last_used, ?) WHERE id = ?");
    if (!st) return st.error();
    for (const auto& [id, at] : impl_->uses) {
        st->reset();
        st->bind_all(at, id);
        if (auto r = st->run(); !r) return r.error();
    }
    if (auto r = tx->commit(); !r) return r.error();
    impl_->uses.clear();
    return {};
}

result<void> store::set_probe(std::string_view sha256, playable p, std::string_view probe_json) {
    auto st = impl_->db.prepare("UPDATE items SET playable = ?, probe = ? WHERE sha256 = ?");
    if (!st) return st.error();
    st->bind_all(static_cast<int64_t>(p), probe_json, sha256);
    return st->run();
}

fs::path store::thumbnail_path(std::string_view sha256) const {
    return impl_->dir / "thumbs" / (std::string(sha256) + ".jpg");
}

result<std::vector<item>> store::unprobed() { return impl_->items("WHERE playable = -1"); }

result<sweep_report> store::sweep(const std::vector<std::string>& keep_partials) {
    sweep_report rep;
    auto all = list();
    if (!all) return all.error();
    std::set<std::string, std::less<>> wanted;
    for (const auto& it : *all) {
        std::error_code ec;
        auto size = fs::file_size(impl_->object_path(it.res.sha256), ec);
        if (ec || size != static_cast<uintmax_t>(it.res.size)) {
            if (auto r = impl_->remove_entry(it.res.id, it.res.sha256); !r) return r.error();
            ++rep.entries_removed;
            continue;
        }
        wanted.insert(it.res.sha256);
    }
    std::error_code ec;
    for (auto d = fs::recursive_directory_iterator(impl_->dir / "objects", ec); !ec && d != fs::end(d);
         d.increment(ec)) {
        if (!d->is_regular_file(ec)) continue;
        if (!wanted.contains(d->path().filename().string())) {
            fs::remove(d->path(), ec);
            ++rep.objects_removed;
        }
    }
    for (auto d = fs::directory_iterator(impl_->dir / "thumbs", ec); !ec && d != fs::end(d); d.increment(ec)) {
        if (!wanted.contains(d->path().stem().string())) fs::remove(d->path(), ec);
    }
    std::set<std::string, std::less<>> keep(keep_partials.begin(), keep_partials.end());
    for (auto d = fs::directory_iterator(impl_->dir / "partial", ec); !ec && d != fs::end(d); d.increment(ec)) {
        // <sha>.part and <sha>.part.etag
        auto name = d->path().filename().string();
        auto sha = name.substr(0, name.find('.'));
        if (keep.contains(sha)) continue;
        fs::remove(d->path(), ec);
        if (name.ends_with(".part")) ++rep.partials_removed;
    }
    return rep;
}

result<std::vector<item>> store::list() {
    if (auto f = flush_usage(); !f) return f.error();
    return impl_->items("");
}

result<void> store::pin(std::string_view id, int64_t until_us) {
    auto st = impl_->db.prepare("UPDATE items SET pinned_until = ? WHERE id = ?");
    if (!st) return st.error();
    st->bind_all(until_us, id);
    if (auto r = st->run(); !r) return r.error();
    if (impl_->db.changes() == 0) {
        return error(cache_errc::not_found, i18n::text({"no such resource in the cache", "缓存中没有该资源"}), id);
    }
    return {};
}

result<void> store::evict(std::string_view id) {
    auto it = find(id);
    if (!it) return it.error();
    if (!*it)
        return error(cache_errc::not_found, i18n::text({"no such resource in the cache", "缓存中没有该资源"}), id);
    return impl_->remove_entry((*it)->res.id, (*it)->res.sha256);
}

result<int64_t> store::used_bytes() {
    auto st = impl_->db.prepare("SELECT coalesce(sum(size), 0) FROM (SELECT DISTINCT sha256, size FROM items)");
    if (!st) return st.error();
    if (auto r = st->step(); !r) return r.error();
    return st->column_int64(0);
}

result<void> store::make_room(int64_t bytes, int64_t now_us) {
    if (auto f = flush_usage(); !f) return f.error();
    auto fits = [&]() -> result<bool> {
        auto used = used_bytes();
        if (!used) return used.error();
        struct statvfs fsinfo {};
        if (::statvfs(impl_->dir.c_str(), &fsinfo) != 0) {
            return errno_error(errno, i18n::text({"reading the free disk space", "读取磁盘剩余空间"}),
                               impl_->dir.string());
        }
        int64_t free_bytes = static_cast<int64_t>(fsinfo.f_bavail) * static_cast<int64_t>(fsinfo.f_frsize);
        return *used + bytes <= impl_->options.quota_bytes && free_bytes - bytes >= impl_->options.keep_free_bytes;
    };
    for (;;) {
        auto ok = fits();
        if (!ok) return ok.error();
        if (*ok) return {};
        std::string id, sha;
        {
            auto st = impl_->db.prepare(
                "SELECT id, sha256 FROM items WHERE pinned_until <= ? ORDER BY priority ASC, last_used ASC LIMIT 1");
            if (!st) return st.error();
            st->bind(1, now_us);
            auto row = st->step();
            if (!row) return row.error();
            if (*row) {
                id = st->column_text(0);
                sha = st->column_text(1);
            }
        }
        if (id.empty()) {
            auto used = used_bytes();
            return error(
                cache_errc::no_room,
                i18n::format({"{} bytes do not fit: the cache holds {} of its {} bytes in pinned courseware "
                              "and the disk must keep {} bytes free; raise the quota or free the disk",
                              "{0} 字节放不下：缓存配额 {2} 字节中已有 {1} 字节为锁定课件，且磁盘须保留 {3} "
                              "字节空闲；请提高配额或清理磁盘"},
                             bytes, used ? *used : 0, impl_->options.quota_bytes, impl_->options.keep_free_bytes));
        }
        if (auto r = impl_->remove_entry(id, sha); !r) return r.error();
    }
}

result<std::vector<std::string>> store::verify_all() {
    auto all = list();
    if (!all) return all.error();
    std::vector<std::string> removed;
    for (const auto& it : *all) {
        auto sha = digest::sha256_file(impl_->object_path(it.res.sha256));
        if (sha && *sha == it.res.sha256) continue;
        if (auto r = impl_->remove_entry(it.res.id, it.res.sha256); !r) return r.error();
        removed.push_back(it.res.id);
    }
    return removed;
}

}  // namespace bbt::media::cache
