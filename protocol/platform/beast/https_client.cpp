// Boost.Beast and Asio's OpenSSL stream are included only here.
#include "bbt/protocol/https_client.hpp"

#include "bbt/base/i18n.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <charconv>

namespace bbt::protocol {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr size_t max_response_bytes = 8 << 20;

class https_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.https"; }
    std::string message(int ev) const override {
        switch (static_cast<https_errc>(ev)) {
            case https_errc::bad_url: return "bad URL";
            case https_errc::connect: return "cannot connect";
            case https_errc::server_untrusted: return "the server's certificate is not trusted";
            case https_errc::client_refused: return "the server refused our certificate";
            case https_errc::io: return "connection failed";
        }
        return "https error";
    }
};

error fail(https_errc code, std::string_view message, const std::string& url) { return error(code, message, url); }

// A broken handshake or exchange: the county refusing this set's certificate
// (a TLS alert; with TLS 1.3 it may only arrive with the first data), or any
// other failure, described by `otherwise`.
error connection_failure(const boost::system::error_code& ec, const i18n::msg& otherwise, const std::string& url) {
    std::string reason = ec.message();
    if (reason.find("alert") != std::string::npos || reason.find("certificate") != std::string::npos) {
        return fail(https_errc::client_refused,
                    i18n::format({"the county server refused this set's certificate ({}); enrol again with a new code "
                                  "(bbtctl county enrol)",
                                  "县级平台拒绝了本机证书（{}）；请用新的注册码重新注册（bbtctl county enrol）"},
                                 reason),
                    url);
    }
    return fail(https_errc::io, i18n::format(otherwise, reason), url);
}

}  // namespace

const std::error_category& https_category() noexcept {
    static const https_category_impl c;
    return c;
}
std::error_code make_error_code(https_errc e) noexcept { return {static_cast<int>(e), https_category()}; }

namespace {

asio::awaitable<result<https_response>> exchange(asio::any_io_executor ex, const tls_identity& tls,
                                                 const https_request& req, http::verb verb) {
    if (verb == http::verb::unknown) {
        co_return fail(https_errc::bad_url, fmt::format("\"{}\" is not an HTTP method", req.method), req.url);
    }
    auto parsed = boost::urls::parse_absolute_uri(req.url);
    if (!parsed || parsed->scheme() != "https" || parsed->host().empty()) {
        co_return fail(https_errc::bad_url,
                       i18n::text({"the county's address must be an https:// URL", "县级平台地址必须是 https:// 网址"}),
                       req.url);
    }
    std::string host = parsed->host();
    std::string port = parsed->has_port() ? std::string(parsed->port()) : "443";
    std::string target = parsed->encoded_target().empty() ? "/" : std::string(parsed->encoded_target());

    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
    boost::system::error_code ec;
    ctx.add_certificate_authority(asio::buffer(tls.ca_pem), ec);
    if (ec) {
        co_return fail(https_errc::server_untrusted,
                       i18n::text({"the county CA certificate cannot be read; reinstall it",
                                   "无法读取县级平台 CA 证书；请重新安装"}),
                       req.url);
    }
    if (!tls.cert_pem.empty()) {
        ctx.use_certificate_chain(asio::buffer(tls.cert_pem), ec);
        if (!ec) ctx.use_private_key(asio::buffer(tls.key_pem), ssl::context::pem, ec);
        if (ec) {
            co_return fail(https_errc::client_refused,
                           i18n::text({"this set's certificate or key cannot be used; enrol again",
                                       "本机证书或密钥无法使用；请重新注册"}),
                           req.url);
        }
    }
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_verify_callback(ssl::host_name_verification(host));

    beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
    // SNI (SSL_set_tlsext_host_name is a macro with a C cast).
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, host.data());
    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, port, asio::as_tuple(asio::use_awaitable));
    if (rec) {
        co_return fail(
            https_errc::connect,
            i18n::format({"cannot find the county server {}: {}", "找不到县级平台服务器 {}：{}"}, host, rec.message()),
            req.url);
    }
    beast::get_lowest_layer(stream).expires_after(req.timeout);
    auto [cec, ep] =
        co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (cec) {
        co_return fail(
            https_errc::connect,
            i18n::format({"cannot connect to the county server {}:{}: {}", "无法连接县级平台服务器 {}:{}：{}"}, host,
                         port, cec.message()),
            req.url);
    }
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (hec) {
        long verify = SSL_get_verify_result(stream.native_handle());
        if (verify != X509_V_OK) {
            co_return fail(https_errc::server_untrusted,
                           i18n::format({"the county server's certificate is not trusted ({}); check the county's "
                                         "address and the county CA installed here",
                                         "县级平台服务器的证书不可信（{}）；请检查平台地址和本机安装的县级 CA"},
                                        X509_verify_cert_error_string(verify)),
                           req.url);
        }
        co_return connection_failure(
            hec, {"the TLS handshake with the county failed: {}", "与县级平台的 TLS 握手失败：{}"}, req.url);
    }

    http::request<http::string_body> r{verb, target, 11};
    r.set(http::field::host, host);
    r.set(http::field::user_agent, "bbt-agent");
    bool bodiless = verb == http::verb::get || verb == http::verb::head;
    if (!bodiless) {
        r.set(http::field::content_type, req.content_type);
        if (!req.content_encoding.empty()) r.set(http::field::content_encoding, req.content_encoding);
        r.body() = req.body;
    } else {
        r.set(http::field::accept_encoding, "identity");
        if (!req.if_none_match.empty()) r.set(http::field::if_none_match, req.if_none_match);
    }
    for (const auto& [name, value] : req.headers)
        r.set(name, value);
    r.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, r, asio::as_tuple(asio::use_awaitable));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes);
    // A HEAD's answer may give a Content-Length without a body.
    if (verb == http::verb::head) parser.skip(true);
    boost::system::error_code rerr = wec;
    if (!rerr) {
        auto [e2, n2] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        rerr = e2;
    }
    if (rerr) {
        co_return connection_failure(rerr, {"the request to the county failed: {}", "向县级平台的请求失败：{}"},
                                     req.url);
    }
    auto res = parser.release();
    https_response out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    out.content_encoding = std::string(res[http::field::content_encoding]);
    out.etag = std::string(res[http::field::etag]);
    for (const auto& f : res)
        out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    auto ra = res[http::field::retry_after];
    int64_t secs = 0;
    if (!ra.empty()) {
        auto [p, e] = std::from_chars(ra.data(), ra.data() + ra.size(), secs);
        if (e == std::errc() && secs >= 0) out.retry_after_s = secs;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    co_return out;
}

}  // namespace

std::string_view https_response::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (beast::iequals(k, name)) return v;
    }
    return {};
}

// Not coroutines themselves: the caller awaits exchange's frame directly.
asio::awaitable<result<https_response>> https_post(asio::any_io_executor ex, const tls_identity& tls,
                                                   const https_request& req) {
    return exchange(std::move(ex), tls, req, http::verb::post);
}

asio::awaitable<result<https_response>> https_get(asio::any_io_executor ex, const tls_identity& tls,
                                                  const https_request& req) {
    return exchange(std::move(ex), tls, req, http::verb::get);
}

asio::awaitable<result<https_response>> https_send(asio::any_io_executor ex, const tls_identity& tls,
                                                   const https_request& req) {
    return exchange(std::move(ex), tls, req, http::string_to_verb(req.method));
}

}  // namespace bbt::protocol
