// The systemd units as installed: systemd's own judge of their exposure
// (`systemd-analyze security --offline=yes`), and bbt-county reading its
// keys from the credentials the unit hands it.
#include "county_fixture.hpp"
#include "http_get.hpp"
#include "skip.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <regex>

using namespace bbt;
using namespace std::chrono_literals;

namespace {

constexpr const char* analyze = "/usr/bin/systemd-analyze";

// The overall exposure systemd-analyze gives a unit file (0 safest, 10 worst).
double exposure(const std::filesystem::path& unit, const std::filesystem::path& out) {
    test::spawn_options o;
    o.stdout_path = out;
    o.stderr_path = out.string() + ".err";
    int rc = test::run({analyze, "security", "--offline=yes", "--no-pager", unit.string()}, o, 60s);
    std::string text = test::read_file(out) + test::read_file(out.string() + ".err");
    INFO(text);
    REQUIRE(rc == 0);
    std::smatch m;
    std::regex overall("Overall exposure level for [^:]+: ([0-9.]+)");
    REQUIRE(std::regex_search(text, m, overall));
    return std::stod(m[1]);
}

}  // namespace

TEST_CASE("systemd rates both units' exposure at 1.5 or better") {
    if (!std::filesystem::exists(analyze)) {
        BBT_SKIP("systemd-analyze is not installed (Debian's systemd package)");
        return;
    }
    test::temp_dir dir;
    for (std::string name : {"bbt-agent.service", "bbt-county.service"}) {
        CAPTURE(name);
        auto unit = std::filesystem::path(BBT_BINARY_DIR) / "systemd" / name;
        REQUIRE(std::filesystem::exists(unit));
        double level = exposure(unit, dir / (name + ".txt"));
        MESSAGE(name << ": exposure " << level);
        CHECK(level <= 1.5);
        // What the issue asked for by name, and the limits.
        std::string text = test::read_file(unit);
        for (const char* key : {"RestrictRealtime=yes", "ProtectProc=invisible", "ProcSubset=pid",
                                "DevicePolicy=closed", "RemoveIPC=yes", "MemoryMax=", "TasksMax=", "LimitNOFILE="}) {
            CHECK_MESSAGE(text.find(key) != std::string::npos, key);
        }
    }
}

TEST_CASE("bbt-county reads its keys from the credentials systemd hands it, wherever [pki] dir points") {
    test::county_fixture county;
    // The unit's LoadCredential= puts copies in $CREDENTIALS_DIRECTORY; the
    // configured folder is root's and out of reach.
    auto creds = county.dir / "credentials";
    std::filesystem::create_directories(creds);
    for (const char* name : {"ca.pem", "ca.key", "server.pem", "server.key", "command.key"})
        std::filesystem::copy_file(county.pki / name, creds / name);
    auto kept = county.dir / "pki-out-of-reach";
    std::filesystem::rename(county.pki, kept);
    county.env["CREDENTIALS_DIRECTORY"] = creds.string();
    county.start();
    std::filesystem::rename(kept, county.pki);  // for the test's own signing
    auto set = county.identity("No.3 Primary/201#1");
    auto page = test::http_fetch(county.dashboard_port, "/healthz");
    CHECK(page.status == 200);
    boost::asio::io_context ioc;
    protocol::https_request req;
    req.url = county.url() + "/v1/reports";
    req.body = R"({"protocol":1,"device_id":"No.3 Primary/201#1","agent_version":"t","messages":[]})";
    auto fut = boost::asio::co_spawn(ioc, protocol::https_post(ioc.get_executor(), set, req), boost::asio::use_future);
    ioc.run();
    auto r = fut.get();
    REQUIRE_MESSAGE(r, (r ? "" : r.error().what()));
    CHECK(r->status == 200);
    county.stop();
}
