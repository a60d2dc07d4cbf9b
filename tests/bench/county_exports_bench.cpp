// A set's report while the asset office exports: the real bbt-county, its
// database holding 205,000 usage spans; a set posts heartbeat batches over
// mTLS one after another, first alone, then while three clients download
// /export/usage.csv again and again.
//   county.report_p99                 p99 of a report's round trip (connect,
//                                     handshake, post, answer), no exports
//                                     (before and after the exports together)
//   county.report_p99_during_exports  the same during the exports, vs
//                                     report_p99 (1.0: unchanged)
#include "bbt/base/file.hpp"
#include "bbt/protocol/county.hpp"
#include "bbt/protocol/https_client.hpp"
#include "bbt/protocol/pki.hpp"

#include "county_seed.hpp"
#include "http_get.hpp"
#include "process.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <regex>
#include <stdexcept>
#include <thread>

using namespace bbt;
using std::chrono::steady_clock;
namespace wire = protocol::county;

namespace {

template <class T>
T must(result<T> r, std::string_view doing) {
    if (!r) throw std::runtime_error(fmt::format("{}: {}", doing, r.error().what()));
    return std::move(*r);
}

void must(result<void> r, std::string_view doing) {
    if (!r) throw std::runtime_error(fmt::format("{}: {}", doing, r.error().what()));
}

// A running bbt-county and the ports it bound.
struct county_process {
    test::child proc;
    uint16_t port = 0;
    uint16_t dashboard_port = 0;
};

std::string text_of(const std::filesystem::path& file) {
    auto t = read_file(file);
    return t ? *t : std::string();
}

county_process serve(const std::filesystem::path& dir) {
    auto config = (dir / "county.toml").string();
    auto log = dir / "county.log";
    test::spawn_options o;
    o.stderr_path = log;
    county_process c{test::spawn({BBT_COUNTY_BINARY, "serve", "--config", config}, o)};
    std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)"), dashboard("dashboard on http://[^:]+:([0-9]+)/");
    for (auto until = steady_clock::now() + std::chrono::seconds(60); steady_clock::now() < until;) {
        std::string text = text_of(log);
        std::smatch m, d;
        if (std::regex_search(text, m, listening) && std::regex_search(text, d, dashboard)) {
            c.port = static_cast<uint16_t>(std::stoi(m[1]));
            c.dashboard_port = static_cast<uint16_t>(std::stoi(d[1]));
            return c;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("bbt-county did not start: " + text_of(log));
}

// Round trips of `n` reports, in milliseconds, sorted.
std::vector<double> report_times(const protocol::tls_identity& set, uint16_t port, int n, int64_t& seq) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i, ++seq) {
        wire::heartbeat hb{static_cast<double>(seq), true, 0, {{"agent", "ok"}, {"whiteboard", "idle"}}, {}};
        wire::batch b{"Riverside Primary/bench#1", "bench", {{seq, seq * 60'000'000, hb}}};
        protocol::https_request req;
        req.url = fmt::format("https://127.0.0.1:{}/v1/reports", port);
        req.body = wire::encode(b);
        boost::asio::io_context ioc;
        auto a = steady_clock::now();
        auto fut =
            boost::asio::co_spawn(ioc, protocol::https_post(ioc.get_executor(), set, req), boost::asio::use_future);
        ioc.run();
        auto r = must(fut.get(), "posting a report");
        if (r.status != 200) throw std::runtime_error(fmt::format("a report was answered {}", r.status));
        ms.push_back(std::chrono::duration<double, std::milli>(steady_clock::now() - a).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms;
}

double p99(const std::vector<double>& sorted) {
    return sorted[std::min(sorted.size() - 1, static_cast<size_t>(static_cast<double>(sorted.size()) * 0.99))];
}

}  // namespace

void bench_county_exports(const std::filesystem::path& root) {
    auto dir = root / "exports";
    std::filesystem::create_directories(dir);
    auto pki = dir / "pki";
    if (test::run({BBT_COUNTY_BINARY, "init", "--pki", pki.string(), "--host", "127.0.0.1"}) != 0)
        throw std::runtime_error("bbt-county init failed");
    must(write_file_atomic(dir / "county.toml",
                           fmt::format("[server]\nlisten = \"127.0.0.1\"\nport = 0\n[storage]\ndatabase = \"{}\"\n"
                                       "[pki]\ndir = \"{}\"\n[dashboard]\nlisten = \"127.0.0.1\"\nport = 0\n",
                                       (dir / "county.db").string(), pki.string())),
         "writing the configuration");
    // A code made once creates the database and its schema.
    if (test::run({BBT_COUNTY_BINARY, "code", "--config", (dir / "county.toml").string(), "--school",
                   "Riverside Primary", "--classroom", "bench"}) != 0)
        throw std::runtime_error("bbt-county code failed");
    constexpr int spans = 205'000;
    must(test::seed_usage(dir / "county.db", "Riverside Primary", 200, spans), "seeding the database");

    auto ca = must(read_file(pki / "ca.pem"), "reading the CA");
    auto key = must(protocol::pki::generate_key(), "making a key");
    auto csr = must(protocol::pki::make_csr(key, "Riverside Primary/bench#1"), "making a request");
    protocol::pki::issue_options io;
    io.subject_cn = "Riverside Primary/bench#1";
    auto cert =
        must(protocol::pki::sign_csr(csr, ca, must(read_file(pki / "ca.key"), "reading the CA key"), io), "signing");
    protocol::tls_identity set{ca, cert, key};

    // The asset office's account, its password on standard input.
    must(write_file_atomic(dir / "password", "bench office password\n"), "writing the password");
    test::spawn_options po;
    po.stdin_path = dir / "password";
    if (test::run({BBT_COUNTY_BINARY, "account", "add", "--config", (dir / "county.toml").string(), "--name", "office"},
                  po) != 0)
        throw std::runtime_error("bbt-county account add failed");

    auto county = serve(dir);
    std::string cookie = test::dashboard_sign_in(county.dashboard_port, "office", "bench office password");
    if (cookie.empty()) throw std::runtime_error("signing in to the dashboard failed");
    int64_t seq = 1;
    (void)report_times(set, county.port, 20, seq);  // warm: the page cache, the first handshake
    constexpr int reports = 1000;
    auto alone = report_times(set, county.port, reports, seq);

    std::atomic<bool> stop{false};
    std::atomic<int> exports{0};
    std::atomic<size_t> export_bytes{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 3; ++i) {
        clients.emplace_back([&] {
            // Browsers run on the office's machines, not on the county's
            // CPU: here they share it, so they give way as another host would.
            (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
            {
                sched_param sp{};
                (void)::sched_setscheduler(0, SCHED_IDLE, &sp);
            }
            while (!stop) {
                auto a = test::http_fetch(county.dashboard_port, "/export/usage.csv?lang=zh-CN", "GET",
                                          {{"Cookie", cookie}});
                if (a.status != 200) {
                    exports = -1;  // the measurement below has nothing to wait for
                    exports.notify_all();
                    break;
                }
                export_bytes = a.body.size();
                ++exports;
                exports.notify_all();
            }
        });
    }
    // The exports under way before the first report is timed.
    exports.wait(0);  // one has finished: the others are on their way
    if (exports < 0) throw std::runtime_error("an export was refused");
    int before = exports;
    auto during = report_times(set, county.port, reports, seq);
    int overlapped = exports - before;
    stop = true;
    for (auto& t : clients)
        t.join();
    // Alone again: the reference is the two runs without exports together,
    // before and after, so that the machine's drift over the run cancels.
    auto after = report_times(set, county.port, reports, seq);
    county.proc.signal(SIGTERM);
    (void)county.proc.wait(std::chrono::seconds(10));
    alone.insert(alone.end(), after.begin(), after.end());
    std::sort(alone.begin(), alone.end());

    fmt::print("bench: county.report_p99 {:.1f} ms ({} reports before and after, median {:.1f} ms, no exports)\n",
               p99(alone), alone.size(), alone[alone.size() / 2]);
    fmt::print(
        "bench: county.report_p99_during_exports {:.1f} ms vs report_p99 {:.2f} ({} reports, median {:.1f} ms; {} "
        "exports of {:.1f} MB ({} spans) finished meanwhile)\n",
        p99(during), p99(during) / p99(alone), reports, during[during.size() / 2], overlapped,
        static_cast<double>(export_bytes.load()) / 1e6, spans);
}
