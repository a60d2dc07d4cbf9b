// bbt-county's listening sockets: bind, listen, and hand every accepted
// connection to a session coroutine; errors say which address could not be
// listened on and why.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/i18n.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace bbt::county {

// How many connections are served at once, in all and from one address;
// beyond, a connection is closed as soon as it is accepted.
struct connection_caps {
    size_t total = 2048;
    size_t per_address = 256;  // a school's sets may share one NAT address
};

class listener {
public:
    using session_fn = std::function<boost::asio::awaitable<void>(boost::asio::ip::tcp::socket)>;

    // Binds `address`:`port` (port 0: the kernel picks) and starts accepting;
    // `doing` names what for in an error ("listening for agents"). The port bound.
    [[nodiscard]] result<uint16_t> start(boost::asio::any_io_executor ex, const std::string& address, uint16_t port,
                                         const i18n::msg& doing, session_fn session, connection_caps caps = {});
    [[nodiscard]] size_t open_connections() const noexcept { return open_; }
    void stop();

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket sock, std::string address);

    boost::asio::any_io_executor ex_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    session_fn session_;
    bool stopping_ = false;
    connection_caps caps_;
    size_t open_ = 0;
    std::map<std::string, size_t> per_address_;
    size_t refused_ = 0;
};

}  // namespace bbt::county
