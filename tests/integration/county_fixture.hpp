// A bbt-county on loopback for the integration tests: its own PKI made by
// `bbt-county init`, its own database and configuration, ports chosen by the
// kernel the first time and kept across restarts.
#pragma once

#include "bbt/base/sqlite.hpp"
#include "bbt/protocol/https_client.hpp"
#include "bbt/protocol/pki.hpp"

#include "bounded.hpp"
#include "county_seed.hpp"
#include "http_get.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include "doctest_bbt.hpp"

#include <csignal>
#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <tuple>

namespace bbt::test {

using namespace std::chrono_literals;

// A time (seconds since the epoch) as iCalendar's UTC DATE-TIME, for timetables.
inline std::string ics_time(int64_t t) {
    std::time_t tt = t;
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

// One POST through the agent's HTTPS client, from a test, with `tls` (an
// empty certificate: none).
inline result<protocol::https_response> https_post(const protocol::tls_identity& tls, const std::string& url,
                                                   const std::string& body) {
    boost::asio::io_context ioc;
    protocol::https_request req;
    req.url = url;
    req.body = body;
    req.timeout = std::chrono::seconds(10);
    auto fut = boost::asio::co_spawn(ioc, protocol::https_post(ioc.get_executor(), tls, req), boost::asio::use_future);
    return run_bounded(ioc, fut);
}

// Whether this build runs under AddressSanitizer: its quarantine keeps
// freed memory and its shadow maps more, so resident memory measures ASan,
// not bbt-county; the release build judges memory.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool memory_is_judged = false;
#else
inline constexpr bool memory_is_judged = true;
#endif

// A bbt-county's peak memory is within `limit_kib` (judged in the release build only).
#define BBT_CHECK_PEAK_KIB(peak, limit_kib)                                                                   \
    do {                                                                                                      \
        if (::bbt::test::memory_is_judged) {                                                                  \
            CHECK((peak) < (limit_kib));                                                                      \
        } else {                                                                                              \
            MESSAGE("memory is not judged under AddressSanitizer (the release build judges it): " << (peak)); \
        }                                                                                                     \
    } while (false)

// A bbt-county on loopback, with its own PKI and database.
struct county_fixture {
    temp_dir dir;
    std::filesystem::path pki = dir / "pki";
    std::filesystem::path config = dir / "county.toml";
    std::filesystem::path db = dir / "county.db";
    uint16_t port = 0;
    uint16_t dashboard_port = 0;
    std::map<std::string, std::string> env;  // for bbt-county serve
    child proc;
    int restarts = 0;

    county_fixture() {
        // By address: a minimal system may not even resolve localhost.
        REQUIRE(run({BBT_COUNTY_BINARY, "init", "--pki", pki.string(), "--host", "127.0.0.1"}) == 0);
        write_config();
    }
    // Further keys of [server], [storage] and [pki], one "key = value" a line.
    std::string server_keys, storage_keys, pki_keys;

    void write_config() {
        write_file(config,
                   fmt::format("[server]\nlisten = \"127.0.0.1\"\nport = {}\n{}[storage]\ndatabase = "
                               "\"{}\"\n{}[pki]\ndir = \"{}\"\n{}[dashboard]\nlisten = \"127.0.0.1\"\n"
                               "port = {}\n",
                               port, server_keys, db.string(), storage_keys, pki.string(), pki_keys, dashboard_port));
    }
    // A certificate for `device` signed with the county's CA key, as
    // enrolment would give: the identity a test's requests go with.
    [[nodiscard]] protocol::tls_identity identity(const std::string& device) const {
        auto ca = read_file(pki / "ca.pem");
        auto key = protocol::pki::generate_key();
        REQUIRE(key);
        auto csr = protocol::pki::make_csr(*key, device);
        REQUIRE(csr);
        protocol::pki::issue_options o;
        o.subject_cn = device;
        auto cert = protocol::pki::sign_csr(*csr, ca, read_file(pki / "ca.key"), o);
        REQUIRE(cert);
        return {ca, *cert, *key};
    }
    void start() {
        // The log of an earlier run is moved away first: read before the new
        // process truncates it, its "listening on" would pass for the new one
        // (and the configuration be rewritten while the new one reads it).
        if (std::filesystem::exists(dir / "county.log")) {
            std::filesystem::rename(dir / "county.log", dir / fmt::format("county.{}.log", ++restarts));
        }
        spawn_options o;
        o.stderr_path = dir / "county.log";
        o.env = env;
        proc = spawn({BBT_COUNTY_BINARY, "serve", "--config", config.string()}, o);
        // The log names the ports bound (port 0 the first time).
        std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
        std::regex dashboard("dashboard on http://127\\.0\\.0\\.1:([0-9]+)/");
        for (int i = 0; i < 400; ++i) {
            std::smatch m, d;
            std::string log = read_file(dir / "county.log");
            if (std::regex_search(log, m, listening) && std::regex_search(log, d, dashboard)) {
                auto bound = static_cast<uint16_t>(std::stoi(m[1]));
                auto dashboard_bound = static_cast<uint16_t>(std::stoi(d[1]));
                if (bound != port || dashboard_bound != dashboard_port) {
                    port = bound;
                    dashboard_port = dashboard_bound;
                    write_config();  // the same ports after a restart
                }
                return;
            }
            std::this_thread::sleep_for(25ms);
        }
        FAIL("bbt-county did not start: " << read_file(dir / "county.log"));
    }
    void stop() {
        proc.signal(SIGTERM);
        REQUIRE(proc.wait(10s));
    }
    // Makes the peak resident memory the present one (clear_refs 5).
    void reset_peak_rss() const {
        std::ofstream out(fmt::format("/proc/{}/clear_refs", proc.pid()));
        out << "5";
    }
    // bbt-county's peak resident memory (VmHWM), in KiB.
    [[nodiscard]] int64_t peak_rss_kib() const {
        std::ifstream in(fmt::format("/proc/{}/status", proc.pid()));
        std::string line;
        while (std::getline(in, line)) {
            if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6));
        }
        return -1;
    }
    std::string url() const { return fmt::format("https://127.0.0.1:{}", port); }
    std::string code(const std::string& classroom) {
        return code_from({"code", "--school", "No.3 Primary", "--classroom", classroom});
    }
    // What a bbt-county command (with this configuration) prints: a code.
    std::string code_from(std::vector<std::string> args) {
        spawn_options o;
        o.stdout_path = dir / "code.out";
        o.stderr_path = dir / "code.err";
        args.insert(args.end(), {"--config", config.string()});
        args.insert(args.begin(), BBT_COUNTY_BINARY);
        REQUIRE_MESSAGE(run(args, o) == 0, read_file(dir / "code.err"));
        std::string c = read_file(dir / "code.out");
        while (!c.empty() && (c.back() == '\n' || c.back() == '\r'))
            c.pop_back();
        return c;
    }
    // Fills the database with `sets` sets of `school` and `rows` usage spans.
    void seed_usage(const std::string& school, int sets, int rows) {
        auto r = test::seed_usage(db, school, sets, rows);
        REQUIRE_MESSAGE(r, (r ? "" : r.error().what()));
    }
    // An account of the dashboard (`school` empty: the county's staff),
    // made with bbt-county account add (the password on standard input).
    void dashboard_account(const std::string& name, const std::string& password, const std::string& school = {}) {
        write_file(dir / "password.in", password + "\n");
        spawn_options o;
        o.stdin_path = dir / "password.in";
        o.stderr_path = dir / "account.err";
        std::vector<std::string> args{BBT_COUNTY_BINARY, "account", "add", "--config", config.string(), "--name", name};
        if (!school.empty()) args.insert(args.end(), {"--school", school});
        REQUIRE_MESSAGE(run(args, o) == 0, read_file(dir / "account.err"));
        std::filesystem::remove(dir / "password.in");
    }
    // The Cookie header of a session of the county's staff (an account made for it).
    std::string dashboard_cookie() {
        if (staff_cookie.empty()) {
            dashboard_account("office", "county office password");
            staff_cookie = dashboard_sign_in(dashboard_port, "office", "county office password");
            REQUIRE(!staff_cookie.empty());
        }
        return staff_cookie;
    }
    std::string staff_cookie;
    // (count, min seq, max seq) of a device's reports in the county's database.
    std::tuple<int64_t, int64_t, int64_t> reports(const std::string& device) {
        auto d = sqlite::database::open(db);
        REQUIRE(d);
        auto st = d->prepare(
            "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM reports WHERE device_id = ?");
        REQUIRE(st);
        st->bind(1, device);
        REQUIRE(st->step());
        return {st->column_int64(0), st->column_int64(1), st->column_int64(2)};
    }
};

}  // namespace bbt::test
