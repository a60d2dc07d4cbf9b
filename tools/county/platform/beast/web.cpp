#include "web.hpp"

#include "listener.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/log.hpp"
#include "bbt/protocol/json_text.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace bbt::county {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

const log::category lg{"county"};

}  // namespace

i18n::language request_language(std::string_view lang_param, std::string_view accept_language,
                                i18n::language fallback) noexcept {
    auto is_zh = [](std::string_view s) { return s.size() >= 2 && (s[0] | 0x20) == 'z' && (s[1] | 0x20) == 'h'; };
    if (!lang_param.empty()) return is_zh(lang_param) ? i18n::language::zh : i18n::language::en;
    // The first language the browser names decides (its order is the user's).
    size_t start = accept_language.find_first_not_of(" \t");
    if (start != std::string_view::npos) {
        auto first = accept_language.substr(start);
        if (is_zh(first)) return i18n::language::zh;
        if (first.size() >= 2 && std::isalpha(static_cast<unsigned char>(first[0])) && first[0] != '*') {
            return i18n::language::en;
        }
    }
    return fallback;
}

struct web_server::impl {
    asio::any_io_executor ex;
    store& db;
    web_options options;
    listener accepting;

    impl(asio::any_io_executor e, store& s, web_options o) : ex(e), db(s), options(std::move(o)) {}

    asio::awaitable<void> session(tcp::socket sock) {
        beast::tcp_stream stream(std::move(sock));
        beast::flat_buffer buffer;
        for (;;) {
            stream.expires_after(60s);
            http::request_parser<http::empty_body> parser;
            auto [rec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            if (rec) break;
            auto res = handle(parser.get());
            bool keep = res.keep_alive();
            auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
            if (wec || !keep) break;
        }
        boost::system::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    http::response<http::string_body> handle(const http::request<http::empty_body>& req) {
        auto respond = [&](http::status status, std::string_view type, std::string body) {
            http::response<http::string_body> res{status, req.version()};
            res.set(http::field::server, "bbt-county");
            res.set(http::field::content_type, type);
            res.set(http::field::cache_control, "no-store");
            res.set("X-Content-Type-Options", "nosniff");
            res.keep_alive(req.keep_alive());
            res.body() = std::move(body);
            res.prepare_payload();
            if (req.method() == http::verb::head) res.body().clear();
            return res;
        };
        auto fallback = i18n::current();
        auto text = [&](i18n::language lang, const i18n::msg& m) {
            return std::string(lang == i18n::language::zh ? m.zh : m.en);
        };
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            auto res = respond(http::status::method_not_allowed, "text/plain; charset=utf-8",
                               text(fallback, {"the dashboard is read-only: GET only\n", "看板只读：仅支持 GET\n"}));
            res.set(http::field::allow, "GET, HEAD");
            return res;
        }
        auto url = urls::parse_origin_form(req.target());
        if (!url) {
            return respond(http::status::bad_request, "text/plain; charset=utf-8",
                           text(fallback, {"the address is not valid\n", "地址无效\n"}));
        }
        std::string lang_param, school;
        for (auto p : url->params()) {
            if (p.key == "lang") lang_param = p.value;
            if (p.key == "school") school = p.value;
        }
        auto lang = request_language(lang_param, req[http::field::accept_language], fallback);
        std::string path = url->path();
        int64_t now = clock::wall_now().count();

        if (path == "/healthz") {
            // A trivial query, not a count of every report: monitors call this often.
            if (auto r = db.database().exec("SELECT 1"); !r) {
                return respond(http::status::service_unavailable, "text/plain", r.error().message() + "\n");
            }
            return respond(http::status::ok, "text/plain", "ok\n");
        }
        bool is_export = path.starts_with("/export/") && path.ends_with(".csv");
        if (path != "/" && path != "/api/v1/overview" && !is_export) {
            return respond(http::status::not_found, "text/plain; charset=utf-8",
                           text(lang, {"no such page; the dashboard is at /\n", "没有此页面；看板在 /\n"}));
        }
        auto o = collect(db.database(), options.dashboard, now, school);
        if (!o) {
            log::error(lg, "reading the dashboard: {}", o.error().what());
            return respond(http::status::service_unavailable, "text/plain; charset=utf-8",
                           fmt::format("{}\n", o.error().message()));
        }
        if (path == "/")
            return respond(http::status::ok, "text/html; charset=utf-8", render_html(*o, options.dashboard, lang));
        if (path == "/api/v1/overview") {
            return respond(http::status::ok, "application/json", protocol::json_text::serialize(to_json(*o)));
        }
        std::string table = path.substr(8, path.size() - 8 - 4);
        auto csv = export_csv(db.database(), *o, table, lang);
        if (!csv) {
            log::error(lg, "exporting {}: {}", table, csv.error().what());
            return respond(http::status::service_unavailable, "text/plain; charset=utf-8",
                           fmt::format("{}\n", csv.error().message()));
        }
        if (!*csv) {
            return respond(http::status::not_found, "text/plain; charset=utf-8",
                           text(lang, {"no such table to export\n", "没有可导出的此表\n"}));
        }
        auto res = respond(http::status::ok, "text/csv; charset=utf-8", std::move(**csv));
        res.set(http::field::content_disposition, fmt::format("attachment; filename=\"bbt-{}.csv\"", table));
        return res;
    }
};

web_server::web_server(asio::any_io_executor ex, store& db, web_options options)
    : impl_(std::make_unique<impl>(ex, db, std::move(options))) {}

web_server::~web_server() = default;

result<uint16_t> web_server::start() {
    auto port = impl_->accepting.start(impl_->ex, impl_->options.listen, impl_->options.port,
                                       {"listening for the dashboard", "监听看板连接"},
                                       [impl = impl_.get()](tcp::socket s) { return impl->session(std::move(s)); });
    if (!port) return port.error();
    log::notice(lg, "dashboard on http://{}:{}/", impl_->options.listen, *port);
    return *port;
}

void web_server::stop() { impl_->accepting.stop(); }

}  // namespace bbt::county
