// Boost.Beast is included only here in media/.
#include "bbt/media/download.hpp"
#include "bbt/base/clock.hpp"
#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/unique_fd.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <vector>

namespace bbt::media::cache {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;

constexpr size_t chunk_bytes = 1 << 20;
// Written data is handed to the disk every this many bytes (write-behind), so
// that the fsync before the commit finds little left to do.
constexpr int64_t writeback_bytes = 16 << 20;

error http_error(std::string_view what, const std::string& url) {
    return error(std::make_error_code(std::errc::io_error), what, url);
}

std::string read_validator(const fs::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

// A strong validator: an ETag that is not weak (W/"...").
bool strong(std::string_view etag) { return etag.size() >= 2 && etag.front() == '"' && !etag.starts_with("W/"); }

// "bytes START-END/TOTAL" -> START and TOTAL.
bool parse_content_range(std::string_view v, int64_t& start, int64_t& total) {
    if (!v.starts_with("bytes ")) return false;
    v.remove_prefix(6);
    auto dash = v.find('-'), slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return false;
    auto num = [](std::string_view s, int64_t& out) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc{} && p == s.data() + s.size();
    };
    return num(v.substr(0, dash), start) && num(v.substr(slash + 1), total);
}

// The client side of https:// downloads: the system's CA store (Debian's
// ca-certificates; SSL_CERT_FILE and SSL_CERT_DIR as OpenSSL reads them),
// TLS 1.2 at least, the server's name checked.
result<ssl::context> tls_client(const fs::path& ca_file) {
    ssl::context c(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(c.native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    c.set_default_verify_paths(ec);
    if (!ec && !ca_file.empty()) c.load_verify_file(ca_file.string(), ec);
    if (ec) {
        return error(ec, i18n::format({"the CA certificates for https:// courseware cannot be read: {}",
                                       "无法读取 https:// 课件所用的 CA 证书：{}"},
                                      ec.message()));
    }
    c.set_verify_mode(ssl::verify_peer);
    return c;
}

// The request and its answer over a connected stream (plain or TLS): from
// `have` bytes on disk (0: from the beginning).
template <class Stream>
asio::awaitable<result<void>> exchange(Stream& stream, asio::any_io_executor ex, store& s, const resource& r,
                                       const download_options& o, download_report& rep, bool allow_resume,
                                       std::string& digest, const std::string& host, const std::string& target) {
    auto& lowest = beast::get_lowest_layer(stream);
    auto partial = s.partial_path(r);
    auto meta = fs::path(partial.string() + ".etag");
    std::error_code ec;
    int64_t have = allow_resume && fs::exists(partial, ec) ? static_cast<int64_t>(fs::file_size(partial, ec)) : 0;
    std::string validator = have > 0 ? read_validator(meta) : "";
    if (have > r.size || (have > 0 && !strong(validator))) have = 0;  // nothing safe to resume from
    rep.resumed_from = have;

    if (auto room = s.make_room(r.size - have, clock::wall_now().count()); !room) co_return room.error();

    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, host);  // with its port when not the scheme's
    req.set(http::field::user_agent, "bbt-agent");
    if (have > 0) {
        req.set(http::field::range, "bytes=" + std::to_string(have) + "-");
        req.set(http::field::if_range, validator);
    }
    lowest.expires_after(o.timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    if (wec) co_return http_error(wec.message(), r.url);

    beast::flat_buffer buffer;
    buffer.reserve(chunk_bytes);  // reads of the body as large as a chunk, not 512 bytes
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(static_cast<uint64_t>(r.size) + 1);
    lowest.expires_after(o.timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (hec) co_return http_error(hec.message(), r.url);
    const auto& head = parser.get();
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    if (head.result() == http::status::partial_content && have > 0) {
        int64_t start = -1, total = -1;
        if (!parse_content_range(head[http::field::content_range], start, total) || start != have || total != r.size) {
            co_return http_error(i18n::format({"the server sent a part that does not continue the download ({}); it "
                                               "starts again",
                                               "服务器返回的分段与已下载部分不衔接（{}）；将重新下载"},
                                              std::string(head[http::field::content_range])),
                                 r.url);
        }
        flags |= O_APPEND;
    } else if (head.result() == http::status::ok) {
        if (have > 0) rep.restarted = true;  // If-Range did not match: the file changed
        have = 0;
        rep.resumed_from = 0;
        flags |= O_TRUNC;
    } else {
        co_return http_error(i18n::format({"the courseware server answered {} {}", "课件服务器返回 {} {}"},
                                          head.result_int(), std::string(head.reason())),
                             r.url);
    }
    // The validator to resume with next time, kept before the first byte.
    std::string etag(head[http::field::etag]);
    if (have == 0) {
        if (strong(etag)) {
            if (auto w = write_file_atomic(meta, etag + "\n"); !w) co_return w.error();
        } else {
            fs::remove(meta, ec);
        }
    }
    unique_fd out{::open(partial.c_str(), flags, 0640)};
    if (out.get() < 0)
        co_return errno_error(errno, i18n::text({"writing a download", "写入下载文件"}), partial.string());

    // Hashed as it arrives, on a thread of its own: the commit then need not read the file again.
    sha256_pipe hash;
    if (have > 0) {
        if (auto h = hash.feed_file(partial, have); !h) co_return h.error();
    }
    int64_t written = have, flushed = have;
    auto due = std::chrono::steady_clock::now();
    asio::steady_timer pace(ex);
    while (!parser.is_done()) {
        std::vector<char> chunk = hash.buffer(chunk_bytes);
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        lowest.expires_after(o.timeout);
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (bec == http::error::need_buffer) bec = {};
        if (bec) {
            co_return http_error(
                i18n::format({"the download broke off: {}; it resumes from here", "下载中断：{}；将从中断处继续"},
                             bec.message()),
                r.url);
        }
        size_t n = chunk.size() - parser.get().body().size;
        for (size_t done = 0; done < n;) {
            ssize_t w = ::write(out.get(), chunk.data() + done, n - done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                co_return errno_error(
                    errno, i18n::text({"writing a download (is the disk full?)", "写入下载文件（磁盘是否已满？）"}),
                    partial.string());
            }
            done += static_cast<size_t>(w);
        }
        chunk.resize(n);
        hash.feed(std::move(chunk));
        written += static_cast<int64_t>(n);
        if (written - flushed >= writeback_bytes) {
            ::sync_file_range(out.get(), flushed, written - flushed, SYNC_FILE_RANGE_WRITE);
            flushed = written;
        }
        rep.fetched += static_cast<int64_t>(n);
        // Paced chunk by chunk at the limit of the moment; at most a second's
        // worth of credit is kept, so a raised limit does not burst.
        int64_t limit = o.rate ? o.rate() : o.bytes_per_second;
        auto now = std::chrono::steady_clock::now();
        if (limit > 0) {
            due = std::max(due, now - std::chrono::seconds(1)) +
                  std::chrono::microseconds(static_cast<int64_t>(n) * 1'000'000 / limit);
            if (due > now) {
                pace.expires_at(due);
                co_await pace.async_wait(asio::as_tuple(asio::use_awaitable));
            }
        } else {
            due = now;
        }
    }
    digest = hash.finish();
    co_return result<void>{};
}

// One attempt: connects (and for https:// shakes hands, checking the
// server's certificate against the system's CAs and its name), then asks.
asio::awaitable<result<void>> fetch(asio::any_io_executor ex, store& s, const resource& r, const download_options& o,
                                    download_report& rep, bool allow_resume, std::string& digest) {
    auto url = boost::urls::parse_absolute_uri(r.url);
    bool tls = url && url->scheme() == "https";
    if (!url || (url->scheme() != "http" && !tls) || url->host().empty()) {
        co_return http_error(i18n::text({"a courseware address must be an http:// or https:// URL",
                                         "课件地址必须是 http:// 或 https:// 网址"}),
                             r.url);
    }
    std::string host = url->host();
    std::string port = url->has_port() ? std::string(url->port()) : tls ? "443" : "80";
    std::string target = url->encoded_target().empty() ? "/" : std::string(url->encoded_target());
    beast::tcp_stream stream(ex);
    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, port, asio::as_tuple(asio::use_awaitable));
    if (rec) {
        co_return http_error(
            i18n::format({"cannot find the courseware server: {}", "找不到课件服务器：{}"}, rec.message()), r.url);
    }
    stream.expires_after(o.timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (cec) {
        co_return http_error(i18n::format({"cannot reach the courseware server: {}; the download waits for the "
                                           "network",
                                           "无法连接课件服务器：{}；下载将等待网络恢复"},
                                          cec.message()),
                             r.url);
    }
    std::string host_header = url->has_port() ? host + ":" + port : host;
    if (!tls) co_return co_await exchange(stream, ex, s, r, o, rep, allow_resume, digest, host_header, target);

    auto ctx = tls_client(o.ca_file);
    if (!ctx) co_return ctx.error();
    beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *ctx);
    // SNI, and the name the certificate must carry (a DNS name or an address).
    // (SSL_set_tlsext_host_name, without the macro's C cast.)
    if (!SSL_ctrl(secure.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(host.c_str())) ||
        !SSL_set1_host(secure.native_handle(), host.c_str())) {
        co_return http_error(i18n::text({"cannot set up TLS for the courseware server", "无法为课件服务器建立 TLS"}),
                             r.url);
    }
    beast::get_lowest_layer(secure).expires_after(o.timeout);
    auto [tec] = co_await secure.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (tec) {
        long verify = SSL_get_verify_result(secure.native_handle());
        std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : tec.message();
        co_return http_error(i18n::format({"the courseware server's certificate is not trusted ({}): it must come "
                                           "from a CA in the system's store (ca-certificates) and name the server",
                                           "课件服务器的证书不受信任（{}）：须由系统证书库（ca-certificates）中的 "
                                           "CA 签发并包含服务器名称"},
                                          why),
                             r.url);
    }
    auto done = co_await exchange(secure, ex, s, r, o, rep, allow_resume, digest, host_header, target);
    beast::get_lowest_layer(secure).expires_after(std::chrono::seconds(2));
    co_await secure.async_shutdown(asio::as_tuple(asio::use_awaitable));
    co_return done;
}

}  // namespace

asio::awaitable<result<fs::path>> download(asio::any_io_executor ex, store& s, const resource& r,
                                           download_options options, download_report* report) {
    download_report local;
    download_report& rep = report ? *report : local;
    auto meta = fs::path(s.partial_path(r).string() + ".etag");
    // Resumed bytes that fail the hash may be the bad ones: once more, from 0.
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::string digest;
        auto fetched = co_await fetch(ex, s, r, options, rep, attempt == 0, digest);
        if (!fetched) co_return fetched.error();
        auto committed = s.commit(r, read_validator(meta), clock::wall_now().count(), digest);
        std::error_code ec;
        if (committed) {
            fs::remove(meta, ec);
            co_return committed;
        }
        fs::remove(meta, ec);
        if (committed.error().code() != cache_errc::corrupt || rep.resumed_from == 0) co_return committed.error();
        rep.restarted = true;
    }
    co_return error(cache_errc::corrupt, i18n::text({"the download does not verify", "下载文件校验失败"}), r.id);
}

}  // namespace bbt::media::cache
