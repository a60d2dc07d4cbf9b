// The courseware cache: a content-addressed store on disk (objects named by
// their SHA-256) with an index in SQLite. A file enters only through
// commit(), which verifies its hash; what did not verify is never served.
// Room is made by evicting the lowest priority, then the least recently used,
// never what is pinned (courseware of a coming lesson).
#pragma once

#include "bbt/base/error.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::media::cache {

enum class cache_errc {
    corrupt = 1,  // a file's hash or size is not the catalogue's
    no_room,      // quota or free disk space cannot hold it, even after eviction
    not_found,    // no such resource in the cache
};
const std::error_category& cache_category() noexcept;
std::error_code make_error_code(cache_errc e) noexcept;

// What the catalogue says of a resource.
struct resource {
    std::string id;
    std::string title;
    std::string subject;
    std::string grade;
    std::string type;  // video, audio, document, courseware ...
    std::string url;
    std::string sha256;  // lower-case hex
    int64_t size = 0;
    int priority = 0;  // higher stays longer
};

// What probing found of a stored file.
enum class playable : int8_t { unknown = -1, no = 0, yes = 1 };

struct item {
    resource res;
    std::string etag;
    int64_t last_used_us = 0;     // wall clock
    int64_t pinned_until_us = 0;  // 0: not pinned
    playable play = playable::unknown;
    std::string probe;  // JSON: format, duration, streams; or why it cannot be played
};

// What a sweep found and put right.
struct sweep_report {
    int objects_removed = 0;   // files no entry refers to (a commit cut short by a power cut)
    int entries_removed = 0;   // entries whose file is gone or has the wrong size
    int partials_removed = 0;  // partial downloads of nothing wanted any more
};

struct store_options {
    int64_t quota_bytes = int64_t{20} << 30;
    int64_t keep_free_bytes = int64_t{1} << 30;  // left free on the file system
};

// SHA-256 computed on a thread of its own while the caller goes on (a
// download hashes what it receives as it writes it). Feed in order; the
// digest is ready after finish().
class sha256_pipe {
public:
    sha256_pipe();
    ~sha256_pipe();
    sha256_pipe(const sha256_pipe&) = delete;
    sha256_pipe& operator=(const sha256_pipe&) = delete;
    // A buffer to fill (recycled once hashed); give it back with feed().
    [[nodiscard]] std::vector<char> buffer(size_t size);
    // Hashes `data` (its size is the byte count); waits while the queue is full.
    void feed(std::vector<char> data);
    // Hashes the first `bytes` of a file (a download resumed), in this thread.
    [[nodiscard]] result<void> feed_file(const std::filesystem::path& path, int64_t bytes);
    // Waits for everything fed; lower-case hex.
    [[nodiscard]] std::string finish();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

class store {
public:
    // Opens (creating) the store in `dir`: index.sqlite, objects/, partial/.
    [[nodiscard]] static result<std::unique_ptr<store>> open(const std::filesystem::path& dir, store_options options);
    ~store();

    // Where a download of `r` writes until it is committed.
    [[nodiscard]] std::filesystem::path partial_path(const resource& r) const;

    // Verifies the partial file of `r` (size and SHA-256); a match is synced,
    // renamed into the store and indexed, and its path returned. A mismatch
    // removes the partial file and is a `corrupt` error.
    // `hashed`: the SHA-256 of the partial file as its writer computed it
    // while writing (the file is then not read again); empty: hashed here.
    [[nodiscard]] result<std::filesystem::path> commit(const resource& r, std::string_view etag, int64_t now_us,
                                                       std::string_view hashed = {});

    // The stored file of a resource, marked as used now; nullopt when absent.
    // The use is written to the index by flush_usage() (or before eviction),
    // so that opening courseware costs no disk sync.
    [[nodiscard]] result<std::optional<std::filesystem::path>> get(std::string_view id, int64_t now_us);
    // Writes the uses noted by get() in one transaction.
    [[nodiscard]] result<void> flush_usage();

    // What probing found: kept with every entry of the same content.
    [[nodiscard]] result<void> set_probe(std::string_view sha256, playable p, std::string_view probe_json);
    // Where the thumbnail of a content goes (a JPEG).
    [[nodiscard]] std::filesystem::path thumbnail_path(std::string_view sha256) const;
    // Entries that have not been probed yet.
    [[nodiscard]] result<std::vector<item>> unprobed();

    // Puts the store right after a crash or power cut: objects without an
    // entry are removed, entries without their object are dropped, partial
    // downloads that `keep` does not name (by SHA-256) are removed.
    [[nodiscard]] result<sweep_report> sweep(const std::vector<std::string>& keep_partials);
    [[nodiscard]] result<std::optional<item>> find(std::string_view id);
    [[nodiscard]] result<std::vector<item>> list();
    [[nodiscard]] result<void> pin(std::string_view id, int64_t until_us);
    [[nodiscard]] result<void> evict(std::string_view id);

    // Bytes the stored objects take (each object once).
    [[nodiscard]] result<int64_t> used_bytes();
    // Makes room for `bytes` more: evicts what is not pinned at `now_us`,
    // lowest priority first, then least recently used, until the quota and
    // the file system's free space allow it; `no_room` when they cannot.
    [[nodiscard]] result<void> make_room(int64_t bytes, int64_t now_us);

    // Hashes every stored object again; those that no longer match are
    // removed with their entries. Returns the ids removed.
    [[nodiscard]] result<std::vector<std::string>> verify_all();

private:
    struct impl;
    explicit store(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace bbt::media::cache

template <>
struct std::is_error_code_enum<bbt::media::cache::cache_errc> : std::true_type {};
