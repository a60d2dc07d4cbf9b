#include "web.hpp"

#include "listener.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/log.hpp"
#include "bbt/protocol/json_text.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <optional>
#include <thread>
#include <tuple>
#include <variant>

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
constexpr int dashboard_nice = 19;

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
    std::filesystem::path db_path;
    web_options options;
    // Declared before the io_context: sessions it destroys at the end still
    // hold statements on this connection and counts in the listener.
    std::optional<sqlite::database> db;
    listener accepting;
    asio::io_context ioc{1};
    std::thread thread;

    impl(std::filesystem::path p, web_options o) : db_path(std::move(p)), options(std::move(o)) {}

    // A reply made whole, or the head of a CSV export sent as its query reads it.
    struct streamed {
        http::response<http::empty_body> head;
        csv_export rows;
        std::string first;  // read before the status was chosen
        bool more = true;
    };
    static constexpr size_t piece_bytes = 64 * 1024;
    using reply = std::variant<http::response<http::string_body>, streamed>;

    asio::awaitable<void> session(tcp::socket sock) {
        beast::tcp_stream stream(std::move(sock));
        beast::flat_buffer buffer;
        for (;;) {
            stream.expires_after(60s);
            http::request_parser<http::empty_body> parser;
            auto [rec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            if (rec) break;
            auto r = handle(parser.get());
            bool keep = false;
            if (auto* whole = std::get_if<0>(&r)) {
                keep = whole->keep_alive();
                auto [wec, wn] = co_await http::async_write(stream, *whole, asio::as_tuple(asio::use_awaitable));
                if (wec) break;
            } else {
                keep = co_await send(stream, std::get<1>(r), parser.get().method() == http::verb::head);
            }
            if (!keep) break;
        }
        boost::system::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    // Sends an export a piece at a time (chunked over HTTP/1.1; over HTTP/1.0
    // to the end of the connection); whether the connection may go on.
    asio::awaitable<bool> send(beast::tcp_stream& stream, streamed& s, bool head_only) {
        bool chunked = s.head.version() >= 11;
        if (chunked) {
            s.head.chunked(true);
        } else {
            s.head.keep_alive(false);
        }
        bool keep = s.head.keep_alive();
        http::response_serializer<http::empty_body> sr{s.head};
        stream.expires_after(60s);
        auto [hec, hn] = co_await http::async_write_header(stream, sr, asio::as_tuple(asio::use_awaitable));
        if (hec) co_return false;
        if (head_only) co_return keep;
        std::string piece = std::move(s.first);
        for (bool first = true, more = s.more; first || more; first = false) {
            if (!first) {
                piece.clear();
                auto r = s.rows.next(piece, piece_bytes);
                if (!r) {
                    // The status has gone: end the transfer unfinished so that
                    // the browser reports a failed download, not a short file.
                    log::error(lg, "an export broke off: {}", r.error().what());
                    co_return false;
                }
                more = *r;
            }
            stream.expires_after(60s);
            boost::system::error_code wec;
            if (piece.empty()) {
                // Nothing to send (an empty chunk would end the body).
            } else if (chunked) {
                std::tie(wec, std::ignore) = co_await asio::async_write(stream, http::make_chunk(asio::buffer(piece)),
                                                                        asio::as_tuple(asio::use_awaitable));
            } else {
                std::tie(wec, std::ignore) =
                    co_await asio::async_write(stream, asio::buffer(piece), asio::as_tuple(asio::use_awaitable));
            }
            if (wec) co_return false;
        }
        if (chunked) {
            auto [lec, ln] =
                co_await asio::async_write(stream, http::make_chunk_last(), asio::as_tuple(asio::use_awaitable));
            if (lec) co_return false;
        }
        co_return keep;
    }

    reply handle(const http::request<http::empty_body>& req) {
        auto head_of = [&](http::status status, std::string_view type) {
            http::response<http::empty_body> res{status, req.version()};
            res.set(http::field::server, "bbt-county");
            res.set(http::field::content_type, type);
            res.set(http::field::cache_control, "no-store");
            res.set("X-Content-Type-Options", "nosniff");
            res.keep_alive(req.keep_alive());
            return res;
        };
        auto respond = [&](http::status status, std::string_view type, std::string body) {
            http::response<http::string_body> res{head_of(status, type)};
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
        // What went wrong inside is for the log; the page says where to look.
        auto unavailable = [&](std::string_view doing, const error& e) {
            log::error(lg, "{}: {}", doing, e.what());
            return respond(http::status::service_unavailable, "text/plain; charset=utf-8",
                           text(lang, {"the county's database cannot be read now; the service's log says why\n",
                                       "县级数据库当前无法读取；原因见服务日志\n"}));
        };

        if (path == "/healthz") {
            // Cheap enough for a monitor's every minute, yet it reads the
            // schema and the last page of the largest tables, not nothing.
            if (auto r = check_database(); !r) return unavailable("checking the database", r.error());
            return respond(http::status::ok, "text/plain", "ok\n");
        }
        bool is_export = path.starts_with("/export/") && path.ends_with(".csv");
        if (path != "/" && path != "/api/v1/overview" && !is_export) {
            return respond(http::status::not_found, "text/plain; charset=utf-8",
                           text(lang, {"no such page; the dashboard is at /\n", "没有此页面；看板在 /\n"}));
        }
        std::string table = is_export ? path.substr(8, path.size() - 8 - 4) : std::string();
        overview o;
        o.school_filter = school;
        if (!is_export || csv_needs_overview(table)) {
            auto got = collect(*db, options.dashboard, now, school);
            if (!got) return unavailable("reading the dashboard", got.error());
            o = std::move(*got);
        }
        if (path == "/")
            return respond(http::status::ok, "text/html; charset=utf-8", render_html(o, options.dashboard, lang));
        if (path == "/api/v1/overview") {
            return respond(http::status::ok, "application/json", protocol::json_text::serialize(to_json(o)));
        }
        auto rows = csv_export::open(*db, o, table, lang);
        if (!rows) return unavailable(fmt::format("exporting {}", table), rows.error());
        if (!*rows) {
            return respond(http::status::not_found, "text/plain; charset=utf-8",
                           text(lang, {"no such table to export\n", "没有可导出的此表\n"}));
        }
        streamed s{head_of(http::status::ok, "text/csv; charset=utf-8"), std::move(**rows), {}, true};
        // The first piece before the status: a table that cannot be read at
        // all gets 503, not a 200 that breaks off.
        auto more = s.rows.next(s.first, piece_bytes);
        if (!more) return unavailable(fmt::format("exporting {}", table), more.error());
        s.more = *more;
        s.head.set(http::field::content_disposition, fmt::format("attachment; filename=\"bbt-{}.csv\"", table));
        return s;
    }

    result<void> check_database() {
        // max() of a primary key's first column walks the table's own tree
        // from its root to its last leaf.
        auto st = db->prepare(
            "SELECT (SELECT count(*) FROM sqlite_schema), (SELECT max(device_id) FROM reports), "
            "(SELECT max(device_id) FROM usage), (SELECT count(*) FROM devices)");
        if (!st) return st.error();
        auto r = st->step();
        if (!r) return r.error();
        return {};
    }
};

web_server::web_server(std::filesystem::path database, web_options options)
    : impl_(std::make_unique<impl>(std::move(database), std::move(options))) {}

web_server::~web_server() { stop(); }

result<uint16_t> web_server::start() {
    // Its own connection, read-only: the dashboard can never write, and its
    // reads wait for no write of the agents' thread (WAL).
    auto db = sqlite::database::open(impl_->db_path, {.create = false, .read_only = true});
    if (!db) return db.error();
    impl_->db.emplace(std::move(*db));
    auto port = impl_->accepting.start(impl_->ioc.get_executor(), impl_->options.listen, impl_->options.port,
                                       {"listening for the dashboard", "监听看板连接"},
                                       [impl = impl_.get()](tcp::socket s) { return impl->session(std::move(s)); });
    if (!port) return port.error();
    impl_->thread = std::thread([impl = impl_.get()] {
        // Pages and exports give way to the agents' reports when the CPU is
        // short (Linux: the nice value is per thread).
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), dashboard_nice);
        impl->ioc.run();
    });
    log::notice(lg, "dashboard on http://{}:{}/", impl_->options.listen, *port);
    return *port;
}

void web_server::stop() {
    if (!impl_->thread.joinable()) return;
    asio::post(impl_->ioc, [impl = impl_.get()] {
        impl->accepting.stop();
        impl->ioc.stop();
    });
    impl_->thread.join();
}

}  // namespace bbt::county
