#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/drivers/whiteboard/board_source.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace bbt::drivers::whiteboard {

std::string board_identity::calibration_key() const {
    if (!serial.empty()) return serial;
    return fmt::format("{:04x}:{:04x}", vendor, product);
}

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
const log::category lg{"whiteboard"};

// How often a FIFO without a writer is looked at again.
constexpr auto writer_poll = 200ms;

board_identity identity_of(const hid::recording& r, const std::filesystem::path& path) {
    board_identity id;
    id.bus = r.bus;
    id.vendor = r.vendor;
    id.product = r.product;
    id.product_name = r.name;
    id.where = path.string();
    return id;
}

// The state the replay's coroutine shares: it outlives the source object
// until the coroutine has seen the stop.
class replay_state : public std::enable_shared_from_this<replay_state> {
public:
    replay_state(asio::any_io_executor ex, std::filesystem::path path, bool loop)
        : ex_(ex), path_(std::move(path)), loop_(loop), timer_(ex) {}

    void start(board_events events) {
        events_ = std::move(events);
        running_ = true;
        struct stat st {};
        bool fifo = ::stat(path_.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
        auto self = shared_from_this();
        if (fifo) {
            asio::co_spawn(
                ex_, [self] { return self->live(); }, asio::detached);
        } else {
            asio::co_spawn(
                ex_, [self] { return self->replay(); }, asio::detached);
        }
    }

    void stop() {
        running_ = false;
        events_ = {};
        timer_.cancel();
        if (pipe_) {
            boost::system::error_code ec;
            pipe_->cancel(ec);
        }
    }

private:
    void fail(const error& e) {
        if (running_ && events_.disconnected) events_.disconnected(e);
    }

    // A file: read whole, then each report at its time.
    asio::awaitable<void> replay() {
        std::ifstream in(path_, std::ios::binary);
        if (!in) {
            fail(errno_error(errno, i18n::text({"opening the whiteboard recording", "打开白板录制文件"}),
                             path_.string()));
            co_return;
        }
        std::ostringstream text;
        text << in.rdbuf();
        auto rec = hid::parse_recording(text.str());
        if (!rec) {
            fail(error(rec.error().code(), rec.error().message(), path_.string()));
            co_return;
        }
        events_.connected(identity_of(*rec, path_), rec->descriptor);
        do {
            auto start = std::chrono::steady_clock::now();
            double first = rec->reports.empty() ? 0 : rec->reports.front().time;
            for (const auto& r : rec->reports) {
                timer_.expires_at(start + std::chrono::microseconds(static_cast<int64_t>((r.time - first) * 1e6)));
                co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
                if (!running_) co_return;
                events_.report(r.data);
            }
            // A second between the end and the next round: the board's
            // contacts are lifted by then.
            timer_.expires_after(1s);
            co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!running_) co_return;
        } while (loop_ && !rec->reports.empty());
    }

    // A FIFO: lines as they come; each writer is one connection of the board.
    asio::awaitable<void> live() {
        while (running_) {
            int fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                fail(errno_error(errno, i18n::text({"opening the whiteboard stream", "打开白板数据流"}),
                                 path_.string()));
                co_return;
            }
            pipe_ = std::make_unique<asio::posix::stream_descriptor>(ex_, fd);
            hid::recording_reader reader;
            bool connected = false;
            std::string buffer;
            char chunk[4096];
            for (;;) {
                ssize_t n = ::read(fd, chunk, sizeof chunk);
                if (n < 0 && errno == EAGAIN) {
                    auto [ec] = co_await pipe_->async_wait(asio::posix::stream_descriptor::wait_read,
                                                           asio::as_tuple(asio::use_awaitable));
                    if (ec || !running_) co_return;
                    continue;
                }
                if (n <= 0 || !running_) break;  // no writer (yet, or any more)
                buffer.append(chunk, static_cast<size_t>(n));
                size_t nl;
                while ((nl = buffer.find('\n')) != std::string::npos) {
                    std::string line = buffer.substr(0, nl);
                    buffer.erase(0, nl + 1);
                    if (!running_) co_return;
                    if (auto r = reader.feed(line); !r) {
                        log::warning(lg, "{}: {}", path_.string(), r.error().message());
                        continue;
                    }
                    if (!connected && reader.has_header()) {
                        connected = true;
                        events_.connected(identity_of(reader.rec(), path_), reader.rec().descriptor);
                    }
                    if (connected && !reader.rec().reports.empty()) {
                        auto reports = std::move(reader.rec().reports);
                        reader.rec().reports.clear();
                        for (const auto& r : reports)
                            events_.report(r.data);
                    }
                }
            }
            pipe_.reset();
            if (connected) {
                fail(error(std::make_error_code(std::errc::no_such_device),
                           i18n::text({"the whiteboard stream ended (its writer closed it)",
                                       "白板数据流已结束（写入方已关闭）"}),
                           path_.string()));
            }
            timer_.expires_after(writer_poll);
            co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!running_) co_return;
        }
    }

    asio::any_io_executor ex_;
    std::filesystem::path path_;
    bool loop_;
    asio::steady_timer timer_;
    std::unique_ptr<asio::posix::stream_descriptor> pipe_;
    board_events events_;
    bool running_ = false;
};

class replay_source final : public board_source {
public:
    replay_source(asio::any_io_executor ex, std::filesystem::path path, bool loop)
        : state_(std::make_shared<replay_state>(std::move(ex), std::move(path), loop)) {}
    ~replay_source() override { state_->stop(); }
    void start(board_events events) override { state_->start(std::move(events)); }
    void stop() override { state_->stop(); }

private:
    std::shared_ptr<replay_state> state_;
};

}  // namespace

std::unique_ptr<board_source> make_replay_source(asio::any_io_executor executor, std::filesystem::path path,
                                                 bool loop) {
    return std::make_unique<replay_source>(std::move(executor), std::move(path), loop);
}

}  // namespace bbt::drivers::whiteboard
