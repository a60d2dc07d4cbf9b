// The classroom's state table, walked row by row with a fake projector, fake
// relays and a fake clock: minutes of warm-up and cool-down pass in no time,
// and nothing here waits for the wall clock.
#include "bbt/agent/classroom_controller.hpp"

#include "doctest_bbt.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace agent = bbt::agent;
namespace pj = bbt::drivers::pjlink;
using agent::class_state;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

class fake_clock final : public agent::step_clock {
public:
    explicit fake_clock(asio::any_io_executor ex) : ex_(std::move(ex)) {}
    steady::time_point now() const override { return now_; }
    asio::awaitable<bool> sleep(std::chrono::milliseconds d) override {
        now_ += d;
        if (on_sleep) on_sleep();
        // Other work (requests, the test's checks) runs between steps.
        co_await asio::post(ex_, asio::use_awaitable);
        co_return !cancelled_;
    }
    void cancel() override { cancelled_ = true; }

    std::function<void()> on_sleep;

private:
    asio::any_io_executor ex_;
    steady::time_point now_{};
    bool cancelled_ = false;
};

struct projector_model;

// Relays that know the projector they feed: cutting its mains while it is
// lit or cooling is recorded as the harm it would be.
class fake_relays final : public bbt::board::relay_bank {
public:
    bbt::result<void> set(bbt::board::relay r, bool on) override;
    std::optional<bool> get(bbt::board::relay r) const override { return on_[static_cast<size_t>(r)]; }

    projector_model* projector = nullptr;
    const fake_clock* clock = nullptr;
    std::vector<std::pair<steady::time_point, bool>> projector_mains;  // each switch of the projector's relay
    int cut_while_lit = 0;

private:
    std::array<bool, 3> on_{};
};

// A lamp projector: it boots its network `boot` after its mains come on,
// warms up and cools down for a while, refuses power commands (ERR3) while
// doing either, and may be told to misbehave.
struct projector_model final : bbt::drivers::projector::projector {
    const fake_clock& clock;
    const fake_relays& relays;
    std::chrono::milliseconds boot = 5s, warmup = 30s, cooldown = 60s;
    bool answers = true;       // false: never answers (unplugged network)
    bool warms = true;         // false: stuck warming (a failing lamp)
    bool says_cooling = true;  // false: says standby while it cools (BenQ)
    int refuse_off = 0;        // power-off commands answered ERR3 although on
    pj::power power = pj::power::standby;
    steady::time_point until{};  // when warming or cooling ends
    steady::time_point mains_on_at{};
    int power_on_commands = 0, power_off_commands = 0;

    projector_model(const fake_clock& c, const fake_relays& r) : clock(c), relays(r) {}

    void advance() {
        if (power == pj::power::warming && warms && clock.now() >= until) power = pj::power::on;
        if (power == pj::power::cooling && clock.now() >= until) power = pj::power::standby;
    }
    bool lit_or_cooling() {
        advance();
        return power != pj::power::standby;
    }
    bbt::result<void> reachable() const {
        bool mains = relays.get(bbt::board::relay::projector).value_or(false);
        if (!answers || !mains || clock.now() < mains_on_at + boot) {
            return bbt::error(std::make_error_code(std::errc::timed_out), "no answer");
        }
        return {};
    }

    std::string address() const override { return "fake"; }
    bool reports_cooling() const override { return says_cooling; }
    asio::awaitable<bbt::result<pj::power>> query_power() override {
        if (auto r = reachable(); !r) co_return r.error();
        advance();
        if (power == pj::power::cooling && !says_cooling) co_return pj::power::standby;
        co_return power;
    }
    asio::awaitable<bbt::result<void>> set_power(bool on) override {
        if (auto r = reachable(); !r) co_return r.error();
        advance();
        ++(on ? power_on_commands : power_off_commands);
        bool busy = power == pj::power::warming || power == pj::power::cooling;
        if (busy || (!on && power == pj::power::on && refuse_off > 0 && refuse_off--)) {
            co_return bbt::error(pj::pjlink_errc::unavailable_time, "ERR3");
        }
        if (on && power == pj::power::standby) {
            power = pj::power::warming;
            until = clock.now() + warmup;
        } else if (!on && power == pj::power::on) {
            power = pj::power::cooling;
            until = clock.now() + cooldown;
        }
        co_return bbt::result<void>{};
    }
    asio::awaitable<bbt::result<void>> select_input(std::string) override {
        if (auto r = reachable(); !r) co_return r.error();
        co_return bbt::result<void>{};
    }
    asio::awaitable<bbt::result<void>> blank(bool) override { co_return bbt::result<void>{}; }
    asio::awaitable<bbt::result<bbt::drivers::projector::readings>> read(bool) override {
        co_return bbt::drivers::projector::readings{};
    }
    asio::awaitable<bbt::result<std::optional<pj::projector_info>>> identify() override {
        co_return std::optional<pj::projector_info>{};
    }
};

bbt::result<void> fake_relays::set(bbt::board::relay r, bool on) {
    if (r == bbt::board::relay::projector) {
        if (!on && projector && projector->lit_or_cooling()) ++cut_while_lit;
        if (on && projector && !on_[0]) projector->mains_on_at = clock->now();
        projector_mains.emplace_back(clock->now(), on);
    }
    on_[static_cast<size_t>(r)] = on;
    return {};
}

struct facts final : agent::fact_sink {
    std::vector<std::string> states;  // the classroom's, as the ledger got them
    int alerts = 0;
    void record(std::string device, std::string state) override {
        if (device == "classroom") states.push_back(std::move(state));
    }
    void outbox_put(int64_t, bbt::protocol::county::body body) override {
        if (std::holds_alternative<bbt::protocol::county::alert>(body)) ++alerts;
    }
};

// A set: the controller over the fakes, on an io_context that the test runs
// until a state is reached, or fails after two seconds of nothing to do.
struct classroom {
    asio::io_context ioc;
    fake_clock* clock;
    fake_relays relays;
    projector_model projector;
    facts ledger;
    agent::class_timing timing;
    std::unique_ptr<agent::classroom_controller> controller;

    classroom()
        : clock(new fake_clock(ioc.get_executor())), projector(*clock, relays), timing{"31", 90s, 180s, 300s, 1s, 10} {
        relays.projector = &projector;
        relays.clock = clock;
    }
    void start(bool with_projector = true) {
        controller = std::make_unique<agent::classroom_controller>(
            ioc.get_executor(), with_projector ? &projector : nullptr, timing, &relays, nullptr, ledger,
            std::unique_ptr<agent::step_clock>(clock));
        asio::co_spawn(
            ioc, [this]() -> asio::awaitable<void> { (void)co_await controller->start(); }, asio::detached);
    }
    ~classroom() {
        if (!controller) {
            delete clock;
            return;
        }
        bool stopped = false;
        asio::co_spawn(
            ioc,
            [this, &stopped]() -> asio::awaitable<void> {
                co_await controller->stop();
                stopped = true;
            },
            asio::detached);
        for (int i = 0; i < 100000 && !stopped; ++i) {
            if (ioc.run_one_for(2s) == 0) break;
        }
    }

    // Runs until `pred` holds; false if the controller went quiet first.
    bool run_until(const std::function<bool()>& pred) {
        for (int i = 0; i < 1'000'000; ++i) {
            if (pred()) return true;
            if (ioc.run_one_for(2s) == 0) return pred();
        }
        return false;
    }
    bool reach(class_state s) {
        bool ok = run_until([&] { return controller->state() == s; });
        INFO("wanted " << agent::to_string(s) << ", now " << agent::to_string(controller->state()));
        CHECK(ok);
        return ok;
    }
    // Runs until nothing is left to do (the controller waits for a request).
    void settle() {
        run_until([] { return false; });
    }
    bool mains() const { return relays.get(bbt::board::relay::projector).value_or(false); }
    int mains_cuts() const {
        int n = 0;
        for (const auto& [t, on] : relays.projector_mains)
            n += on ? 0 : 1;
        return n;
    }
};

using rows = std::array<int, agent::class_table.size()>;

// The row that takes `from` on `e` (the first; guards told apart by the caller).
size_t row(class_state from, agent::class_event e, agent::class_guard g = agent::class_guard::always) {
    for (size_t i = 0; i < agent::class_table.size(); ++i) {
        const auto& t = agent::class_table[i];
        if (t.from == from && t.on == e && t.guard == g) return i;
    }
    FAIL("no such row");
    return 0;
}

using ev = agent::class_event;
using gd = agent::class_guard;

rows class_starts_and_ends() {
    classroom c;
    c.start();
    (void)c.controller->request(true, "test");
    c.reach(class_state::in_class);
    CHECK(c.mains());
    CHECK(c.projector.power == pj::power::on);
    CHECK(c.controller->status().fault.empty());
    (void)c.controller->request(false, "test");
    c.reach(class_state::idle);
    CHECK_FALSE(c.mains());
    CHECK(c.projector.power == pj::power::standby);
    CHECK(c.relays.cut_while_lit == 0);
    CHECK(c.ledger.states == std::vector<std::string>{"idle", "starting", "in-class", "ending", "idle"});
    return c.controller->rows_taken();
}

rows projector_never_answers() {
    classroom c;
    c.projector.answers = false;
    c.start();
    (void)c.controller->request(true, "test");
    c.reach(class_state::fault);
    auto s = c.controller->status();
    CHECK(s.fault.find("does not answer") != std::string::npos);
    CHECK(s.goal_class);
    CHECK(c.ledger.alerts == 1);
    // Never lit since its mains came on: the end cuts them at once.
    (void)c.controller->request(false, "test");
    c.reach(class_state::idle);
    CHECK_FALSE(c.mains());
    CHECK(c.relays.cut_while_lit == 0);
    return c.controller->rows_taken();
}

rows projector_never_warms() {
    classroom c;
    c.projector.warms = false;
    c.start();
    (void)c.controller->request(true, "test");
    c.reach(class_state::fault);
    CHECK(c.controller->status().fault.find("did not finish warming up") != std::string::npos);
    // Ending: it refuses to switch off while warming and never reports
    // standby, so its mains stay on and the fault waits for a person.
    (void)c.controller->request(false, "test");
    c.reach(class_state::ending);
    c.reach(class_state::fault);
    c.settle();
    CHECK(c.controller->state() == class_state::fault);
    CHECK(c.mains());
    CHECK(c.mains_cuts() == 0);
    CHECK(c.controller->status().fault.find("mains stay on") != std::string::npos);
    // Held: nothing happens until someone asks; asked to start, the projector is tried again.
    c.projector.warms = true;
    int before = c.projector.power_on_commands;
    (void)c.controller->request(true, "test");
    c.reach(class_state::in_class);
    CHECK(c.projector.power == pj::power::on);
    CHECK(c.projector.power_on_commands >= before);
    CHECK(c.relays.cut_while_lit == 0);
    return c.controller->rows_taken();
}

rows key_during_cooldown() {
    classroom c;
    c.start();
    (void)c.controller->key("key");
    c.reach(class_state::in_class);
    (void)c.controller->key("key");
    c.reach(class_state::ending);
    CHECK(c.run_until([&] { return c.projector.power == pj::power::cooling; }));
    // Pressed again while it cools: the class starts once it has cooled,
    // and its mains are never cut in between.
    (void)c.controller->key("key");
    CHECK(c.controller->status().goal_class);
    c.reach(class_state::in_class);
    CHECK(c.ledger.states ==
          std::vector<std::string>{"idle", "starting", "in-class", "ending", "idle", "starting", "in-class"});
    CHECK(c.mains_cuts() == 0);
    CHECK(c.relays.cut_while_lit == 0);
    CHECK(c.projector.power == pj::power::on);
    return c.controller->rows_taken();
}

rows called_off_while_warming() {
    classroom c;
    c.start();
    (void)c.controller->request(true, "test");
    CHECK(c.run_until([&] { return c.projector.power == pj::power::warming; }));
    (void)c.controller->request(false, "test");
    c.reach(class_state::ending);
    c.reach(class_state::idle);
    // Switched off once warm (off is refused while warming), then cooled, then cut.
    CHECK(c.projector.power == pj::power::standby);
    CHECK(c.projector.power_off_commands >= 1);
    CHECK_FALSE(c.mains());
    CHECK(c.relays.cut_while_lit == 0);
    return c.controller->rows_taken();
}

rows asked_again_while_still_on() {
    classroom c;
    c.projector.refuse_off = 1;
    c.start();
    (void)c.controller->request(true, "test");
    c.reach(class_state::in_class);
    // The first power-off is refused; before it is asked again, the class is wanted back.
    c.clock->on_sleep = [&] {
        if (c.projector.power_off_commands == 1 && c.controller->state() == class_state::ending) {
            (void)c.controller->request(true, "test");
        }
    };
    (void)c.controller->request(false, "test");
    CHECK(c.run_until([&] { return c.ledger.states.size() == 7; }));
    CHECK(c.ledger.states ==
          std::vector<std::string>{"idle", "starting", "in-class", "ending", "idle", "starting", "in-class"});
    CHECK(c.projector.power == pj::power::on);
    CHECK(c.mains_cuts() == 0);
    return c.controller->rows_taken();
}

rows timed_cooldown() {
    classroom c;
    c.projector.says_cooling = false;  // BenQ: standby at once, though its fan still runs
    c.timing.cooldown_timeout = 90s;
    c.start();
    (void)c.controller->request(true, "test");
    c.reach(class_state::in_class);
    auto asked_off = c.clock->now();
    (void)c.controller->request(false, "test");
    c.reach(class_state::idle);
    REQUIRE_FALSE(c.relays.projector_mains.empty());
    auto [cut_at, on] = c.relays.projector_mains.back();
    CHECK_FALSE(on);
    CHECK(cut_at - asked_off >= c.timing.cooldown_timeout);
    CHECK(c.relays.cut_while_lit == 0);
    return c.controller->rows_taken();
}

rows no_projector() {
    classroom c;
    c.start(false);
    (void)c.controller->request(true, "test");
    c.reach(class_state::in_class);
    CHECK(c.mains());
    (void)c.controller->request(false, "test");
    c.reach(class_state::idle);
    CHECK_FALSE(c.mains());
    return c.controller->rows_taken();
}

void expect_rows(const rows& taken, std::initializer_list<size_t> expected) {
    for (size_t i : expected) {
        INFO("row " << i << ": " << agent::to_string(agent::class_table[i].from) << " on "
                    << agent::to_string(agent::class_table[i].on));
        CHECK(taken[i] > 0);
    }
}

}  // namespace

TEST_CASE("class table: a class starts and ends; mains are cut once the projector is in standby") {
    expect_rows(
        class_starts_and_ends(),
        {row(class_state::idle, ev::start_asked), row(class_state::starting, ev::projector_ready),
         row(class_state::in_class, ev::end_asked), row(class_state::ending, ev::projector_off, gd::goal_idle)});
}

TEST_CASE("class table: a projector that never answers puts the class in fault, and it still ends") {
    expect_rows(projector_never_answers(),
                {row(class_state::starting, ev::projector_failed), row(class_state::fault, ev::end_asked, gd::not_held),
                 row(class_state::ending, ev::projector_off, gd::goal_idle)});
}

TEST_CASE("class table: a projector that never warms keeps its mains; the fault holds until asked again") {
    expect_rows(projector_never_warms(), {row(class_state::starting, ev::projector_failed),
                                          row(class_state::ending, ev::projector_lit, gd::goal_idle),
                                          row(class_state::fault, ev::start_asked, gd::asked_again)});
}

TEST_CASE("class table: the key pressed during cool-down starts the class again without cutting mains") {
    expect_rows(key_during_cooldown(), {row(class_state::ending, ev::projector_off, gd::goal_class)});
}

TEST_CASE("class table: a class called off while the projector warms ends once it can be switched off") {
    expect_rows(called_off_while_warming(), {row(class_state::starting, ev::end_asked)});
}

TEST_CASE("class table: asked again while ending and the projector still on: back in class, mains kept") {
    expect_rows(asked_again_while_still_on(), {row(class_state::ending, ev::projector_lit, gd::goal_class)});
}

TEST_CASE("class table: a projector that does not report its cool-down is given the whole of it") {
    (void)timed_cooldown();
}

TEST_CASE("class table: without a projector the class is mains and the board") { (void)no_projector(); }

TEST_CASE("class table: every row is walked") {
    rows all{};
    for (auto* scenario : {class_starts_and_ends, projector_never_answers, projector_never_warms, key_during_cooldown,
                           called_off_while_warming, asked_again_while_still_on, timed_cooldown, no_projector}) {
        auto taken = scenario();
        for (size_t i = 0; i < all.size(); ++i)
            all[i] += taken[i];
    }
    for (size_t i = 0; i < all.size(); ++i) {
        INFO("row " << i << " (" << agent::to_string(agent::class_table[i].from) << " on "
                    << agent::to_string(agent::class_table[i].on) << ") is never taken");
        CHECK(all[i] > 0);
    }
    CHECK(agent::class_on(class_state::starting));
    CHECK(agent::class_on(class_state::in_class));
    CHECK(agent::class_on(class_state::fault));
    CHECK_FALSE(agent::class_on(class_state::idle));
    CHECK_FALSE(agent::class_on(class_state::ending));
}
