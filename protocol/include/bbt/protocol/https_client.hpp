// HTTPS requests to the county: TLS 1.3 only, the server verified against
// the county CA and its host name, and this set's certificate presented
// when it has one (mutual TLS). Boost.Beast over Asio's OpenSSL stream.
#pragma once

#include "bbt/base/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bbt::protocol {

struct tls_identity {
    std::string ca_pem;    // the county CA: the only trust anchor
    std::string cert_pem;  // this set's certificate; empty before enrolment
    std::string key_pem;
};

struct https_request {
    std::string url;  // https://host[:port]/path
    std::string content_type = "application/json";
    std::string content_encoding;  // "gzip" or empty
    std::string body;
    std::string if_none_match;  // GET: the ETag of the copy kept; an unchanged resource answers 304
    std::chrono::milliseconds timeout{30'000};
    // https_send only: the method ("HEAD", "PATCH", "DELETE", "OPTIONS" ...)
    // and further request headers. The body goes with any method but GET and HEAD.
    std::string method;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct https_response {
    unsigned status = 0;
    std::string body;
    std::string content_encoding;
    std::string etag;
    std::optional<int64_t> retry_after_s;
    std::vector<std::pair<std::string, std::string>> headers;  // all of them, as received
    // A header's value (the name in any case); empty when absent.
    [[nodiscard]] std::string_view header(std::string_view name) const;
};

enum class https_errc {
    bad_url = 1,       // not an https URL
    connect,           // no connection (DNS, refused, unreachable, timeout)
    server_untrusted,  // the county's certificate is not from the county CA, expired, or for another name
    client_refused,    // the county refused this set's certificate in the handshake
    io,                // the connection broke or timed out mid-request
};
const std::error_category& https_category() noexcept;
std::error_code make_error_code(https_errc e) noexcept;

[[nodiscard]] boost::asio::awaitable<result<https_response>> https_post(boost::asio::any_io_executor ex,
                                                                        const tls_identity& tls,
                                                                        const https_request& request);
// The same, as a GET (the body is not sent).
[[nodiscard]] boost::asio::awaitable<result<https_response>> https_get(boost::asio::any_io_executor ex,
                                                                       const tls_identity& tls,
                                                                       const https_request& request);

// Any method, as `request.method` says.
[[nodiscard]] boost::asio::awaitable<result<https_response>> https_send(boost::asio::any_io_executor ex,
                                                                        const tls_identity& tls,
                                                                        const https_request& request);

}  // namespace bbt::protocol

template <>
struct std::is_error_code_enum<bbt::protocol::https_errc> : std::true_type {};
