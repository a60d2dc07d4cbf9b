// A plain HTTP/1.1 request from a test to a server on loopback (the county's
// dashboard), answered whole. Beast underneath, in platform/beast.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bbt::test {

using http_headers = std::vector<std::pair<std::string, std::string>>;

struct http_answer {
    unsigned status = 0;
    std::string content_type;
    std::string body;
    bool chunked = false;  // Transfer-Encoding: chunked
    http_headers headers;  // all of them, as received
    // A header's value (the name in any case); empty when absent.
    [[nodiscard]] std::string header(std::string_view name) const;
};

// `method` is GET, HEAD, POST ...; a server that does not answer throws.
// Host: 127.0.0.1 unless `headers` name another.
[[nodiscard]] http_answer http_fetch(uint16_t port, const std::string& target, const std::string& method = "GET",
                                     const http_headers& headers = {}, const std::string& body = {});

// Signs in to the county's dashboard as a browser would (the form, its CSRF
// cookie, the post): the Cookie header value of the session; empty when refused.
[[nodiscard]] std::string dashboard_sign_in(uint16_t port, const std::string& name, const std::string& password);

}  // namespace bbt::test
