#include "listener.hpp"

#include <fmt/format.h>

namespace bbt::county {

result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> open_listener(boost::asio::any_io_executor ex,
                                                                      const std::string& address, uint16_t port,
                                                                      const i18n::msg& doing) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) {
        return error(ec, i18n::format({"{}: \"{}\" is not an IP address; set listen to one (127.0.0.1, 0.0.0.0, ::)",
                                       "{}：“{}”不是 IP 地址；请将 listen 设为 IP 地址（127.0.0.1、0.0.0.0、::）"},
                                      i18n::text(doing), address));
    }
    auto acc = std::make_unique<asio::ip::tcp::acceptor>(ex);
    asio::ip::tcp::endpoint ep(addr, port);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return errno_error(ec.value(), i18n::text(doing), fmt::format("{}:{}", address, port));
    return acc;
}

}  // namespace bbt::county
