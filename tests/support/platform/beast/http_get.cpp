#include "http_get.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace bbt::test {

http_answer http_fetch(uint16_t port, const std::string& target, const std::string& method) {
    namespace http = boost::beast::http;
    boost::asio::io_context ioc;
    boost::beast::tcp_stream s(ioc);
    s.expires_after(std::chrono::seconds(60));
    s.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(s, req);
    boost::beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // exports are large
    parser.skip(req.method() == http::verb::head);
    http::read(s, buf, parser);
    auto& res = parser.get();
    return {res.result_int(), std::string(res[http::field::content_type]), res.body(), res.chunked()};
}

}  // namespace bbt::test
