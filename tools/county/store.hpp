// bbt-county's database (SQLite, WAL): devices and their enrolment, every
// report once per (device, sequence), one-time enrolment codes, commands and
// their results.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/sqlite.hpp"
#include "bbt/protocol/county.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bbt::county {

// A certificate the county issued a set.
struct issued_certificate {
    std::string pem;
    int64_t serial = 0;
    int64_t not_after_us = 0;
};

struct enrolment {
    std::string device_id;
    std::string school;
    std::string classroom;
    bool again = false;  // a set enrolled before, keeping its device id
    issued_certificate certificate;
};

// Issues the certificate of an enrolment or renewal (called inside the
// store's transaction: when it fails, nothing is recorded or spent).
using issue_fn = std::function<result<issued_certificate>(const enrolment&)>;

// Where a set stands, and whether it had been retired before.
struct device_place {
    std::string school;
    std::string classroom;
    bool was_retired = false;
};

struct queued_command {
    std::string id;
    std::string device_id;
    std::string verb;
    std::string args;  // JSON object
    int64_t expires_us = 0;
};

// A document the county publishes, with its ETag.
struct published {
    std::string body;
    std::string etag;
};

// A recording a set uploads (tus): what it said of it, how far it has come,
// and what the county found once it had every byte.
struct upload {
    std::string id;
    std::string device_id;
    std::string filename;
    std::string lesson;
    std::string sha256;  // of the whole file, as the set says (hex)
    int64_t length = 0;
    int64_t offset = 0;  // bytes held, synced to disk
    int64_t started_us = 0;
    int64_t duration_ms = 0;
    // uploading; checked (every byte in and its SHA-256 matches, `path`
    // chosen, the file maybe not yet moved there); complete
    std::string state = "uploading";
    std::string received_sha256;  // of the bytes held, once complete
    int64_t received_bytes = 0;   // in accepted chunks, over the upload's life
    int64_t conflicts = 0;        // chunks refused for starting at the wrong offset
    int64_t mismatches = 0;       // times the whole file did not match, and started over
    int64_t created_us = 0;
    int64_t updated_us = 0;
    std::string path;  // where it is kept, once complete
};

// School and classroom names as a code is made for them: a set's device id
// is "SCHOOL/CLASSROOM#N", its certificate's common name (64 bytes at most)
// and the folders its recordings are kept in.
constexpr size_t max_place_bytes = 64 - 1 - 4;  // "/" and "#999"
[[nodiscard]] result<void> check_place_names(const std::string& school, const std::string& classroom);

class store {
public:
    [[nodiscard]] static result<store> open(const std::filesystem::path& path);

    // Stores a batch from `device_id` (each message once); returns the
    // ranges of sequence numbers of the batch that are now held.
    [[nodiscard]] result<std::vector<std::pair<int64_t, int64_t>>> ingest(const std::string& device_id,
                                                                          const protocol::county::batch& b,
                                                                          int64_t now_us);

    // A one-time code for a classroom, valid until `expires_us`.
    [[nodiscard]] result<std::string> new_code(const std::string& school, const std::string& classroom,
                                               int64_t expires_us);
    // Uses up a code: the identity the classroom's set gets, with the
    // certificate `issue` made for it, or an error saying why the code cannot
    // be used. A set that names its `previous_device_id`, enrolled before in
    // the code's classroom and not retired, keeps it (and its history).
    // Without `issue` no certificate is made (the store's own tests).
    [[nodiscard]] result<enrolment> redeem(const std::string& code, int64_t now_us,
                                           const std::string& previous_device_id = {}, const issue_fn& issue = {});
    // A new certificate for an enrolled set that is not retired.
    [[nodiscard]] result<issued_certificate> renew(const std::string& device_id, int64_t now_us, const issue_fn& issue);
    // Retires a set: every certificate of it is refused from now on. Where it
    // was (for a code for the set that replaces it).
    [[nodiscard]] result<device_place> retire(const std::string& device_id, int64_t now_us);
    [[nodiscard]] result<bool> retired(const std::string& device_id);

    [[nodiscard]] result<void> queue_command(const queued_command& c);
    // Commands for a device to send now: not expired, no result yet, and not
    // sent within `redeliver_after`; marked sent.
    [[nodiscard]] result<std::vector<queued_command>> take_commands(
        const std::string& device_id, int64_t now_us, std::chrono::seconds redeliver_after = std::chrono::seconds(60));

    [[nodiscard]] result<int64_t> count_reports(const std::string& device_id = {});
    // Deletes up to `limit` raw reports received before `before_us`, the
    // oldest first; how many. What the dashboard counts from them (usage,
    // power, alerts, lamps, inventory, readiness, recordings) stays.
    [[nodiscard]] result<int64_t> prune_reports(int64_t before_us, int64_t limit);

    // The courseware catalogue (checked as the sets read it); the number of
    // resources.
    [[nodiscard]] result<size_t> publish_catalogue(std::string_view json, int64_t now_us);
    [[nodiscard]] result<std::optional<published>> catalogue();
    // A classroom's timetable (iCalendar, checked as the sets read it); the
    // number of lessons in the coming year.
    [[nodiscard]] result<size_t> publish_timetable(const std::string& school, const std::string& classroom,
                                                   std::string_view ics, int64_t now_us);
    // The timetable of the classroom a device is enrolled in.
    [[nodiscard]] result<std::optional<published>> timetable_of(const std::string& device_id);
    [[nodiscard]] result<void> create_upload(const upload& u);
    [[nodiscard]] result<std::optional<upload>> find_upload(const std::string& id);
    // An upload of the same file (device, SHA-256, length) begun before: a
    // set that lost the answer to its creation request gets it back.
    [[nodiscard]] result<std::optional<upload>> find_upload(const std::string& device_id, const std::string& sha256,
                                                            int64_t length);
    // A chunk of `bytes` is on disk: the offset moves to `offset`.
    [[nodiscard]] result<void> upload_progress(const std::string& id, int64_t offset, int64_t bytes, int64_t now_us);
    [[nodiscard]] result<void> upload_conflict(const std::string& id);
    // The whole file matched and is to be kept at `path`: recorded before
    // it is moved there, so that a crash between the two is finished at start.
    [[nodiscard]] result<void> upload_checked(const std::string& id, const std::string& received_sha256,
                                              const std::string& path, int64_t now_us);
    [[nodiscard]] result<void> upload_complete(const std::string& id, int64_t now_us);
    // The whole file did not match: it starts again from 0.
    [[nodiscard]] result<void> upload_restart(const std::string& id, int64_t now_us);
    [[nodiscard]] result<void> delete_upload(const std::string& id);
    // Newest first.
    [[nodiscard]] result<std::vector<upload>> uploads(size_t limit = 1000);
    [[nodiscard]] result<std::vector<upload>> uploads_in_state(std::string_view state);
    // The lengths of a set's uploads not yet complete: what it has reserved.
    [[nodiscard]] result<int64_t> unfinished_bytes(const std::string& device_id);
    [[nodiscard]] sqlite::database& database() noexcept { return db_; }

private:
    // Brings the dashboard's tables up to date with a newly stored message.
    [[nodiscard]] result<void> apply(const std::string& device_id, const protocol::county::message& m);
    // Where a set is and whether it is retired; nothing for an unknown one.
    [[nodiscard]] result<std::optional<device_place>> place_of(const std::string& device_id);
    // A set's new certificate (renewed, or enrolled again).
    [[nodiscard]] result<void> record_renewal(const std::string& device_id, const issued_certificate& cert,
                                              int64_t now_us);
    // A prepared statement of the ingest path, kept for the next batch (reset).
    [[nodiscard]] result<sqlite::statement*> cached(std::string_view sql);
    explicit store(sqlite::database db) : db_(std::move(db)) {}
    sqlite::database db_;
    std::map<std::string, sqlite::statement, std::less<>> statements_;  // destroyed before db_
};

}  // namespace bbt::county
