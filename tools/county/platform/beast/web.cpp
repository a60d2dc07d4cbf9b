#include "web.hpp"

#include "accounts.hpp"
#include "listener.hpp"
#include "rate_limit.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/utf8.hpp"
#include "bbt/protocol/json_text.hpp"
#include "bbt/protocol/pki.hpp"

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
#include <boost/url/encode.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <map>
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

    std::vector<std::string> hosts;  // options.hosts, lower case

    impl(std::filesystem::path p, web_options o) : db_path(std::move(p)), options(std::move(o)) {
        for (auto h : options.hosts) {
            std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
            hosts.push_back(std::move(h));
        }
    }

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
            // A form's body at most: nothing else is ever posted here.
            http::request_parser<http::string_body> parser;
            parser.body_limit(16 << 10);
            auto [rec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            if (rec) break;
            auto r = handle(parser.get(), peer_address(stream));
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

    static std::string peer_address(beast::tcp_stream& stream) {
        boost::system::error_code ec;
        auto ep = stream.socket().remote_endpoint(ec);
        return ec ? std::string() : ep.address().to_string();
    }

    // Sign-in attempts per address: passwords cannot be tried at speed.
    rate_limit sign_ins{10};

    // Whether the Host header names this dashboard: loopback, the listen
    // address or a configured name, with or without a port.
    bool host_allowed(std::string_view host) const {
        if (host.starts_with('[')) {
            host = host.substr(0, host.find(']') + 1);
        } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
            host = host.substr(0, colon);
        }
        std::string h(host);
        std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
        if (h == "localhost" || h == "127.0.0.1" || h == "[::1]" || h == options.listen ||
            "[" + options.listen + "]" == h) {
            return true;
        }
        return std::find(hosts.begin(), hosts.end(), h) != hosts.end();
    }

    static std::string cookie(const http::request<http::string_body>& req, std::string_view name) {
        std::string_view all = req[http::field::cookie];
        while (!all.empty()) {
            auto semi = all.find(';');
            auto part = all.substr(0, semi);
            all = semi == std::string_view::npos ? std::string_view() : all.substr(semi + 1);
            while (!part.empty() && part.front() == ' ')
                part.remove_prefix(1);
            if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
                return std::string(part.substr(name.size() + 1));
            }
        }
        return {};
    }

    // A path of this dashboard to go to after signing in, never elsewhere.
    static std::string local_path(std::string_view next) {
        if (next.empty() || next[0] != '/' || next.starts_with("//") || next.find('\\') != std::string_view::npos ||
            next.starts_with("/login") || next.starts_with("/logout")) {
            return "/";
        }
        return std::string(next);
    }

    reply handle(const http::request<http::string_body>& req, const std::string& address) {
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
        if (!host_allowed(req[http::field::host])) {
            return respond(
                http::status::misdirected_request, "text/plain; charset=utf-8",
                text(fallback, {"this dashboard is not served under that name; add it to [dashboard] hosts\n",
                                "看板不以此名称提供服务；请将其加入 [dashboard] hosts\n"}));
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
        bool is_post = req.method() == http::verb::post;
        if (!is_post && req.method() != http::verb::get && req.method() != http::verb::head) {
            auto res = respond(http::status::method_not_allowed, "text/plain; charset=utf-8",
                               text(lang, {"GET, or POST to sign in and out\n", "仅支持 GET，登录和退出用 POST\n"}));
            res.set(http::field::allow, "GET, HEAD, POST");
            return res;
        }
        if (is_post && path != "/login" && path != "/logout") {
            auto res = respond(http::status::method_not_allowed, "text/plain; charset=utf-8",
                               text(lang, {"the dashboard is read-only\n", "看板只读\n"}));
            res.set(http::field::allow, "GET, HEAD");
            return res;
        }
        // What went wrong inside is for the log; the page says where to look.
        auto unavailable = [&](std::string_view doing, const error& e) {
            log::error(lg, "{}: {}", doing, e.what());
            return respond(http::status::service_unavailable, "text/plain; charset=utf-8",
                           text(lang, {"the county's database cannot be read now; the service's log says why\n",
                                       "县级数据库当前无法读取；原因见服务日志\n"}));
        };

        // The session cookie: HttpOnly (no script reads it), SameSite=Strict
        // (no other site's page sends it), for this dashboard's paths only.
        auto session_cookie = [&](const std::string& token, int64_t max_age_s) {
            return fmt::format("bbt_session={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict", token, max_age_s);
        };
        auto redirect = [&](const std::string& to) {
            auto res = respond(http::status::see_other, "text/plain; charset=utf-8", "");
            res.set(http::field::location, to);
            return res;
        };
        auto form_of = [&]() {
            std::map<std::string, std::string> form;
            // application/x-www-form-urlencoded: a query, '+' for a space.
            if (urls::parse_query(req.body())) {
                for (auto p : urls::params_view(req.body(), urls::encoding_opts(true)))
                    form[p.key] = p.value;
            }
            return form;
        };
        auto login_page = [&](http::status status, std::string_view problem, const std::string& next) {
            // The form's CSRF token doubles as a cookie: a post that lacks
            // either did not come from this page.
            std::string csrf = protocol::pki::random_hex(16);
            auto res = respond(status, "text/html; charset=utf-8", render_login(lang, csrf, next, problem));
            res.set(http::field::set_cookie, fmt::format("bbt_login={}; Path=/login; HttpOnly; SameSite=Strict", csrf));
            res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
            res.set("X-Frame-Options", "DENY");
            return res;
        };
        auto signed_in = [&](const account& who, const std::string& next) -> reply {
            auto opened = open_session(*db, who, now, options.session_lifetime);
            if (!opened) return unavailable("opening a session", opened.error());
            log::notice(lg, "dashboard: {} signed in from {}", who.name, address);
            auto res = redirect(local_path(next));
            res.set(http::field::set_cookie, session_cookie(opened->first, options.session_lifetime.count()));
            return res;
        };
        if (path == "/login") {
            std::string next;
            for (auto p : url->params()) {
                if (p.key == "next") next = p.value;
            }
            if (is_post) {
                auto form = form_of();
                if (form["csrf"].empty() || form["csrf"] != cookie(req, "bbt_login")) {
                    return login_page(http::status::forbidden,
                                      text(lang, {"the form had expired; sign in again", "表单已失效；请重新登录"}),
                                      form["next"]);
                }
                if (sign_ins.attempt(address)) {
                    log::warning(lg, "dashboard: sign-ins from {} throttled", address);
                    auto res = login_page(http::status::too_many_requests,
                                          text(lang, {"too many attempts; wait a minute and try again",
                                                      "尝试次数过多；请等待一分钟后再试"}),
                                          form["next"]);
                    res.set(http::field::retry_after, "60");
                    return res;
                }
                auto who = sign_in(*db, form["name"], form["password"]);
                if (!who) return unavailable("signing in", who.error());
                if (!*who) {
                    log::notice(lg, "dashboard: a failed sign-in as {} from {}", utf8::repair(form["name"]), address);
                    return login_page(http::status::unauthorized,
                                      text(lang, {"the account or the password is wrong", "账号或密码错误"}),
                                      form["next"]);
                }
                return signed_in(**who, form["next"]);
            }
            std::string token;
            for (auto p : url->params()) {
                if (p.key == "token") token = p.value;
            }
            if (!token.empty()) {
                auto who = use_sign_in_link(*db, token, now);
                if (!who) return unavailable("signing in by a link", who.error());
                if (*who) return signed_in(**who, next);
                return login_page(http::status::unauthorized,
                                  text(lang, {"this sign-in link has been used or has expired; ask for a new one",
                                              "此登录链接已使用或已过期；请申请新链接"}),
                                  next);
            }
            return login_page(http::status::ok, "", next);
        }
        if (path == "/healthz") {
            // Cheap enough for a monitor's every minute, yet it reads the
            // schema and the last page of the largest tables, not nothing.
            if (auto r = check_database(); !r) return unavailable("checking the database", r.error());
            return respond(http::status::ok, "text/plain", "ok\n");
        }
        // Everything else is for a signed-in account.
        std::optional<dashboard_session> viewer;
        if (std::string token = cookie(req, "bbt_session"); !token.empty()) {
            auto found = find_session(*db, token, now);
            if (!found) return unavailable("reading a session", found.error());
            viewer = std::move(*found);
            if (viewer && path == "/logout") {
                if (form_of()["csrf"] != viewer->csrf) {
                    return respond(http::status::forbidden, "text/plain; charset=utf-8",
                                   text(lang, {"the form had expired; reload the page\n", "表单已失效；请刷新页面\n"}));
                }
                if (auto r = close_session(*db, token); !r) return unavailable("closing a session", r.error());
                auto res = redirect("/login");
                res.set(http::field::set_cookie, session_cookie("", 0));
                return res;
            }
        }
        if (!viewer) {
            if (path == "/" && !is_post)
                return redirect("/login?next=" + urls::encode(std::string(req.target()), urls::unreserved_chars));
            auto res = respond(http::status::unauthorized, "text/plain; charset=utf-8",
                               text(lang, {"sign in first, at /login\n", "请先在 /login 登录\n"}));
            res.set(http::field::www_authenticate, "Cookie realm=\"bbt-county\"");
            return res;
        }
        // A school's account sees its own school, whatever it asks for.
        if (!viewer->who.school.empty()) school = viewer->who.school;
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
        if (path == "/") {
            page_viewer pv{viewer->who.name, viewer->csrf};
            return respond(http::status::ok, "text/html; charset=utf-8", render_html(o, options.dashboard, lang, &pv));
        }
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
    // Its own connection: its reads wait for no write of the agents' thread
    // (WAL); it writes only its sessions.
    auto db = sqlite::database::open(impl_->db_path, {.create = false, .sync = sqlite::synchronous::normal});
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
