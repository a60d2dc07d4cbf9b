// bbt-county's dashboard for the asset office, over plain HTTP on its own
// address (loopback by default: put it behind the county's reverse proxy and
// its login to reach it from other offices). Read-only.
//
//   GET /                     the dashboard (?lang=zh-CN|en, ?school=NAME)
//   GET /api/v1/overview      the same as JSON (?school=NAME)
//   GET /export/TABLE.csv     a table as CSV (?lang=, ?school=)
//   GET /healthz              "ok" while the database answers
//
// Without ?lang= the browser's Accept-Language decides, then the service's
// own locale.
#pragma once

#include "dashboard.hpp"
#include "store.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

namespace bbt::county {

struct web_options {
    std::string listen = "127.0.0.1";
    uint16_t port = 8080;
    dashboard_options dashboard;
};

// The language of a request: ?lang= first, then Accept-Language, then `fallback`.
[[nodiscard]] i18n::language request_language(std::string_view lang_param, std::string_view accept_language,
                                              i18n::language fallback) noexcept;

class web_server {
public:
    web_server(boost::asio::any_io_executor ex, store& db, web_options options);
    ~web_server();
    // Binds and starts accepting; the port actually bound (for port 0).
    [[nodiscard]] result<uint16_t> start();
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace bbt::county
