#include "http_get.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <strings.h>
#include <regex>

namespace bbt::test {

std::string http_answer::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
    }
    return {};
}

http_answer http_fetch(uint16_t port, const std::string& target, const std::string& method, const http_headers& headers,
                       const std::string& body) {
    namespace http = boost::beast::http;
    boost::asio::io_context ioc;
    boost::beast::tcp_stream s(ioc);
    s.expires_after(std::chrono::seconds(60));
    s.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers)
        req.set(k, v);
    if (!body.empty() || method == "POST") {
        req.body() = body;
        req.prepare_payload();
    }
    http::write(s, req);
    boost::beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // exports are large
    parser.skip(req.method() == http::verb::head);
    http::read(s, buf, parser);
    auto& res = parser.get();
    http_answer a{res.result_int(), std::string(res[http::field::content_type]), res.body(), res.chunked(), {}};
    for (const auto& f : res)
        a.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    return a;
}

std::string dashboard_sign_in(uint16_t port, const std::string& name, const std::string& password) {
    auto form = http_fetch(port, "/login");
    std::smatch csrf, cookie;
    std::string set = form.header("Set-Cookie");
    if (!std::regex_search(form.body, csrf, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")) ||
        !std::regex_search(set, cookie, std::regex("bbt_login=([0-9a-f]+)"))) {
        return {};
    }
    auto enc = [](const std::string& v) { return boost::urls::encode(v, boost::urls::unreserved_chars); };
    auto posted =
        http_fetch(port, "/login", "POST",
                   {{"Cookie", "bbt_login=" + cookie[1].str()}, {"Content-Type", "application/x-www-form-urlencoded"}},
                   "csrf=" + csrf[1].str() + "&name=" + enc(name) + "&password=" + enc(password));
    std::smatch session;
    std::string got = posted.header("Set-Cookie");
    if (posted.status != 303 || !std::regex_search(got, session, std::regex("bbt_session=([0-9a-f]+)"))) return {};
    return "bbt_session=" + session[1].str();
}

}  // namespace bbt::test
