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
// A chunk is on disk (fdatasync) before its offset is recorded, so an offset
// the county answered is never lost. When the last byte is in, the county
// hashes the whole file: a match keeps it under DIR/DEVICE/ and answers
// X-BBT-SHA256 (also on HEAD from then on), which is what lets the set delete
// its copy; a mismatch starts the upload again from 0 and answers 460.
#pragma once

#include "store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace bbt::county {

struct upload_options {
    std::filesystem::path dir;              // where recordings are kept
    int64_t max_bytes = int64_t{64} << 30;  // the largest recording taken
    size_t max_chunk = size_t{64} << 20;    // the largest PATCH body
};

class uploads {
public:
    uploads(boost::asio::any_io_executor ex, store& db, upload_options options);
    ~uploads();

    [[nodiscard]] const upload_options& options() const noexcept;
    // Answers a request to /v1/uploads...; `peer` is the certificate's name
    // (empty without one).
    boost::asio::awaitable<boost::beast::http::response<boost::beast::http::string_body>> handle(
        boost::beast::http::request<boost::beast::http::string_body> req, std::string peer);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace bbt::county
