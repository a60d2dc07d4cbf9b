// The ledger across kill -9 at random moments: closed intervals stay intact,
// no interval overlaps another of its device, and the open one is closed at
// its last heartbeat on restart.
#include "bbt/agent/ledger.hpp"

#include "temp_dir.hpp"

#include "doctest_bbt.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <thread>

using namespace bbt;
using agent::ledger;
using agent::ledger_interval;

namespace {

bool same(const ledger_interval& a, const ledger_interval& b) {
    return a.id == b.id && a.device == b.device && a.state == b.state && a.boot_id == b.boot_id &&
           a.start_boot_us == b.start_boot_us && a.end_boot_us == b.end_boot_us && a.start_wall_us == b.start_wall_us &&
           a.end_wall_us == b.end_wall_us && a.close_reason == b.close_reason;
}

// Writes the ledger as fast as it can, forever, in a child process.
[[noreturn]] void writer(const std::filesystem::path& path, unsigned seed) {
    std::mt19937 rng(seed);
    const char* devices[] = {"set", "projector", "whiteboard"};
    const char* states[] = {"on", "standby", "in-use", "cooling"};
    auto now = clock::now();
    if (!now) ::_exit(2);
    auto l = ledger::open(path, *now);
    if (!l) ::_exit(3);
    for (;;) {
        auto t = clock::now();
        if (!t) ::_exit(2);
        int what = static_cast<int>(rng() % 10);
        const char* device = devices[rng() % 3];
        bool ok = what < 6   ? bool(l->set_state(device, states[rng() % 4], *t))
                  : what < 9 ? bool(l->heartbeat(*t))
                             : bool(l->end(device, *t));
        if (!ok) ::_exit(4);
    }
}

}  // namespace

TEST_CASE("the ledger survives kill -9 at 100 random moments") {
    test::temp_dir dir;
    auto path = dir / "ledger.db";
    unsigned seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    std::map<int64_t, ledger_interval> closed_before;  // every closed interval seen so far
    int recovered_total = 0;

    for (int round = 0; round < 100; ++round) {
        CAPTURE(round);
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) writer(path, seed + static_cast<unsigned>(round));
        // A random moment: anywhere from before the database is open to deep
        // inside a run of transactions.
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30'000));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE_MESSAGE(WIFSIGNALED(status), "the writer exited by itself with status " << WEXITSTATUS(status));

        // Before recovery: the file is sound, every interval closed earlier
        // is still there unchanged, and each device has at most one open.
        std::vector<ledger_interval> open_before;
        {
            auto db = sqlite::database::open(path);
            REQUIRE(db);
            REQUIRE(db->check_integrity());
        }
        auto now = clock::now();
        REQUIRE(now);
        auto l = ledger::open(path, *now);
        REQUIRE_MESSAGE(l, (l ? "" : l.error().what()));
        recovered_total += l->recovered();
        auto all = l->intervals();
        REQUIRE(all);

        std::map<int64_t, const ledger_interval*> by_id;
        for (const auto& i : *all)
            by_id[i.id] = &i;
        for (const auto& [id, old] : closed_before) {
            auto it = by_id.find(id);
            REQUIRE_MESSAGE(it != by_id.end(), "closed interval " << id << " disappeared");
            CHECK_MESSAGE(same(*it->second, old), "closed interval " << id << " changed");
        }

        // After recovery: nothing is open, recovered ones end at their
        // heartbeat, and no two intervals of a device overlap.
        std::map<std::string, std::vector<const ledger_interval*>> per_device;
        for (const auto& i : *all) {
            REQUIRE(i.end_boot_us.has_value());
            CHECK(*i.end_boot_us >= i.start_boot_us);
            CHECK(*i.end_wall_us - i.start_wall_us == *i.end_boot_us - i.start_boot_us);
            if (i.close_reason == "recovered") CHECK(*i.end_boot_us == i.heartbeat_boot_us);
            per_device[i.device].push_back(&i);
        }
        for (auto& [device, list] : per_device) {
            std::sort(list.begin(), list.end(),
                      [](const auto* a, const auto* b) { return a->start_boot_us < b->start_boot_us; });
            for (size_t k = 1; k < list.size(); ++k) {
                CHECK_MESSAGE(*list[k - 1]->end_boot_us <= list[k]->start_boot_us,
                              device << ": interval " << list[k - 1]->id << " overlaps " << list[k]->id);
            }
        }
        for (const auto& i : *all)
            closed_before[i.id] = i;
    }
    // Most kills land while an interval is open; if none did, the test
    // exercised nothing.
    CHECK(recovered_total > 0);
    MESSAGE("intervals written: " << closed_before.size() << ", recovered after kill -9: " << recovered_total);
}
