// The ledger and the outbox on storage that fails at step 0, 1, 2 ... (every
// write, sync, truncate and delete SQLite makes, in turn; as an I/O error or
// a full disk): each failure is an error the caller gets, never a crash, and
// what was confirmed committed before it is there when the database is opened
// again on working storage, which then works.
#include "bbt/agent/ledger.hpp"
#include "bbt/agent/outbox.hpp"
#include "bbt/base/sqlite_fault.hpp"

#include "doctest_bbt.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <set>

using namespace bbt;
using agent::ledger;
using agent::outbox;
namespace county = protocol::county;
namespace fault = sqlite::fault;

namespace {

constexpr int64_t s = 1'000'000;
constexpr int64_t t0 = 1'795'276'800LL * s;
const std::string boot = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb";

clock::stamp at(int64_t t) { return {clock::microseconds(t0 + t), clock::microseconds(t), boot}; }

county::heartbeat beat(int n) { return {static_cast<double>(n), true, n, {{"whiteboard", "idle"}}, {}}; }

struct confirmed {
    std::set<int64_t> queued;  // sequence numbers put() returned
    std::set<int64_t> acked;
    int states = 0;  // set_state() calls that returned success
    bool failed = false;
    bool made = false;  // a failure was made while the work ran (not when the database closed)
};

// The work of a few minutes of a set: states, reports, an acknowledgement, a
// heartbeat, a graceful end. Stops at the first failure, as the services do
// (they log it and go on with the next fact).
// Failures made when the database closes (its last checkpoint) are SQLite's
// to recover from: no caller is there to tell, and the reopening checks them.
void work(const std::filesystem::path& path, confirmed& c) {
    struct note_made {
        confirmed& c;
        ~note_made() { c.made = fault::fired(); }
    };
    auto l = ledger::open(path, at(0));
    note_made noted{c};  // destroyed before `l`: before the database closes
    if (!l) {
        CHECK_FALSE(l.error().message().empty());
        c.failed = true;
        return;
    }
    outbox o(l->database());
    for (int i = 0; i < 4; ++i) {
        if (auto r = l->set_state("projector", i % 2 == 0 ? "on" : "standby", at((i + 1) * s)); !r) {
            CHECK_FALSE(r.error().message().empty());
            c.failed = true;
            return;
        }
        ++c.states;
        auto seq = o.put(t0 + i, beat(i));
        if (!seq) {
            CHECK_FALSE(seq.error().message().empty());
            c.failed = true;
            return;
        }
        c.queued.insert(*seq);
    }
    std::vector<std::pair<int64_t, int64_t>> first{{*c.queued.begin(), *c.queued.begin()}};
    if (auto a = o.ack(first); !a) {
        c.failed = true;
        return;
    }
    c.acked.insert(*c.queued.begin());
    if (!l->heartbeat(at(10 * s)) || !l->end_all(at(11 * s))) c.failed = true;
}

}  // namespace

TEST_CASE("storage failing at each step in turn: errors, never a crash, nothing confirmed is lost") {
    fault::install();
    int walked = 0;
    for (int step = 0; step < 5000; ++step) {
        CAPTURE(step);
        test::temp_dir dir;
        auto path = dir / "agent.db";
        fault::arm(step, step % 2 == 0 ? fault::kind::io_error : fault::kind::disk_full);
        confirmed c;
        work(path, c);
        bool fired = fault::fired();
        fault::arm(-1);
        CHECK(c.failed == c.made);  // a failure reached the caller exactly when one was made

        auto l = ledger::open(path, at(100 * s));
        REQUIRE_MESSAGE(l, (l ? "" : l.error().what()));
        outbox o(l->database());
        auto batch = o.next_batch(100, 1 << 20);
        REQUIRE(batch);
        std::set<int64_t> there;
        for (const auto& m : *batch)
            there.insert(m.seq);
        for (int64_t seq : c.queued) {
            if (c.acked.count(seq)) continue;
            CHECK_MESSAGE(there.count(seq) == 1, "report " << seq << " was confirmed but is gone");
        }
        auto intervals = l->intervals();
        REQUIRE(intervals);
        auto projector =
            std::count_if(intervals->begin(), intervals->end(), [](const auto& i) { return i.device == "projector"; });
        CHECK(projector >= c.states);
        // Working storage again: the ledger takes new facts.
        CHECK(l->set_state("projector", "cooling", at(101 * s)));
        auto seq = o.put(t0 + 101 * s, beat(101));
        REQUIRE(seq);
        CHECK(c.queued.count(*seq) == 0);  // a number is never given twice
        if (!fired) {
            walked = step;
            break;
        }
    }
    MESSAGE("failing steps walked: " << walked);
    CHECK(walked > 10);  // the work reaches storage many times; all of them were failed once
}
