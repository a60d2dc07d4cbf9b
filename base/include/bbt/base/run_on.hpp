// Runs a function on a worker thread (a thread pool of the caller's own) and
// resumes the awaiting coroutine on its own executor with the result: how
// services keep disk, hashing and media work off the control loop.
//
// GCC 12 destroys a closure twice when it is made as a temporary inside a
// co_await expression (its captures are freed twice): callers pass a named
// local, moved in.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bbt {

template <class R, class F>
boost::asio::awaitable<R> run_on(boost::asio::thread_pool& pool, F f) {
    namespace asio = boost::asio;
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
        [&pool](auto handler, F fn) {
            auto back = asio::get_associated_executor(handler);
            asio::post(pool, [fn = std::move(fn), handler = std::move(handler), back]() mutable {
                R r = fn();
                asio::post(back, [handler = std::move(handler), r = std::move(r)]() mutable {
                    std::move(handler)(std::move(r));
                });
            });
        },
        asio::use_awaitable, std::move(f));
}

}  // namespace bbt
