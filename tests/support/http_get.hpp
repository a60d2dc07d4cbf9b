// A plain HTTP/1.1 request from a test to a server on loopback (the county's
// dashboard), answered whole. Beast underneath, in platform/beast.
#pragma once

#include <cstdint>
#include <string>

namespace bbt::test {

struct http_answer {
    unsigned status = 0;
    std::string content_type;
    std::string body;
    bool chunked = false;  // Transfer-Encoding: chunked
};

// `method` is GET, HEAD, POST ...; a server that does not answer throws.
[[nodiscard]] http_answer http_fetch(uint16_t port, const std::string& target, const std::string& method = "GET");

}  // namespace bbt::test
