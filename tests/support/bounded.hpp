// Async test helpers run their io_context with a bound: a coroutine that
// never finishes fails the test with a message instead of hanging CI. The
// bound is generous (sanitizer builds on a busy machine are slow); it never
// decides a result, only stops a hang.
#pragma once

#include "doctest_bbt.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <future>

namespace bbt::test {

template <class T>
T run_bounded(boost::asio::io_context& ioc, std::future<T>& fut,
              std::chrono::seconds bound = std::chrono::seconds(120)) {
    ioc.run_for(bound);
    if (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        ioc.stop();
        FAIL("the operation did not finish within " << bound.count() << " s");
    }
    return fut.get();
}

}  // namespace bbt::test
