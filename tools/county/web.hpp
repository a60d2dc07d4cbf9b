// bbt-county's dashboard for the asset office, over plain HTTP on its own
// address (loopback by default: put it behind the county's reverse proxy for
// TLS to reach it from other offices). Read-only but for its own sessions.
// CSV exports are streamed (chunked) as their queries read them.
//
//   GET /                     the dashboard (?lang=zh-CN|en, ?school=NAME)
//   GET /api/v1/overview      the same as JSON (?school=NAME)
//   GET /export/TABLE.csv     a table as CSV (?lang=, ?school=)
//   GET /healthz              "ok" while the database answers (no account needed)
//   GET|POST /login           sign in (a form; ?token= a one-time link)
//   POST /logout              sign out
//
// Everything but /healthz and /login needs a signed-in account (a session
// cookie, HttpOnly and SameSite=Strict); a school's account sees its own
// school whatever ?school= says. Forms carry a CSRF token.
//
// Without ?lang= the browser's Accept-Language decides, then the service's
// own locale.
#pragma once

#include "bbt/base/error.hpp"
#include "dashboard.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace bbt::county {

struct web_options {
    std::string listen = "127.0.0.1";
    uint16_t port = 8080;
    dashboard_options dashboard;
    // Host names (or addresses) the dashboard is reached by, beyond
    // loopback's and the listen address: any other Host is refused (421),
    // so a page elsewhere cannot rebind a name to it.
    std::vector<std::string> hosts;
    std::chrono::seconds session_lifetime{12 * 3600};
};

// The language of a request: ?lang= first, then Accept-Language, then `fallback`.
[[nodiscard]] i18n::language request_language(std::string_view lang_param, std::string_view accept_language,
                                              i18n::language fallback) noexcept;

// The dashboard runs on a thread of its own with its own read-only
// connection to `database`, so that no page or export, however large, delays
// the agents' reports on the service's main thread.
class web_server {
public:
    web_server(std::filesystem::path database, web_options options);
    ~web_server();  // stops
    // Opens the database, binds and starts the dashboard's thread; the port
    // actually bound (for port 0).
    [[nodiscard]] result<uint16_t> start();
    // Closes the listener and ends the thread; safe to call twice.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace bbt::county
