#include "server.hpp"

#include "listener.hpp"
#include "rate_limit.hpp"
#include "uploads.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/protocol/gzip.hpp"
#include "bbt/protocol/json_text.hpp"
#include "bbt/protocol/pki.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <map>
#include <optional>

namespace bbt::county {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
namespace wire = protocol::county;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

const log::category lg{"county"};
constexpr size_t max_body = 8 << 20;

http::response<http::string_body> json_response(http::status status, const json::value& body, unsigned version,
                                                bool keep_alive) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::server, "bbt-county");
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keep_alive);
    res.body() = protocol::json_text::serialize(body);
    res.prepare_payload();
    return res;
}

json::value error_body(std::string_view message) { return json::object{{"error", message}}; }

}  // namespace

result<pki_files> pki_files::load(const std::filesystem::path& dir) {
    pki_files p;
    for (auto [name, out] : {std::pair{"ca.pem", &p.ca_cert},
                             {"ca.key", &p.ca_key},
                             {"server.pem", &p.server_cert},
                             {"server.key", &p.server_key},
                             {"command.key", &p.command_key}}) {
        auto t = read_file(dir / name);
        if (!t) {
            return error(t.error().code(), i18n::format({"{}; make the county's keys with: bbt-county init --pki {}",
                                                         "{}；请用 bbt-county init --pki {} 生成县级平台密钥"},
                                                        t.error().what(), dir.string()));
        }
        *out = std::move(*t);
    }
    return p;
}

result<pki_files> pki_files::create(const std::filesystem::path& dir, const std::vector<std::string>& host_names) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    ::chmod(dir.c_str(), 0700);
    pki_files p;
    auto ca_key = protocol::pki::generate_key();
    if (!ca_key) return ca_key.error();
    p.ca_key = *ca_key;
    auto ca = protocol::pki::self_signed_ca(p.ca_key, "bbt county CA", std::chrono::hours(24 * 365 * 20));
    if (!ca) return ca.error();
    p.ca_cert = *ca;
    auto key = protocol::pki::generate_key();
    if (!key) return key.error();
    p.server_key = *key;
    auto csr = protocol::pki::make_csr(p.server_key, host_names.empty() ? "localhost" : host_names.front());
    if (!csr) return csr.error();
    protocol::pki::issue_options o;
    o.server = true;
    o.dns_names = host_names;
    o.not_after = std::chrono::hours(24 * 365 * 5);
    auto cert = protocol::pki::sign_csr(*csr, p.ca_cert, p.ca_key, o);
    if (!cert) return cert.error();
    p.server_cert = *cert;
    auto cmd = protocol::pki::generate_signing_key();
    if (!cmd) return cmd.error();
    p.command_key = *cmd;
    for (auto [name, text] : {std::pair{"ca.pem", &p.ca_cert},
                              {"ca.key", &p.ca_key},
                              {"server.pem", &p.server_cert},
                              {"server.key", &p.server_key},
                              {"command.key", &p.command_key}}) {
        if (auto r = write_file_atomic(dir / name, *text); !r) return r.error();
        ::chmod((dir / name).c_str(), std::string_view(name).ends_with(".key") ? 0600 : 0644);
    }
    return p;
}

struct server::impl {
    asio::any_io_executor ex;
    store& db;
    pki_files pki;
    server_options options;
    std::string command_public;
    ssl::context ctx{ssl::context::tls_server};
    listener accepting;
    uploads recordings;

    impl(asio::any_io_executor e, store& s, pki_files p, server_options o)
        : ex(e), db(s), pki(std::move(p)), options(std::move(o)), recordings(e, s, options.uploads) {}

    result<void> setup_tls() {
        SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
        boost::system::error_code ec;
        ctx.use_certificate_chain(asio::buffer(pki.server_cert), ec);
        if (!ec) ctx.use_private_key(asio::buffer(pki.server_key), ssl::context::pem, ec);
        if (!ec) ctx.add_certificate_authority(asio::buffer(pki.ca_cert), ec);
        if (ec) {
            return error(ec,
                         i18n::format({"the county's TLS keys cannot be used: {}", "县级平台的 TLS 密钥无法使用：{}"},
                                      ec.message()));
        }
        // Devices present certificates from the county CA; enrolment comes without one.
        ctx.set_verify_mode(ssl::verify_peer);
        auto pub = protocol::pki::public_key_of(pki.command_key);
        if (!pub) return pub.error();
        command_public = *pub;
        return {};
    }

    using ssl_stream = beast::ssl_stream<beast::tcp_stream>;

    // A body read as it arrives, each read under its own deadline.
    class streamed_body final : public body_source {
    public:
        streamed_body(ssl_stream& stream, beast::flat_buffer& buffer, http::request_parser<http::buffer_body>& parser,
                      std::chrono::seconds timeout)
            : stream_(stream), buffer_(buffer), parser_(parser), timeout_(timeout) {}

        asio::awaitable<result<std::string_view>> next() override {
            while (!parser_.is_done()) {
                parser_.get().body().data = piece_.data();
                parser_.get().body().size = piece_.size();
                beast::get_lowest_layer(stream_).expires_after(timeout_);
                auto [ec, n] =
                    co_await http::async_read_some(stream_, buffer_, parser_, asio::as_tuple(asio::use_awaitable));
                if (ec == http::error::need_buffer) ec = {};
                if (ec) {
                    failed_ = true;
                    log::info(lg, "a request's body broke off: {}", ec.message());
                    co_return error(ec, "reading a request's body");
                }
                size_t got = piece_.size() - parser_.get().body().size;
                if (got > 0) co_return std::string_view(piece_.data(), got);
            }
            co_return std::string_view();
        }
        [[nodiscard]] bool failed() const noexcept { return failed_; }

    private:
        ssl_stream& stream_;
        beast::flat_buffer& buffer_;
        http::request_parser<http::buffer_body>& parser_;
        std::chrono::seconds timeout_;
        std::vector<char> piece_ = std::vector<char>(64 << 10);
        bool failed_ = false;
    };

    // A whole body, within the parser's limit, each read under its own deadline.
    asio::awaitable<boost::system::error_code> read_body(ssl_stream& stream, beast::flat_buffer& buffer,
                                                         http::request_parser<http::string_body>& parser) {
        while (!parser.is_done()) {
            beast::get_lowest_layer(stream).expires_after(options.read_timeout);
            auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            if (ec) co_return ec;
        }
        co_return boost::system::error_code();
    }

    // After an answer sent before its request's body was read: the rest is
    // read and dropped for a moment before the connection closes, so that
    // the client reads the answer instead of a reset (nginx's lingering close).
    static asio::awaitable<void> linger(ssl_stream& stream) {
        auto& lowest = beast::get_lowest_layer(stream);
        boost::system::error_code ec;
        lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
        lowest.expires_after(2s);
        std::vector<char> sink(16 << 10);
        for (size_t dropped = 0; dropped < (size_t{8} << 20);) {
            auto [rec, n] = co_await lowest.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
            if (rec) break;
            dropped += n;
        }
    }

    asio::awaitable<void> session(tcp::socket sock) {
        ssl_stream stream(std::move(sock), ctx);
        auto& lowest = beast::get_lowest_layer(stream);
        lowest.expires_after(options.read_timeout);
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
        if (hec) {
            log::info(lg, "TLS handshake refused: {}", hec.message());
            co_return;
        }
        boost::system::error_code rec_ec;
        auto remote = lowest.socket().remote_endpoint(rec_ec);
        std::string address = rec_ec ? std::string() : remote.address().to_string();
        std::string peer;
        if (X509* cert = SSL_get1_peer_certificate(stream.native_handle())) {
            if (SSL_get_verify_result(stream.native_handle()) == X509_V_OK) {
                char cn[512] = "";
                int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
                if (n > 0) peer.assign(cn, static_cast<size_t>(n));
            }
            X509_free(cert);
        }
        beast::flat_buffer buffer;
        for (;;) {
            // Waiting for a request and reading its header: one deadline (an
            // idle connection ends when it passes).
            lowest.expires_after(options.read_timeout);
            http::request_parser<http::empty_body> head;
            head.header_limit(16 << 10);
            // The header is read whatever its Content-Length: admit() holds
            // it to the route's limit (Beast's own default, 1 MB, would end
            // the connection without an answer).
            head.body_limit(boost::none);
            auto [rec, rn] =
                co_await http::async_read_header(stream, buffer, head, asio::as_tuple(asio::use_awaitable));
            if (rec) break;
            // Decided from the header alone, before a byte of the body is read.
            auto gate = admit(head, peer, address);
            if (!gate) {
                http::response<http::string_body> refused = gate.error();
                lowest.expires_after(options.read_timeout);
                auto [wec, wn] = co_await http::async_write(stream, refused, asio::as_tuple(asio::use_awaitable));
                if (!wec && !head.is_done()) co_await linger(stream);  // the body that may follow is never read
                co_return;
            }
            http::response<http::string_body> res;
            bool whole = true;  // the request's body was read to its end
            if (gate->to == route::upload) {
                // Streamed: a chunk goes to disk as it comes, never held whole.
                http::request_parser<http::buffer_body> body{std::move(head)};
                body.body_limit(gate->limit);
                http::request<http::empty_body> req{body.get().base()};
                streamed_body source(stream, buffer, body, options.read_timeout);
                res = co_await recordings.handle(req, peer, source);
                if (source.failed()) break;  // broken off or too slow: nobody to answer
                whole = body.is_done();
            } else {
                http::request_parser<http::string_body> body{std::move(head)};
                body.body_limit(gate->limit);
                auto ec = co_await read_body(stream, buffer, body);
                if (ec == http::error::body_limit) {
                    res = json_response(http::status::payload_too_large,
                                        error_body(i18n::format({"the body is over this endpoint's limit of {} bytes",
                                                                 "请求体超过此接口上限 {} 字节"},
                                                                gate->limit)),
                                        body.get().version(), false);
                    whole = false;
                } else if (ec) {
                    break;
                } else {
                    res = handle(gate->to, body.get(), peer);
                }
            }
            if (!whole) res.keep_alive(false);
            lowest.expires_after(options.read_timeout);
            auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
            if (wec) break;
            if (!whole) {
                co_await linger(stream);
                co_return;
            }
            if (!res.keep_alive()) break;
        }
        lowest.expires_after(2s);
        co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    }

    // Whether a request may be read, from its header: a known route and
    // method, the set's certificate where the route needs one, and a body
    // within the route's limit (Content-Length checked now; a chunked body is
    // cut off at the same limit). The route and its limit; otherwise the answer.
    enum class route { catalogue, timetable, enrol, renew, reports, upload };

    // Enrolment attempts per address: a code cannot be guessed at speed.
    rate_limit enrol_attempts{10};
    struct admitted {
        route to;
        uint64_t limit;
    };
    using gate_result = boost::system::result<admitted, http::response<http::string_body>>;
    gate_result admit(const http::request_parser<http::empty_body>& parser, const std::string& peer,
                      const std::string& address) {
        const auto& h = parser.get();
        auto refuse = [&](http::status st, std::string_view why) {
            return gate_result(boost::system::in_place_error, json_response(st, error_body(why), h.version(), false));
        };
        std::string_view target(h.target().data(), h.target().size());
        auto verb = h.method();
        route to;
        uint64_t limit = 0;
        bool anonymous = false;  // may come without a certificate
        if (target == "/v1/uploads" || target.starts_with("/v1/uploads/")) {
            to = route::upload;
            anonymous = verb == http::verb::options;
            limit = verb == http::verb::patch ? recordings.options().max_chunk : 64 << 10;
        } else if (verb == http::verb::get && target == "/v1/catalogue") {
            to = route::catalogue;
        } else if (verb == http::verb::get && target == "/v1/timetable") {
            to = route::timetable;
        } else if (verb == http::verb::post && target == "/v1/enrol") {
            to = route::enrol;
            anonymous = true;
            limit = 64 << 10;
        } else if (verb == http::verb::post && target == "/v1/renew") {
            to = route::renew;
            limit = 64 << 10;
        } else if (verb == http::verb::post && target == "/v1/reports") {
            to = route::reports;
            limit = max_body;
        } else {
            return refuse(http::status::not_found, i18n::text({"no such endpoint", "没有此接口"}));
        }
        if (!anonymous && peer.empty()) {
            return refuse(http::status::unauthorized,
                          i18n::text({"this needs the set's certificate from enrolment", "需要注册时颁发的证书"}));
        }
        if (!peer.empty()) {
            // A retired set's certificates are still the CA's: refused here.
            auto retired = db.retired(peer);
            if (!retired) {
                log::error(lg, "checking whether {} is retired: {}", peer, retired.error().what());
                auto res = json_response(http::status::service_unavailable,
                                         error_body(i18n::text({"the county cannot serve this now; it will retry",
                                                                "县级平台暂时无法处理；将自动重试"})),
                                         h.version(), false);
                res.set(http::field::retry_after, "30");
                return gate_result(boost::system::in_place_error, std::move(res));
            }
            if (*retired) {
                return refuse(http::status::forbidden,
                              i18n::format({"the county has retired this set ({}); it is no longer served",
                                            "县级平台已停用此设备（{}），不再为其服务"},
                                           peer));
            }
        }
        if (to == route::enrol) {
            if (auto wait = enrol_attempts.attempt(address)) {
                log::warning(lg, "enrolment attempts from {} throttled", address);
                auto res = json_response(
                    http::status::too_many_requests,
                    error_body(i18n::format({"too many enrolment attempts from this address; try again in {} s",
                                             "此地址注册尝试过多；请 {} 秒后再试"},
                                            *wait)),
                    h.version(), false);
                res.set(http::field::retry_after, std::to_string(*wait));
                return gate_result(boost::system::in_place_error, std::move(res));
            }
        }
        if (auto length = parser.content_length(); length && *length > limit) {
            return refuse(http::status::payload_too_large,
                          i18n::format({"a body of {} bytes is over this endpoint's limit of {} bytes",
                                        "请求体 {} 字节，超过此接口上限 {} 字节"},
                                       *length, limit));
        }
        return admitted{to, limit};
    }

    // A request admit() let in (the peer is a set wherever the route needs one).
    http::response<http::string_body> handle(route to, const http::request<http::string_body>& req,
                                             const std::string& peer) {
        auto reply = [&](http::status s, const json::value& body) {
            return json_response(s, body, req.version(), req.keep_alive());
        };
        switch (to) {
            case route::catalogue: return document(req, peer, reply, false);
            case route::timetable: return document(req, peer, reply, true);
            case route::enrol: return enrol(req, reply);
            case route::renew: return renew(req, peer, reply);
            case route::reports: return reports(req, peer, reply);
            case route::upload: break;  // served by the uploads' own handler, never here
        }
        return reply(http::status::internal_server_error, error_body("misrouted request"));
    }

    // The catalogue, or the timetable of the peer's classroom; 304 when the
    // set's copy (If-None-Match) is current.
    template <class Reply>
    http::response<http::string_body> document(const http::request<http::string_body>& req, const std::string& peer,
                                               Reply& reply, bool timetable) {
        auto doc = timetable ? db.timetable_of(peer) : db.catalogue();
        if (!doc) {
            log::error(lg, "reading a published document for {}: {}", peer, doc.error().what());
            auto res = reply(http::status::service_unavailable, error_body(doc.error().message()));
            res.set(http::field::retry_after, "30");
            return res;
        }
        if (!*doc) {
            return reply(
                http::status::not_found,
                error_body(timetable
                               ? i18n::text({"no timetable is published for this classroom", "此教室尚未发布课表"})
                               : i18n::text({"no courseware catalogue is published", "尚未发布课件目录"})));
        }
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.set(http::field::server, "bbt-county");
        res.set(http::field::etag, (*doc)->etag);
        res.set(http::field::cache_control, "no-cache");
        res.keep_alive(req.keep_alive());
        if (req[http::field::if_none_match] == (*doc)->etag) {
            res.result(http::status::not_modified);
        } else {
            res.set(http::field::content_type, timetable ? "text/calendar; charset=utf-8" : "application/json");
            res.body() = std::move((*doc)->body);
        }
        res.prepare_payload();
        return res;
    }

    template <class Reply>
    http::response<http::string_body> enrol(const http::request<http::string_body>& req, Reply& reply) {
        boost::system::error_code ec;
        auto v = json::parse(req.body(), ec);
        if (ec || !v.is_object() || !v.as_object().contains("code") || !v.as_object().contains("csr") ||
            !v.at("code").is_string() || !v.at("csr").is_string()) {
            return reply(http::status::bad_request,
                         error_body(i18n::text({"an enrolment needs \"code\" and \"csr\"", "注册需要“code”和“csr”"})));
        }
        std::string previous;
        if (auto* d = v.as_object().if_contains("device_id"); d && d->is_string() && d->as_string().size() <= 64) {
            previous = d->as_string();
        }
        std::string csr(v.at("csr").as_string());
        auto e = db.redeem(std::string(v.at("code").as_string()), clock::wall_now().count(), previous,
                           [&](const enrolment& to) { return issue(csr, to.device_id); });
        if (!e) {
            log::notice(lg, "enrolment refused: {}", e.error().message());
            // A request that cannot be signed is the set's fault; the code is not spent.
            bool bad_request = e.error().code() == std::errc::protocol_error;
            return reply(bad_request ? http::status::bad_request : http::status::forbidden,
                         error_body(e.error().message()));
        }
        log::notice(lg, "{} {} (certificate serial {})", e->again ? "enrolled again" : "enrolled", e->device_id,
                    e->certificate.serial);
        return reply(http::status::ok, json::object{{"device_id", e->device_id},
                                                    {"certificate", e->certificate.pem},
                                                    {"ca", pki.ca_cert},
                                                    {"command_key", command_public}});
    }

    // Deletes raw reports past options.keep_reports: at start, then hourly; a
    // batch at a time, so that the sets' reports go between them.
    asio::awaitable<void> retention() {
        asio::steady_timer timer(ex);
        while (!stopping) {
            int64_t before = clock::wall_now().count() -
                             std::chrono::duration_cast<std::chrono::microseconds>(options.keep_reports).count();
            int64_t total = 0;
            for (;;) {
                auto n = db.prune_reports(before, 2000);
                if (!n) {
                    log::error(lg, "deleting old reports: {}", n.error().what());
                    break;
                }
                total += *n;
                if (*n < 2000 || stopping) break;
                timer.expires_after(10ms);
                co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            if (total > 0)
                log::info(lg, "deleted {} reports older than {} days", total, options.keep_reports.count() / 24);
            timer.expires_after(1h);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }
    bool stopping = false;

    // A certificate for `device_id` from the set's request, with the county's lifetime.
    result<issued_certificate> issue(const std::string& csr, const std::string& device_id) {
        protocol::pki::issue_options o;
        o.serial = protocol::pki::random_serial();
        o.subject_cn = device_id;
        o.not_after = options.certificate_validity;
        // Slack for a set's clock a little behind, short against the life
        // (a set renews two thirds into it, counted from not-before).
        o.not_before = -std::min(std::chrono::seconds(300), options.certificate_validity / 10);
        auto cert = protocol::pki::sign_csr(csr, pki.ca_cert, pki.ca_key, o);
        if (!cert) return cert.error();
        auto facts = protocol::pki::facts_of(*cert);
        if (!facts) return facts.error();
        return issued_certificate{
            *cert, o.serial,
            std::chrono::duration_cast<std::chrono::microseconds>(facts->not_after.time_since_epoch()).count()};
    }

    // POST /v1/renew {"csr"} over the set's current certificate: a new one
    // for the same device id (EST's simplereenroll).
    template <class Reply>
    http::response<http::string_body> renew(const http::request<http::string_body>& req, const std::string& peer,
                                            Reply& reply) {
        boost::system::error_code ec;
        auto v = json::parse(req.body(), ec);
        if (ec || !v.is_object() || !v.as_object().contains("csr") || !v.at("csr").is_string()) {
            return reply(http::status::bad_request,
                         error_body(i18n::text({"a renewal needs \"csr\"", "续期需要“csr”"})));
        }
        std::string csr(v.at("csr").as_string());
        auto cert =
            db.renew(peer, clock::wall_now().count(), [&](const enrolment& to) { return issue(csr, to.device_id); });
        if (!cert) {
            log::notice(lg, "renewal of {} refused: {}", peer, cert.error().message());
            bool bad_request = cert.error().code() == std::errc::protocol_error;
            return reply(bad_request ? http::status::bad_request : http::status::forbidden,
                         error_body(cert.error().message()));
        }
        log::info(lg, "renewed the certificate of {} (serial {})", peer, cert->serial);
        return reply(http::status::ok, json::object{{"device_id", peer},
                                                    {"certificate", cert->pem},
                                                    {"ca", pki.ca_cert},
                                                    {"not_after_us", cert->not_after_us}});
    }

    template <class Reply>
    http::response<http::string_body> reports(const http::request<http::string_body>& req, const std::string& peer,
                                              Reply& reply) {
        std::string text = req.body();
        if (req[http::field::content_encoding] == "gzip") {
            auto plain = protocol::gunzip(req.body(), wire::max_batch_bytes);
            if (!plain) return reply(http::status::bad_request, error_body(plain.error().message()));
            text = std::move(*plain);
        }
        auto b = wire::decode_batch(text);
        if (!b) {
            auto status = b.error().code() == wire::county_errc::too_large ? http::status::payload_too_large
                                                                           : http::status::bad_request;
            return reply(status, error_body(b.error().message()));
        }
        if (b->device_id != peer) {
            return reply(http::status::forbidden,
                         error_body(i18n::format(
                             {"the batch says it is from {}, the certificate says {}", "批次声称来自 {}，证书为 {}"},
                             b->device_id, peer)));
        }
        int64_t now = clock::wall_now().count();
        auto acked = db.ingest(peer, *b, now);
        if (!acked) {
            log::error(lg, "storing reports of {}: {}", peer, acked.error().what());
            auto res = reply(http::status::service_unavailable, error_body(acked.error().message()));
            res.set(http::field::retry_after, "30");
            return res;
        }
        wire::reply out;
        out.acked = std::move(*acked);
        out.now_us = now;
        if (auto cmds = db.take_commands(peer, now)) {
            for (const auto& c : *cmds) {
                wire::command w;
                w.id = c.id;
                w.verb = c.verb;
                boost::system::error_code ec;
                auto args = json::parse(c.args, ec);
                if (!ec && args.is_object()) w.args = args.as_object();
                w.device_id = peer;
                w.expires_us = std::min(c.expires_us, now + options.command_validity.count() * 1'000'000);
                w.nonce = protocol::pki::random_hex(12);
                auto sig = protocol::pki::sign(pki.command_key, wire::signing_input(w));
                if (!sig) continue;
                w.signature = *sig;
                out.commands.push_back(std::move(w));
            }
        }
        auto res = reply(http::status::ok, json::parse(wire::encode(out)));
        return res;
    }
};

server::server(asio::any_io_executor ex, store& db, pki_files pki, server_options options)
    : impl_(std::make_unique<impl>(ex, db, std::move(pki), std::move(options))) {}

server::~server() = default;

result<uint16_t> server::start() {
    if (auto r = impl_->setup_tls(); !r) return r.error();
    if (auto r = impl_->recordings.recover(); !r) return r.error();
    if (impl_->options.keep_reports.count() > 0) asio::co_spawn(impl_->ex, impl_->retention(), asio::detached);
    auto port = impl_->accepting.start(impl_->ex, impl_->options.listen, impl_->options.port,
                                       {"listening for agents", "监听代理程序连接"},
                                       [impl = impl_.get()](tcp::socket s) { return impl->session(std::move(s)); });
    if (!port) return port.error();
    log::notice(lg, "listening on {}:{}", impl_->options.listen, *port);
    return *port;
}

void server::stop() {
    impl_->stopping = true;
    impl_->accepting.stop();
}

}  // namespace bbt::county
