// The services' own errors: what went wrong, in each part's terms. The local
// API's wire codes (protocol::api_errc) are not a service's vocabulary: the
// routes map these to them (api_routes.cpp), in one place.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/protocol/local_api.hpp"

#include <string>
#include <system_error>

namespace bbt::agent {

// The usage ledger and outbox (ledger_service).
enum class ledger_errc {
    not_open = 1,  // before start() or after stop(): nothing can be read or written
};

// The whiteboard (whiteboard_service).
enum class whiteboard_errc {
    not_connected = 1,  // no board is there now
    busy,               // a recording of the board is running already
    bad_request,        // an action, a number of points or a duration it does not take
};

// The county link (county_service).
enum class county_errc {
    not_configured = 1,  // no county.url
    bad_request,         // no or a malformed enrolment code
    refused,             // the county said no
    bad_answer,          // the county answered what cannot be read
};

const std::error_category& ledger_category() noexcept;
const std::error_category& whiteboard_category() noexcept;
const std::error_category& county_category() noexcept;
std::error_code make_error_code(ledger_errc e) noexcept;
std::error_code make_error_code(whiteboard_errc e) noexcept;
std::error_code make_error_code(county_errc e) noexcept;

// The local API's wire code for an error of any part (api_routes.cpp): the
// one place where the services' vocabulary meets the wire's.
[[nodiscard]] protocol::api_errc wire_code(const error& e);

}  // namespace bbt::agent

template <>
struct std::is_error_code_enum<bbt::agent::ledger_errc> : std::true_type {};
template <>
struct std::is_error_code_enum<bbt::agent::whiteboard_errc> : std::true_type {};
template <>
struct std::is_error_code_enum<bbt::agent::county_errc> : std::true_type {};
