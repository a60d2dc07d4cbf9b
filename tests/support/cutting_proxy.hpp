// A TCP relay on loopback that breaks every connection after N relayed reads
// (either direction), like a network that fails at step N: Beast's fail_count
// idea, on a real socket. A test moves N from 0 upwards until a request gets
// through uncut, and so reaches every place a transport can break.
//
// The relay runs on a thread of its own; cut_after() and cut() may be called
// from the test's thread between requests.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace bbt::test {

class cutting_proxy {
public:
    // Relays 127.0.0.1:port() to 127.0.0.1:upstream.
    explicit cutting_proxy(uint16_t upstream);
    ~cutting_proxy();

    [[nodiscard]] uint16_t port() const noexcept { return port_; }
    // Connections accepted from now on are broken at their Nth relayed read
    // (0: at once, before anything is relayed); -1: never.
    void cut_after(int n) noexcept {
        limit_ = n;
        cut_ = false;
    }
    // Whether a connection was broken since cut_after().
    [[nodiscard]] bool cut() const noexcept { return cut_; }

private:
    void accept();

    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;
    uint16_t upstream_;
    uint16_t port_ = 0;
    std::atomic<int> limit_{-1};
    std::atomic<bool> cut_{false};
    std::thread thread_;
};

}  // namespace bbt::test
