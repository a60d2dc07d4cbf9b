#include "bbt/agent/daemon.hpp"

#include "agent_parts.hpp"

#include "bbt/agent/classroom_controller.hpp"
#include "bbt/agent/county_service.hpp"
#include "bbt/agent/courseware_service.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/local_api_server.hpp"
#include "bbt/agent/notify.hpp"
#include "bbt/agent/projector_service.hpp"
#include "bbt/agent/recording_service.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/agent/whiteboard_service.hpp"
#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/utf8.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/board/gpio.hpp"
#include "bbt/board/local_devices.hpp"
#include "bbt/board/profile.hpp"
#include "bbt/board/relays.hpp"
#include "bbt/board/watchdog.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

namespace bbt::agent {
namespace {

const log::category lg{"agent"};

// The board: its profile, and the set's own state in the ledger.
class board_service final : public service {
public:
    board_service(board::profile p, ledger_service& l) : profile_(std::move(p)), ledger_(l) {}
    std::string_view name() const override { return "board"; }
    asio::awaitable<result<void>> start() override {
        // The set is on for as long as its agent runs.
        ledger_.record("set", "on");
        co_return result<void>{};
    }
    asio::awaitable<void> stop() override { co_return; }
    const board::profile& profile() const { return profile_; }

private:
    board::profile profile_;
    ledger_service& ledger_;
};

// The set's computer, as its firmware describes it (DMI; the serial number
// is readable by root only, else left empty).
protocol::county::device pc_identity(const std::string& board) {
    auto dmi = [](const char* name) {
        std::ifstream in(std::string("/sys/class/dmi/id/") + name);
        std::string v;
        std::getline(in, v);
        return utf8::from_legacy(v);  // Chinese OEM BIOSes write GBK
    };
    return {protocol::county::device_kind::pc, dmi("sys_vendor"), dmi("product_name") + " (board " + board + ")",
            dmi("product_serial"), dmi("bios_version")};
}

result<void> ensure_state_dir(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return errno_error(
            ec.value(),
            i18n::text({"creating the state directory (agent.state_dir)", "创建状态目录（agent.state_dir）"}),
            dir.string());
    }
    if (::access(dir.c_str(), W_OK) != 0) {
        return errno_error(
            errno, i18n::text({"writing to the state directory (agent.state_dir)", "写入状态目录（agent.state_dir）"}),
            dir.string());
    }
    return {};
}

// The hardware watchdog, fed from the control loop: a loop that hangs stops
// feeding it, and the set resets.
asio::awaitable<void> hardware_watchdog_loop(board::watchdog& dog) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
        if (auto r = dog.feed(); !r) log::error(lg, "{}", r.error().what());
        t.expires_after(dog.timeout() / 4);
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
    }
}

asio::awaitable<void> watchdog_loop(std::chrono::microseconds interval) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
        notify::watchdog();
        t.expires_after(interval / 2);
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
    }
}

// The control board's relays and front panel: simulated ones keep their
// history beside the ledger (key presses are lines, "class", written into the
// FIFO `panel`); GPIO ones are the board's lines. Without them the class
// still runs; mains are then switched by hand.
struct board_io {
    std::unique_ptr<board::relay_bank> relays;
    std::unique_ptr<board::panel> panel;
};

board_io open_board_io(const agent_config& cfg, const board::profile& profile) {
    board_io io;
    if (profile.simulated) {
        io.relays = std::make_unique<board::sim_relays>(cfg.state_dir / "relays.log");
        if (auto p = board::sim_panel::open(cfg.state_dir / "panel", cfg.state_dir / "panel.log")) {
            io.panel = std::move(*p);
        } else {
            log::error(lg, "the simulated front panel: {}", p.error().what());
        }
    } else if (profile.gpio) {
        if (auto r = board::open_gpio_relays(cfg.gpio)) {
            io.relays = std::move(*r);
        } else {
            log::error(lg, "the control board's relays: {}", r.error().what());
        }
        if (auto p = board::open_gpio_panel(cfg.gpio)) {
            io.panel = std::move(*p);
        } else {
            log::error(lg, "the control board's class key and LEDs: {}", p.error().what());
        }
    }
    return io;
}

class_timing timing_of(const agent_config::projector_config& c) {
    class_timing t;
    t.input = c.input;
    t.mains_wait = c.mains_wait;
    t.warmup_timeout = c.warmup_timeout;
    t.cooldown_timeout = c.cooldown_timeout;
    return t;
}

// The hardware watchdog is armed once the agent is up, and fed from then on.
std::unique_ptr<board::watchdog> open_watchdog(const agent_config& cfg) {
    if (cfg.watchdog.empty()) return nullptr;
    auto w =
        board::watchdog::open(cfg.watchdog, std::chrono::duration_cast<std::chrono::seconds>(cfg.watchdog_timeout));
    if (!w) {
        log::error(lg, "{}", w.error().what());
        return nullptr;
    }
    log::info(lg, "watchdog {} armed, timeout {} s", cfg.watchdog.string(), (*w)->timeout().count());
    return std::move(*w);
}

// Starts every service, tells systemd, and waits for SIGTERM or SIGINT; then
// stops them within the deadline. Returns the exit code.
int serve(asio::io_context& ioc, service_registry& registry, const agent_config& cfg, const board::profile& profile,
          board::watchdog* dog) {
    auto ex = ioc.get_executor();
    int code = exit_ok;
    asio::signal_set signals(ex, SIGTERM, SIGINT);
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
            if (auto r = co_await registry.start_all(cfg.stop_timeout); !r) {
                log::error(lg, "{}", r.error().what());
                code = exit_failure;
                ioc.stop();
                co_return;
            }
            notify::ready(fmt::format("running on board profile {}", profile.name));
            log::notice(lg, "bbt-agent {} ready (board {}, state in {}, API on {})", bbt_version(), profile.name,
                        cfg.state_dir.string(), cfg.socket.string());
            if (auto interval = notify::watchdog_interval()) {
                asio::co_spawn(ex, watchdog_loop(*interval), asio::detached);
            }
            if (dog) asio::co_spawn(ex, hardware_watchdog_loop(*dog), asio::detached);
            auto [ec, signo] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
            log::notice(lg, "{} received; stopping (deadline {} ms)", signo == SIGINT ? "SIGINT" : "SIGTERM",
                        cfg.stop_timeout.count());
            notify::stopping();
            // A second signal while stopping ends the wait at once.
            signals.async_wait([&](boost::system::error_code e, int) {
                if (!e) {
                    log::warning(lg, "second signal: stopping now");
                    code = exit_stop_timeout;
                    ioc.stop();
                }
            });
            if (auto r = co_await registry.stop_all(cfg.stop_timeout); !r) {
                log::error(lg, "{}", r.error().what());
                code = exit_stop_timeout;
            }
            log::notice(lg, "stopped");
            ioc.stop();
        },
        [&](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    log::error(lg, "control loop failed: {}", x.what());
                }
                code = exit_failure;
                ioc.stop();
            }
        });
    ioc.run();
    return code;
}

}  // namespace

int run_daemon(const agent_config& cfg) {
    auto started_mono = clock::monotonic_now();
    auto started_wall = clock::wall_now();

    auto profile = board::find_profile(cfg.board);
    if (!profile) {
        log::error(lg, "agent.board: {}", profile.error().what());
        return exit_config;
    }
    if (auto r = ensure_state_dir(cfg.state_dir); !r) {
        log::error(lg, "{}", r.error().what());
        return exit_failure;
    }

    // Declared first, destroyed last: every I/O object below must die before
    // the context whose services it uses.
    asio::io_context ioc(1);
    auto ex = ioc.get_executor();
    service_registry registry(ex);

    auto& ledger = registry.add(std::make_unique<ledger_service>(ex, cfg.state_dir / "ledger.db", cfg.heartbeat));
    registry.add(std::make_unique<board_service>(*profile, ledger));
    auto& whiteboard = registry.add(std::make_unique<whiteboard_service>(ex, cfg.whiteboard, ledger, cfg.state_dir));
    auto& projector = registry.add(std::make_unique<projector_service>(ex, cfg.projector, ledger));
    auto io = open_board_io(cfg, *profile);
    auto& classroom = registry.add(std::make_unique<classroom_controller>(
        ex, projector.configured() ? &projector : nullptr, timing_of(cfg.projector), io.relays.get(), io.panel.get(),
        ledger, make_steady_clock(ex)));

    // The county's service asks the others for health and inventory through
    // `parts`, which is complete before anything starts.
    std::unique_ptr<agent_parts> parts;
    auto& county = registry.add(std::make_unique<county_service>(
        ex, cfg.county, ledger, cfg.state_dir, [&parts] { return set_health(*parts); },
        [&parts] { return set_inventory(*parts); }, [&projector] { return projector.lamps(); }));
    parts.reset(new agent_parts{cfg, *profile, registry, ledger, whiteboard, projector, classroom, county, nullptr,
                                nullptr, pc_identity(profile->name), started_mono, started_wall});

    if (cfg.cache.enabled) {
        parts->courseware = &registry.add(std::make_unique<courseware_service>(
            ex, cfg.cache, cfg.state_dir, ledger,
            [&county](std::string path, std::string etag) { return county.fetch(path, etag); }));
    }
    if (cfg.recorder.enabled) {
        recording_service::links with;
        auto* courseware = parts->courseware;
        with.send = [&county](protocol::https_request r) { return county.send(std::move(r)); };
        with.lesson_on = [&classroom, courseware] {
            return classroom.state() == class_state::in_class || (courseware != nullptr && courseware->lesson_on());
        };
        if (courseware != nullptr) with.lessons = [courseware] { return courseware->known_lessons(); };
        with.class_on = [&classroom] { return classroom.class_is_on(); };
        auto* recorder = &registry.add(std::make_unique<recording_service>(ex, cfg.recorder, ledger, std::move(with)));
        county.on_enrolled([recorder] { recorder->wake_uploads(); });
        parts->recorder = recorder;
    }
    county.on_command(county_commands(*parts));

    std::vector<std::string> unknown;
    auto policy =
        peer_policy::from_names(cfg.allow_users, cfg.allow_groups, unknown, cfg.teacher_users, cfg.teacher_groups);
    for (const auto& name : unknown) {
        log::warning(lg, "[api]: no user or group is named \"{}\"; it is ignored", name);
    }
    auto& api = registry.add(std::make_unique<local_api_server>(ex, cfg.socket, std::move(policy)));
    add_api_routes(api, *parts);
    auto dog = open_watchdog(cfg);

    int code = serve(ioc, registry, cfg, *profile, dog.get());
    if (code == exit_stop_timeout) {
        // A service was abandoned mid-stop: its coroutine still refers to it,
        // so tearing the objects down could touch freed memory. The ledger
        // is closed by now; leave without destructors.
        ::_exit(code);
    }
    return code;
}

}  // namespace bbt::agent
