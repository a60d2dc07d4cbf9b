// bbt's benchmarks. Each figure is printed on a line of its own:
//   bench: <name> <value> <unit> [vs <reference-name> <ratio>]
// Nothing here passes or fails on a number; people compare the figures.
//
//   agent.start_to_ready   exec of bbt-agent to READY=1 on NOTIFY_SOCKET (median of runs)
//   agent.idle_rss         resident memory of the agent, idle, after it is ready
//   ledger.writes_per_s    state changes written to the ledger per second, each a
//                          durable transaction; vs sqlite_full_commit, a bare
//                          one-row INSERT per transaction with the same durability
//   whiteboard.*           see whiteboard_bench.cpp
//   county.*, outbox.*     see county_bench.cpp and county_exports_bench.cpp
//   cache.*                see cache_bench.cpp
//   recorder.*             see recorder_bench.cpp
#include "bbt/agent/ledger.hpp"
#include "bbt/base/sqlite.hpp"

#include "process.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

using namespace bbt;
using std::chrono::steady_clock;

namespace {

int notify_socket(const std::filesystem::path& path) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind");
    return fd;
}

bool wait_ready(int fd, std::chrono::seconds cap) {
    auto until = steady_clock::now() + cap;
    while (steady_clock::now() < until) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
            char buf[1024];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0 && std::string_view(buf, static_cast<size_t>(n)).find("READY=1") != std::string_view::npos) {
                return true;
            }
        }
    }
    return false;
}

double rss_mb(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
    }
    return -1;
}

struct agent_run {
    double start_ms;
    double rss_mb;
};

agent_run run_agent(const std::filesystem::path& dir, bool measure_rss) {
    auto notify = dir / "notify.sock";
    std::filesystem::remove(notify);
    int fd = notify_socket(notify);
    test::spawn_options o;
    o.env = {{"NOTIFY_SOCKET", notify.string()}};
    o.unset_env = {"WATCHDOG_USEC", "BBT_LOG"};
    auto t0 = steady_clock::now();
    auto agent = test::spawn({BBT_AGENT_BINARY, "--config", (dir / "agent.toml").string()}, o);
    bool ready = wait_ready(fd, std::chrono::seconds(30));
    auto t1 = steady_clock::now();
    ::close(fd);
    if (!ready) throw std::runtime_error("bbt-agent did not become ready");
    double rss = -1;
    if (measure_rss) {
        std::this_thread::sleep_for(std::chrono::seconds(2));  // idle: past start-up, a heartbeat or two
        rss = rss_mb(agent.pid());
    }
    agent.signal(SIGTERM);
    agent.wait(std::chrono::seconds(30));
    return {std::chrono::duration<double, std::milli>(t1 - t0).count(), rss};
}

void bench_agent(const std::filesystem::path& root) {
    std::filesystem::create_directories(root / "agent");
    auto dir = root / "agent";
    test::write_file(dir / "agent.toml",
                     fmt::format("[agent]\nstate_dir = \"{}\"\nboard = \"sim\"\n[api]\nsocket = \"{}\"\n",
                                 (dir / "state").string(), (dir / "agent.sock").string()));
    run_agent(dir, false);  // first run creates the ledger; later runs are ordinary restarts
    std::vector<double> starts;
    for (int i = 0; i < 9; ++i)
        starts.push_back(run_agent(dir, false).start_ms);
    std::sort(starts.begin(), starts.end());
    fmt::print("bench: agent.start_to_ready {:.1f} ms\n", starts[starts.size() / 2]);
    fmt::print("bench: agent.idle_rss {:.1f} MB\n", run_agent(dir, true).rss_mb);
}

void bench_ledger(const std::filesystem::path& root) {
    constexpr int n = 2000;
    auto now = clock::now();
    if (!now) throw std::runtime_error(now.error().what());

    // Reference: the cheapest durable write SQLite can do in the same place.
    std::filesystem::remove(root / "ref.db");
    auto db = sqlite::database::open(root / "ref.db", {.sync = sqlite::synchronous::full});
    if (!db || !db->exec("CREATE TABLE t (a INTEGER, b TEXT)")) throw std::runtime_error("reference db");
    auto ins = db->prepare("INSERT INTO t VALUES (?, ?)");
    auto r0 = steady_clock::now();
    for (int i = 0; i < n; ++i) {
        auto tx = sqlite::transaction::begin(*db);
        if (!tx || !ins->bind_all(i, "on").run() || !tx->commit()) throw std::runtime_error("reference insert");
    }
    double ref_s = std::chrono::duration<double>(steady_clock::now() - r0).count();

    std::filesystem::remove(root / "ledger.db");
    auto l = agent::ledger::open(root / "ledger.db", *now);
    if (!l) throw std::runtime_error(l.error().what());
    const char* states[] = {"on", "standby"};
    auto t0 = steady_clock::now();
    for (int i = 0; i < n; ++i) {
        auto t = clock::now();
        if (!t || !l->set_state("projector", states[i % 2], *t)) throw std::runtime_error("ledger write");
    }
    double ledger_s = std::chrono::duration<double>(steady_clock::now() - t0).count();
    double ledger_rate = n / ledger_s;
    double ref_rate = n / ref_s;
    fmt::print("bench: ledger.writes_per_s {:.0f} writes/s vs sqlite_full_commit {:.2f}\n", ledger_rate,
               ledger_rate / ref_rate);
}

}  // namespace

void bench_whiteboard();                                       // whiteboard_bench.cpp
void bench_county(const std::filesystem::path& root);          // county_bench.cpp
void bench_county_exports(const std::filesystem::path& root);  // county_exports_bench.cpp
void bench_cache(const std::filesystem::path& root);           // cache_bench.cpp
void bench_recorder(const std::filesystem::path& root);        // recorder_bench.cpp

int main(int argc, char** argv) {
    // Benchmarks write where the agent would: on disk, not tmpfs, unless told.
    // A second argument runs one group only: agent, ledger, whiteboard, county, cache or recorder.
    std::filesystem::path root = argc > 1 ? argv[1] : std::filesystem::current_path() / "bench-tmp";
    std::string_view only = argc > 2 ? argv[2] : "";
    auto want = [&](std::string_view group) { return only.empty() || only == group; };
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root);
    try {
        if (want("agent")) bench_agent(root);
        if (want("ledger")) bench_ledger(root);
        if (want("whiteboard")) bench_whiteboard();
        if (want("county")) bench_county(root);
        if (want("county")) bench_county_exports(root);
        if (want("cache")) bench_cache(root);
        if (want("recorder")) bench_recorder(root);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench failed: {}\n", e.what());
        return 1;
    }
    std::filesystem::remove_all(root);
    return 0;
}
