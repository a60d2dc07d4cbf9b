// Recordings uploaded by the sets, over the tus 1.0 resumable upload protocol
// with its creation, checksum and termination extensions, on bbt-county's
// HTTPS server (the set's certificate says whose upload it is):
//
//   OPTIONS /v1/uploads        what the server supports
//   POST    /v1/uploads        Upload-Length and Upload-Metadata ("filename",
//                              "sha256" of the whole file in hex, "lesson",
//                              "started_us", "duration_ms") -> 201, Location;
//                              the same file again gets the same upload
//   HEAD    /v1/uploads/ID     Upload-Offset: how much is held, synced to disk
//   PATCH   /v1/uploads/ID     a chunk at Upload-Offset, with Upload-Checksum
//                              (sha256 or sha1); 409 at any other offset, 460
//                              when the chunk's checksum does not match
//   DELETE  /v1/uploads/ID     an unfinished upload is dropped
//
// A chunk is written to disk as it arrives (never held whole) and synced
// before its offset is recorded, so an offset the county answered is never
// lost; a chunk whose checksum fails, or that breaks off while it carries
// one, is cut off again. When the last byte is in, the county hashes the
// whole file: a match is recorded ("checked", with the place it is to be
// kept, DIR/SCHOOL/CLASSROOM#N/), then the file is moved there and the
// upload is complete; X-BBT-SHA256 is answered (also on HEAD from then on),
// which is what lets the set delete its copy. A mismatch starts the upload
// again from 0 and answers 460. A crash between the check and the move is
// finished at start (recover()).
//
// Limits: one recording at most `max_bytes`; a set's unfinished uploads
// together at most `set_quota` (413 beyond); a new upload needs its length
// plus `min_free` free on the disk (507 Insufficient Storage otherwise, and
// for a chunk the disk cannot take).
#pragma once

#include "store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace bbt::county {

struct upload_options {
    std::filesystem::path dir;               // where recordings are kept
    int64_t max_bytes = int64_t{64} << 30;   // the largest recording taken
    size_t max_chunk = size_t{64} << 20;     // the largest PATCH body
    int64_t set_quota = int64_t{128} << 30;  // a set's unfinished uploads together
    int64_t min_free = int64_t{1} << 30;     // kept free on the recordings' disk
};

// A request's body as it arrives, piece by piece.
class body_source {
public:
    virtual ~body_source() = default;
    // The next piece, valid until the next call; empty once the body has
    // ended; an error when the connection broke or a read timed out.
    virtual boost::asio::awaitable<result<std::string_view>> next() = 0;
};

class uploads {
public:
    uploads(boost::asio::any_io_executor ex, store& db, upload_options options);
    ~uploads();

    [[nodiscard]] const upload_options& options() const noexcept;
    // Finishes what a crash left between an upload's check and its move
    // into place; the uploads it completed.
    [[nodiscard]] result<size_t> recover();
    // Answers a request to /v1/uploads...; `peer` is the certificate's name
    // (empty without one). Only a PATCH reads `body`; a request answered
    // before its body was read in full leaves the rest unread.
    boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> handle(
        const boost::beast::http::request<boost::beast::http::empty_body>& req, std::string peer, body_source& body);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace bbt::county
