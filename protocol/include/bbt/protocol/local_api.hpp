// The local API between bbt-agent and the programs at the set (bbtctl):
// JSON objects, one per line, over a Unix stream socket.
//
//   request:  {"id": 7, "method": "status", "params": {}}
//   response: {"id": 7, "result": {...}}
//          or {"id": 7, "error": {"code": "forbidden", "message": "..."}}
//
// The codec is pure (text in, values or an error out) and fuzzed.
#pragma once

#include "bbt/base/error.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bbt::protocol {

// Error codes that travel on the wire, by their stable names.
enum class api_errc {
    malformed = 1,   // "malformed": the line is not a valid message
    unknown_method,  // "unknown_method"
    forbidden,       // "forbidden": the peer is not allowed
    internal,        // "internal": the agent failed to serve a valid request
    too_large,       // "too_large": the line exceeds max_line_bytes
    unavailable,     // "unavailable": the service behind the method is not running
    refused,         // "refused": a party the agent asked on the caller's behalf (the county) said no
};

const std::error_category& api_category() noexcept;
std::error_code make_error_code(api_errc e) noexcept;
[[nodiscard]] std::string_view wire_name(api_errc e) noexcept;
[[nodiscard]] std::optional<api_errc> from_wire_name(std::string_view name) noexcept;

// Longest line either side accepts, newline excluded.
inline constexpr std::size_t max_line_bytes = 64 * 1024;

struct request {
    int64_t id = 0;
    std::string method;
    boost::json::object params;
};

struct response {
    int64_t id = 0;
    // Exactly one of these holds.
    std::optional<boost::json::value> result;
    std::optional<api_errc> error_code;
    std::string error_message;
};

[[nodiscard]] result<request> parse_request(std::string_view line);
[[nodiscard]] result<response> parse_response(std::string_view line);

// Serialised without the trailing newline.
[[nodiscard]] std::string serialize(const request& r);
[[nodiscard]] std::string serialize(const response& r);

}  // namespace bbt::protocol

template <>
struct std::is_error_code_enum<bbt::protocol::api_errc> : std::true_type {};
