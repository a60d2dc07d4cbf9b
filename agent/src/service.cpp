#include "bbt/agent/service.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bbt::agent {
namespace {

const log::category lg{"agent"};

enum class agent_errc { start_failed = 1, stop_timed_out };

class agent_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.agent"; }
    std::string message(int ev) const override {
        return ev == 1 ? "service failed to start" : "service did not stop in time";
    }
};

std::error_code make_code(agent_errc e) {
    static const agent_category_impl c;
    return {static_cast<int>(e), c};
}

}  // namespace

std::string_view to_string(service_state s) noexcept {
    switch (s) {
        case service_state::registered: return "registered";
        case service_state::starting: return "starting";
        case service_state::running: return "running";
        case service_state::failed: return "failed";
        case service_state::stopping: return "stopping";
        case service_state::stopped: return "stopped";
        case service_state::stop_timed_out: return "stop-timed-out";
    }
    return "unknown";
}

asio::awaitable<result<void>> service_registry::start_all(std::chrono::milliseconds stop_deadline) {
    for (auto& e : entries_) {
        e.state = service_state::starting;
        log::debug(lg, "starting {}", e.svc->name());
        auto r = co_await e.svc->start();
        if (!r) {
            e.state = service_state::failed;
            e.error = r.error().what();
            log::error(lg, "{} failed to start: {}", e.svc->name(), e.error);
            co_await stop_all(stop_deadline);
            co_return error(make_code(agent_errc::start_failed),
                            i18n::format({"service {} failed to start: {}", "服务 {} 启动失败：{}"}, e.svc->name(),
                                         r.error().what()));
        }
        e.state = service_state::running;
        log::info(lg, "{} running", e.svc->name());
    }
    co_return result<void>{};
}

asio::awaitable<result<void>> service_registry::stop_all(std::chrono::milliseconds deadline,
                                                         std::chrono::milliseconds min_grace) {
    auto until = std::chrono::steady_clock::now() + deadline;
    std::string abandoned;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->state != service_state::running) continue;
        it->state = service_state::stopping;
        log::debug(lg, "stopping {}", it->svc->name());
        // The stop runs as a coroutine of its own, so that one which never
        // finishes can be left behind instead of holding up the rest.
        auto timer = std::make_shared<asio::steady_timer>(
            executor_, std::max(until, std::chrono::steady_clock::now() + min_grace));
        auto finished = std::make_shared<bool>(false);
        asio::co_spawn(executor_, it->svc->stop(), [timer, finished](std::exception_ptr) {
            *finished = true;
            timer->cancel();
        });
        if (!*finished) {
            co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        }
        if (*finished) {
            it->state = service_state::stopped;
            log::info(lg, "{} stopped", it->svc->name());
        } else {
            it->state = service_state::stop_timed_out;
            abandoned += (abandoned.empty() ? "" : ", ") + std::string(it->svc->name());
            log::error(lg, "{} did not stop within the deadline; abandoned", it->svc->name());
        }
    }
    if (!abandoned.empty()) {
        co_return error(
            make_code(agent_errc::stop_timed_out),
            i18n::format({"these services did not stop within {} ms: {}", "以下服务未能在 {} 毫秒内停止：{}"},
                         deadline.count(), abandoned));
    }
    co_return result<void>{};
}

std::vector<service_status> service_registry::status() const {
    std::vector<service_status> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) {
        out.push_back({std::string(e.svc->name()), e.state, e.error});
    }
    return out;
}

}  // namespace bbt::agent
