// A TCP listening socket for bbt-county's servers, with an error that says
// which address could not be listened on and why.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/i18n.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

namespace bbt::county {

// Binds `address`:`port` (port 0: the kernel picks) and listens; `doing`
// names what for in the error ("listening for agents").
[[nodiscard]] result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> open_listener(boost::asio::any_io_executor ex,
                                                                                    const std::string& address,
                                                                                    uint16_t port,
                                                                                    const i18n::msg& doing);

}  // namespace bbt::county
