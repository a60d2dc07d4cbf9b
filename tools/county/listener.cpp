#include "listener.hpp"

#include "bbt/base/log.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>

namespace bbt::county {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
const log::category lg{"county"};
}  // namespace

result<uint16_t> listener::start(asio::any_io_executor ex, const std::string& address, uint16_t port,
                                 const i18n::msg& doing, session_fn session, connection_caps caps) {
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
    caps_ = caps;
    stopping_ = false;
    asio::co_spawn(ex_, accept_loop(), asio::detached);
    return bound;
}

asio::awaitable<void> listener::accept_loop() {
    asio::steady_timer pause(ex_);
    while (!stopping_) {
        auto [ec, sock] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (stopping_) co_return;
            if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
                ec == asio::error::no_memory) {
                // Out of descriptors: accepting again at once would spin.
                // Sessions that end give some back; wait for that.
                log::warning(lg, "cannot accept a connection: {}; {} open, waiting 100 ms", ec.message(), open_);
                pause.expires_after(100ms);
                co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            continue;
        }
        boost::system::error_code aec;
        auto remote = sock.remote_endpoint(aec);
        std::string address = aec ? std::string() : remote.address().to_string();
        auto& from = per_address_[address];
        if (open_ >= caps_.total || from >= caps_.per_address) {
            if (refused_++ % 1000 == 0) {
                log::warning(lg, "refused a connection from {}: {} open in all, {} from there (caps {} and {})",
                             address, open_, from, caps_.total, caps_.per_address);
            }
            if (from == 0) per_address_.erase(address);
            sock.close(aec);
            continue;
        }
        ++open_;
        ++from;
        asio::co_spawn(ex_, serve(std::move(sock), std::move(address)), asio::detached);
    }
}

asio::awaitable<void> listener::serve(tcp::socket sock, std::string address) {
    // Counted out however the session ends.
    struct counted {
        listener* l;
        std::string address;
        ~counted() {
            --l->open_;
            if (auto it = l->per_address_.find(address); it != l->per_address_.end() && --it->second == 0) {
                l->per_address_.erase(it);
            }
        }
    } count{this, std::move(address)};
    // A session that throws ends its connection, never the service.
    try {
        co_await session_(std::move(sock));
    } catch (const std::exception& e) {
        log::error(lg, "a connection from {} ended on an error: {}", count.address, e.what());
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
