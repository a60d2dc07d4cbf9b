// bbtctl's connection to the agent's local API.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/protocol/local_api.hpp"

#include <chrono>
#include <filesystem>
#include <string>

namespace bbtctl {

enum class client_errc {
    not_running = 1,  // no agent listens on the socket
    no_access,        // the socket exists but may not be opened by this user
    forbidden,        // the agent refused this user
    timeout,          // the agent did not answer in time
    protocol,         // the answer was not a valid message
    failed,           // the agent answered with an error
};
const std::error_category& client_category() noexcept;
std::error_code make_error_code(client_errc e) noexcept;

// Sends one request and waits for its response, within `timeout`.
[[nodiscard]] bbt::result<bbt::protocol::response> call(const std::filesystem::path& socket,
                                                        const bbt::protocol::request& req,
                                                        std::chrono::milliseconds timeout);

// The socket to use: --socket, else $BBT_SOCKET, else the agent's default.
[[nodiscard]] std::filesystem::path default_socket();

}  // namespace bbtctl

template <>
struct std::is_error_code_enum<bbtctl::client_errc> : std::true_type {};
