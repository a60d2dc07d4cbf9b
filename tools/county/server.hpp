// bbt-county's HTTPS server: TLS 1.3, devices identified by the certificate
// the county CA gave them (mutual TLS), enrolment by one-time code.
//
//   POST /v1/enrol    {"code", "csr"} -> {"device_id", "certificate", "ca", "command_key"}
//                     (no client certificate yet)
//   POST /v1/reports  a batch (gzip) -> a reply: acknowledged sequence ranges and
//                     signed commands (client certificate required, its name
//                     must be the batch's device_id)
//   GET  /v1/catalogue  the courseware catalogue (JSON), with a strong ETag;
//                     304 for If-None-Match of the current one
//   GET  /v1/timetable  the timetable (iCalendar) of the classroom the
//                     certificate's device is enrolled in, likewise
//   /v1/uploads       recordings, over tus 1.0 (see uploads.hpp)
#pragma once

#include "store.hpp"
#include "uploads.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace bbt::county {

// The county's keys and certificates, as `bbt-county init` makes them.
struct pki_files {
    std::string ca_cert, ca_key;          // the county CA
    std::string server_cert, server_key;  // this server, signed by the CA
    std::string command_key;              // Ed25519, signs commands

    [[nodiscard]] static result<pki_files> load(const std::filesystem::path& dir);
    // Makes them: a CA, a server certificate for `host_names`, a command key.
    [[nodiscard]] static result<pki_files> create(const std::filesystem::path& dir,
                                                  const std::vector<std::string>& host_names);
};

struct server_options {
    std::string listen = "127.0.0.1";
    uint16_t port = 8443;
    std::chrono::seconds certificate_validity{365 * 24 * 3600};
    std::chrono::seconds command_validity{600};
    // Each read (the TLS handshake, a request's header, every piece of its
    // body) and each answer's write must end within this; a slower client
    // is dropped, an idle connection closed.
    std::chrono::seconds read_timeout{30};
    // Raw reports older than this are deleted (hourly, in small batches);
    // zero keeps them forever.
    std::chrono::hours keep_reports{24 * 400};
    upload_options uploads;  // recordings (tus), at /v1/uploads
};

class server {
public:
    server(boost::asio::any_io_executor ex, store& db, pki_files pki, server_options options);
    ~server();
    // Binds and starts accepting; the port actually bound (for port 0).
    [[nodiscard]] result<uint16_t> start();
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace bbt::county
