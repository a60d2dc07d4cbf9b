#include "cutting_proxy.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace bbt::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One relayed connection: both sockets, the reads made so far, and where it breaks.
struct link : std::enable_shared_from_this<link> {
    tcp::socket down, up;
    int limit;
    int reads = 0;
    std::atomic<bool>& cut_flag;
    link(tcp::socket d, asio::io_context& ioc, int l, std::atomic<bool>& flag)
        : down(std::move(d)), up(ioc), limit(l), cut_flag(flag) {}

    void close() {
        boost::system::error_code ignored;
        down.close(ignored);
        up.close(ignored);
    }
    // Counts a read; true when this one breaks the connection.
    bool breaks() {
        if (limit >= 0 && reads++ >= limit) {
            cut_flag = true;
            close();
            return true;
        }
        return false;
    }
    void pump(tcp::socket& from, tcp::socket& to) {
        auto buf = std::make_shared<std::array<char, 4096>>();
        auto self = shared_from_this();
        from.async_read_some(asio::buffer(*buf), [self, buf, &from, &to](boost::system::error_code ec, size_t n) {
            if (ec) {
                self->close();
                return;
            }
            if (self->breaks()) return;
            asio::async_write(to, asio::buffer(buf->data(), n),
                              [self, &from, &to](boost::system::error_code wec, size_t) {
                                  if (wec) {
                                      self->close();
                                      return;
                                  }
                                  self->pump(from, to);
                              });
        });
    }
};

}  // namespace

cutting_proxy::cutting_proxy(uint16_t upstream)
    : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), upstream_(upstream) {
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
}

cutting_proxy::~cutting_proxy() {
    ioc_.stop();
    thread_.join();
}

void cutting_proxy::accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
        if (ec) return;
        auto l = std::make_shared<link>(std::move(s), ioc_, limit_.load(), cut_);
        if (l->limit == 0) {
            cut_ = true;
            l->close();
        } else {
            boost::system::error_code cec;
            l->up.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), upstream_), cec);
            if (cec) {
                l->close();
            } else {
                l->pump(l->down, l->up);
                l->pump(l->up, l->down);
            }
        }
        accept();
    });
}

}  // namespace bbt::test
