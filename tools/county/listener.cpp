#include "listener.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bbt::county {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

result<uint16_t> listener::start(asio::any_io_executor ex, const std::string& address, uint16_t port,
                                 const i18n::msg& doing, session_fn session) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) {
        return error(ec, i18n::format({"{}: \"{}\" is not an IP address; set listen to one (127.0.0.1, 0.0.0.0, ::)",
                                       "{}：“{}”不是 IP 地址；请将 listen 设为 IP 地址（127.0.0.1、0.0.0.0、::）"},
                                      i18n::text(doing), address));
    }
    auto acc = std::make_unique<tcp::acceptor>(ex);
    tcp::endpoint ep(addr, port);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return errno_error(ec.value(), i18n::text(doing), fmt::format("{}:{}", address, port));
    uint16_t bound = acc->local_endpoint().port();
    ex_ = ex;
    acceptor_ = std::move(acc);
    session_ = std::move(session);
    stopping_ = false;
    asio::co_spawn(ex_, accept_loop(), asio::detached);
    return bound;
}

asio::awaitable<void> listener::accept_loop() {
    while (!stopping_) {
        auto [ec, sock] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (stopping_) co_return;
            continue;
        }
        asio::co_spawn(ex_, session_(std::move(sock)), asio::detached);
    }
}

void listener::stop() {
    stopping_ = true;
    if (acceptor_) {
        boost::system::error_code ec;
        acceptor_->close(ec);
    }
}

}  // namespace bbt::county
