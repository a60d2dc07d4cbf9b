// What bbtctl's commands share: options, exit codes, one request to the
// agent, errors reported to people or scripts.
#pragma once

#include "client.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bbtctl {

// Exit codes, documented in docs/man/bbtctl.md.
enum exit_code : int {
    exit_ok = 0,
    exit_failed = 1,       // the agent answered with an error, or a check failed
    exit_usage = 2,        // bad command line
    exit_not_running = 3,  // no agent on the socket
    exit_forbidden = 4,    // the agent (or the socket's permissions) refused this user
    exit_no_answer = 5,    // timeout or an invalid answer
};

struct options {
    std::filesystem::path socket = default_socket();
    bool json = false;
    std::chrono::milliseconds timeout{5000};
    std::vector<std::string_view> args;
};

// Prints the error (as JSON with --json) and returns its exit code.
int report(const bbt::error& e, const options& opt);

// One request; the answer's result object, or an error (the agent's own, or
// of the connection) to report().
[[nodiscard]] bbt::result<boost::json::object> request(const options& opt, const std::string& method,
                                                       boost::json::object params, std::chrono::milliseconds timeout);

// Sends one request; prints the answer as JSON or through `print`.
int run_request(const options& opt, const std::string& method, boost::json::object params,
                void (*print)(const boost::json::object&));

[[nodiscard]] std::string str(const boost::json::object& o, std::string_view key);
[[nodiscard]] double num(const boost::json::object& o, std::string_view key);
[[nodiscard]] bool flag(const boost::json::object& o, std::string_view key);

}  // namespace bbtctl
