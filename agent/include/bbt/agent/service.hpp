// Services of the agent and the registry that starts and stops them.
//
// Services are started in the order they were added and stopped in reverse,
// all on the control thread's io_context. A stop is bounded by a deadline; a
// service that overruns is abandoned (reported, and the stop goes on with the
// rest), so that the ledger, added first, is always closed last.
#pragma once

#include "bbt/base/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::agent {

namespace asio = boost::asio;

class service {
public:
    virtual ~service() = default;
    [[nodiscard]] virtual std::string_view name() const = 0;
    // Brings the service up; an error stops the agent's start-up.
    virtual asio::awaitable<result<void>> start() = 0;
    // Releases what the service holds. Should finish well within the deadline.
    virtual asio::awaitable<void> stop() = 0;
};

enum class service_state { registered, starting, running, failed, stopping, stopped, stop_timed_out };
[[nodiscard]] std::string_view to_string(service_state s) noexcept;

struct service_status {
    std::string name;
    service_state state;
    std::string error;  // why it failed, if it did
};

class service_registry {
public:
    explicit service_registry(asio::any_io_executor executor) : executor_(std::move(executor)) {}

    // Takes ownership; returns the service for wiring.
    template <class S>
    S& add(std::unique_ptr<S> s) {
        S& ref = *s;
        entries_.push_back({std::move(s), service_state::registered, {}});
        return ref;
    }

    // Starts every service in order. On a failure, stops those already
    // running (in reverse) and returns the failure, naming the service.
    asio::awaitable<result<void>> start_all(std::chrono::milliseconds stop_deadline);

    // Stops every running service in reverse order within `deadline`. A
    // service that overruns is abandoned and the ones before it still get at
    // least `min_grace` each. Returns an error naming every service abandoned.
    asio::awaitable<result<void>> stop_all(std::chrono::milliseconds deadline,
                                           std::chrono::milliseconds min_grace = std::chrono::milliseconds(200));

    [[nodiscard]] std::vector<service_status> status() const;

private:
    struct entry {
        std::unique_ptr<service> svc;
        service_state state;
        std::string error;
    };
    asio::any_io_executor executor_;
    std::vector<entry> entries_;
};

}  // namespace bbt::agent
