// The county link end to end on loopback: the real bbt-county with keys
// made by `bbt-county init`, the real agent and bbtctl; enrolment, an outage
// followed by delivery of everything exactly once, and certificates that
// must be refused.
#include "bbt/base/digest.hpp"
#include "bbt/base/sqlite.hpp"
#include "bbt/protocol/https_client.hpp"
#include "bbt/protocol/pki.hpp"
#include "bounded.hpp"

#include "agent_fixture.hpp"
#include "county_fixture.hpp"
#include "cutting_proxy.hpp"
#include "http_get.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <functional>
#include <random>
#include <regex>
#include <thread>

using namespace bbt;
using namespace std::chrono_literals;
namespace json = boost::json;
using test::county_fixture;

namespace {

json::object wait_county(test::agent_fixture& f, const std::function<bool(const json::object&)>& pred) {
    return f.ctl_json_until({"county", "status"}, pred);
}

int64_t depth(const json::object& s) {
    return s.contains("queue_depth") ? s.at("queue_depth").to_number<int64_t>() : -1;
}

std::string county_section(const county_fixture& c, const std::filesystem::path& ca) {
    return fmt::format("[county]\nurl = \"{}\"\nca = \"{}\"\nheartbeat = 5\nretry_min = 0.1\nretry_max = 0.5\n",
                       c.url(), ca.string());
}

result<protocol::https_response> post(const protocol::tls_identity& tls, const std::string& url,
                                      const std::string& body) {
    return test::https_post(tls, url, body);
}

}  // namespace

TEST_CASE("an enrolled set delivers everything exactly once across a county outage") {
    county_fixture county;
    county.start();
    test::agent_fixture f("", "3", county_section(county, county.pki / "ca.pem"));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));

    auto s = f.ctl_json({"county", "status"});
    CHECK(s.at("configured").as_bool());
    CHECK_FALSE(s.at("enrolled").as_bool());

    // A code for this classroom; the set enrols with it; the code is then spent.
    std::string code = county.code("201");
    REQUIRE(code.size() == 10);
    auto e = f.ctl_json({"county", "enrol", code});
    std::string device = std::string(e.at("device_id").as_string());
    CHECK(device == "No.3 Primary/201#1");
    CHECK(f.ctl({"county", "enrol", code}) == 1);
    CHECK(f.ctl_err().find("used already") != std::string::npos);
    auto key_mode = std::filesystem::status(f.state / "county" / "key.pem").permissions();
    CHECK((key_mode & std::filesystem::perms::group_all) == std::filesystem::perms::none);
    CHECK((key_mode & std::filesystem::perms::others_all) == std::filesystem::perms::none);

    // Delivered: the county holds the first heartbeat; nothing waits.
    wait_county(f, [](const json::object& o) { return o.at("delivered").to_number<int64_t>() > 0 && depth(o) == 0; });
    CHECK(std::get<1>(county.reports(device)) == 1);

    // The county goes away: reports wait, the link says why.
    county.stop();
    s = wait_county(f, [](const json::object& o) { return o.contains("last_error") && depth(o) >= 2; });
    INFO(json::serialize(s));
    CHECK(std::string(s.at("last_error").as_string()).find("connect") != std::string::npos);
    REQUIRE(f.ctl({"status"}) == 0);
    CHECK(f.ctl_out().find("county: NOT reachable") != std::string::npos);

    // Back: everything is delivered, once, in one unbroken run of sequence numbers.
    county.start();
    wait_county(f, [](const json::object& o) { return !o.contains("last_error") && depth(o) == 0; });
    auto [count, first, last] = county.reports(device);
    CHECK(first == 1);
    CHECK(count == last);
    CHECK(count >= 3);
    MESSAGE("delivered " << count << " reports, sequence 1.." << last);
    // The inventory names the classroom the county enrolled the set for, and its computer.
    auto d = sqlite::database::open(county.db);
    REQUIRE(d);
    auto inv = d->prepare("SELECT body FROM reports WHERE device_id = ? AND kind = 'inventory' ORDER BY seq DESC");
    REQUIRE(inv);
    inv->bind(1, device);
    REQUIRE(inv->step().value());
    auto body = json::parse(inv->column_text(0)).as_object();
    CHECK(body.at("school").as_string() == "No.3 Primary");
    CHECK(body.at("classroom").as_string() == "201");
    CHECK(body.at("devices").as_array().at(0).at("kind").as_string() == "pc");

    agent.signal(SIGTERM);
    REQUIRE(agent.wait(10s));
    county.stop();
}

TEST_CASE("certificates that must be refused are: a foreign county, a foreign set, an expired set") {
    county_fixture county;
    county.start();

    // The agent trusts another county's CA: the real county is not trusted.
    county_fixture other;
    test::agent_fixture f("", "3", county_section(county, other.pki / "ca.pem"));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    CHECK(f.ctl({"county", "enrol", county.code("202")}) == 1);
    CHECK(f.ctl_err().find("not trusted") != std::string::npos);

    // A set with a certificate from another CA, and one whose certificate has expired.
    auto ca = test::read_file(county.pki / "ca.pem");
    auto ca_key = test::read_file(county.pki / "ca.key");
    auto key = protocol::pki::generate_key().value();
    auto csr = protocol::pki::make_csr(key, "No.3 Primary/203#1").value();
    auto foreign =
        protocol::pki::sign_csr(csr, test::read_file(other.pki / "ca.pem"), test::read_file(other.pki / "ca.key"), {})
            .value();
    protocol::pki::issue_options past;
    past.not_before = -std::chrono::hours(48);
    past.not_after = -std::chrono::hours(24);
    auto expired = protocol::pki::sign_csr(csr, ca, ca_key, past).value();
    auto valid = protocol::pki::sign_csr(csr, ca, ca_key, {}).value();
    std::string body = R"({"protocol":1,"device_id":"No.3 Primary/203#1","agent_version":"t","messages":[]})";
    for (const auto& [name, cert] : {std::pair{"foreign", foreign}, {"expired", expired}}) {
        CAPTURE(name);
        auto r = post({ca, cert, key}, county.url() + "/v1/reports", body);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == protocol::https_errc::client_refused);
        CHECK(std::string(r.error().message()).find("refused this set's certificate") != std::string::npos);
    }
    // The same request with a valid certificate is served.
    auto ok = post({ca, valid, key}, county.url() + "/v1/reports", body);
    REQUIRE_MESSAGE(ok, (ok ? "" : ok.error().what()));
    CHECK(ok->status == 200);
    // Without a certificate, reports are refused (enrolment is what needs none).
    auto anon = post({ca, {}, {}}, county.url() + "/v1/reports", body);
    REQUIRE(anon);
    CHECK(anon->status == 401);

    agent.signal(SIGTERM);
    REQUIRE(agent.wait(10s));
    county.stop();
}

TEST_CASE("the HTTPS transport broken at each step in turn: a clear error each time, the report stored once") {
    county_fixture county;
    county.start();
    auto ca = test::read_file(county.pki / "ca.pem");
    auto key = protocol::pki::generate_key().value();
    const std::string device = "No.3 Primary/206#1";
    auto cert = protocol::pki::sign_csr(protocol::pki::make_csr(key, device).value(), ca,
                                        test::read_file(county.pki / "ca.key"), {})
                    .value();
    protocol::county::batch b{device, "test", {}};
    b.messages.push_back({1, 1'795'276'800'000'000, protocol::county::heartbeat{1, true, 0, {{"agent", "ok"}}, {}}});
    auto body = protocol::county::encode(b);

    test::cutting_proxy proxy(county.port);
    auto url = fmt::format("https://127.0.0.1:{}/v1/reports", proxy.port());
    int step = 0;
    for (;; ++step) {
        CAPTURE(step);
        REQUIRE(step < 200);
        proxy.cut_after(step);
        auto r = post({ca, cert, key}, url, body);
        if (!proxy.cut()) {
            // Through uncut: every earlier step was broken once.
            REQUIRE_MESSAGE(r, (r ? "" : r.error().what()));
            CHECK(r->status == 200);
            break;
        }
        // Broken before the answer was read whole: an error that says so. (A
        // break after it was read is no failure.)
        if (!r) {
            MESSAGE("step " << step << ": " << r.error().what());
            CHECK_FALSE(std::string(r.error().message()).empty());
        }
    }
    MESSAGE("steps broken: " << step);
    CHECK(step >= 4);  // TLS handshake, request, answer: several reads each way
    // Sent again and again, the same report is stored once (its number says it is the same).
    auto [count, first, last] = county.reports(device);
    CHECK(count == 1);
    CHECK(first == 1);
    CHECK(last == 1);
    county.stop();
}

TEST_CASE("killed with -9 at 100 random moments while it sends, the set still delivers every report exactly once") {
    county_fixture county;
    county.start();
    test::agent_fixture f("", "3", county_section(county, county.pki / "ca.pem"));
    std::string device;
    {
        test::notify_listener n(f.dir / "notify0");
        auto agent = f.start(n);
        REQUIRE(n.wait_for("READY=1"));
        device = std::string(f.ctl_json({"county", "enrol", county.code("204")}).at("device_id").as_string());
        agent.signal(SIGTERM);
        REQUIRE(agent.wait(10s));
    }
    // Each start queues a heartbeat at once and sends it. The kill lands at a
    // moment of the agent's own progress, drawn at random: as it starts, once
    // it is ready (sending, or about to), once the county has stored the
    // report (before or after the agent removed it from its outbox), or once
    // its outbox is empty again. Moments, not durations: a busy machine or
    // a sanitizer build changes how long each takes, not which are reached.
    enum moment { spawned, ready, stored, acknowledged };
    std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
    unsigned seed = rng();
    MESSAGE("kill -9 seed " << seed);
    rng.seed(seed);
    std::uniform_int_distribution<int> pick(spawned, acknowledged);
    std::array<int, 4> kills{};
    int64_t delivered_before_kill = 0;  // reports the county is known to hold when a kill landed
    for (int i = 0; i < 100; ++i) {
        auto at = static_cast<moment>(pick(rng));
        test::notify_listener n(f.dir / fmt::format("notify{}", i + 1));
        auto held = std::get<0>(county.reports(device));
        auto agent = f.start(n);
        if (at >= ready) REQUIRE(n.wait_for("READY=1"));
        if (at >= stored) {
            // Polled (the county's database has nothing to wait on); the bound only stops a hang.
            auto until = std::chrono::steady_clock::now() + 40s;
            while (std::get<0>(county.reports(device)) <= held) {
                REQUIRE(std::chrono::steady_clock::now() < until);
                std::this_thread::sleep_for(20ms);
            }
        }
        if (at == acknowledged) wait_county(f, [](const json::object& o) { return depth(o) == 0; });
        agent.signal(SIGKILL);
        REQUIRE(agent.wait(10s));
        ++kills[at];
        delivered_before_kill = std::get<0>(county.reports(device));
    }
    MESSAGE("killed as it started " << kills[spawned] << ", once ready " << kills[ready] << ", once stored "
                                    << kills[stored] << ", once acknowledged " << kills[acknowledged]);
    test::notify_listener n(f.dir / "notify-last");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    auto s = wait_county(f, [](const json::object& o) { return depth(o) == 0 && !o.contains("last_error"); });
    int64_t last_seq = s.at("last_seq").to_number<int64_t>();
    auto [count, first, last] = county.reports(device);
    MESSAGE("the set numbered " << last_seq << " reports; the county holds " << count << ", sequence " << first << ".."
                                << last);
    CHECK(first == 1);
    CHECK(last == last_seq);
    CHECK(count == last_seq);  // every number once: nothing lost, nothing twice
    // Every start killed once its report was stored added one at least.
    CHECK(count >= kills[stored] + kills[acknowledged]);
    CHECK(count >= delivered_before_kill);
    agent.signal(SIGTERM);
    REQUIRE(agent.wait(10s));
    county.stop();
}

TEST_CASE("commands from the county are checked: a signed one is answered, a forged one refused and reported") {
    county_fixture county;
    county.start();
    test::agent_fixture f("", "3", county_section(county, county.pki / "ca.pem"));
    test::notify_listener n(f.dir / "notify");
    auto agent = f.start(n);
    REQUIRE(n.wait_for("READY=1"));
    auto device = std::string(f.ctl_json({"county", "enrol", county.code("205")}).at("device_id").as_string());

    auto queue = [&](const std::string& verb) {
        test::spawn_options o;
        o.stdout_path = county.dir / "cmd.out";
        REQUIRE(test::run({BBT_COUNTY_BINARY, "command", "--config", county.config.string(), "--device", device,
                           "--verb", verb, "--args", R"({"on":true})"},
                          o) == 0);
        auto id = test::read_file(county.dir / "cmd.out");
        return id.substr(0, id.find('\n'));
    };
    auto result_of = [&](const std::string& id) -> std::optional<std::pair<bool, std::string>> {
        auto d = sqlite::database::open(county.db);
        REQUIRE(d);
        auto st = d->prepare("SELECT ok, coalesce(detail, '') FROM commands WHERE id = ? AND ok IS NOT NULL");
        REQUIRE(st);
        st->bind(1, id);
        auto row = st->step();
        REQUIRE(row);
        if (!*row) return std::nullopt;
        return std::pair{st->column_int64(0) != 0, st->column_text(1)};
    };
    auto wait_result = [&](const std::string& id) {
        for (int i = 0; i < 400; ++i) {
            if (auto r = result_of(id)) return *r;
            std::this_thread::sleep_for(50ms);
        }
        FAIL("no result for command " << id);
        return std::pair{false, std::string()};
    };

    // A verb the set does not allow is refused as such, though correctly signed.
    auto shell = queue("shell.run");
    CHECK(wait_result(shell) == std::pair{false, std::string("not-allowed")});

    // A signed, allowed command is carried out: the class starts.
    auto start = queue("class.start");
    auto done = wait_result(start);
    CHECK(done.first);
    CHECK(done.second.find("class goal in-class") != std::string::npos);
    CHECK(f.ctl_json_until({"class", "status"},
                           [](const json::object& o) { return o.at("state").as_string() == "in-class"; })
              .at("goal")
              .as_string() == "in-class");
    // Without a projector, projector.power says so.
    auto power = queue("projector.power");
    auto no_projector = wait_result(power);
    CHECK_FALSE(no_projector.first);
    CHECK(no_projector.second.find("no projector") != std::string::npos);

    // The county's command key is replaced by another: its commands are forgeries to the set.
    county.stop();
    auto other_key = protocol::pki::generate_signing_key().value();
    test::write_file(county.pki / "command.key", other_key);
    county.start();
    auto forged = queue("projector.power");
    CHECK(wait_result(forged) == std::pair{false, std::string("forged")});
    // The refusal is also an alert in the county's reports.
    auto d = sqlite::database::open(county.db);
    REQUIRE(d);
    auto st = d->prepare("SELECT count(*) FROM reports WHERE kind = 'alert' AND body LIKE '%county.command-refused%'");
    REQUIRE(st);
    REQUIRE(st->step());
    CHECK(st->column_int64(0) >= 2);
    agent.signal(SIGTERM);
    REQUIRE(agent.wait(10s));
    county.stop();
}

TEST_CASE("twelve uploads of 63 MiB without a certificate that never finish keep bbt-county under 100 MB") {
    county_fixture county;
    county.start();
    // curl sends a chunked PATCH without a client certificate: 63 MiB, then
    // nothing, the body never ended: its writer then blocks reading a FIFO
    // nobody writes. Each client is a process group of its own (setsid), so
    // the test's end kills the writer with its curl.
    auto hold = county.dir / "hold";
    REQUIRE(::mkfifo(hold.c_str(), 0600) == 0);
    std::vector<test::child> clients;
    for (int i = 0; i < 12; ++i) {
        test::spawn_options o;
        o.stdout_path = county.dir / fmt::format("curl{}.out", i);
        clients.push_back(
            test::spawn({"/usr/bin/setsid", "/bin/bash", "-c",
                         fmt::format("exec curl -sS --http1.1 --cacert {} -o /dev/null -w '%{{http_code}}' -X PATCH "
                                     "-H 'Tus-Resumable: 1.0.0' -H 'Content-Type: application/offset+octet-stream' "
                                     "-H 'Upload-Offset: 0' -T - {}/v1/uploads/0123456789abcdef0123456789abcdef "
                                     "< <(head -c 66060288 /dev/zero; exec cat {})",
                                     (county.pki / "ca.pem").string(), county.url(), hold.string())},
                        o));
    }
    // Each is refused from its header (401: no certificate); curl sees the answer and ends.
    for (int i = 0; i < 12; ++i) {
        auto st = clients[i].wait(120s);
        CHECK(st.has_value());
        CHECK(test::read_file(county.dir / fmt::format("curl{}.out", i)) == "401");
    }
    int64_t peak = county.peak_rss_kib();
    INFO("bbt-county's peak RSS: " << peak << " KiB");
    CHECK(peak > 0);
    BBT_CHECK_PEAK_KIB(peak, 100 * 1000);
    // And it is still running.
    CHECK(county.proc.wait(0ms) == std::nullopt);
    for (const auto& c : clients)
        ::kill(-c.pid(), SIGKILL);
}

TEST_CASE("bbt-county init refuses to replace the county's keys unless forced and then keeps the old ones") {
    county_fixture county;
    auto ca_before = test::read_file(county.pki / "ca.pem");
    auto key_before = test::read_file(county.pki / "command.key");
    test::spawn_options o;
    o.stderr_path = county.dir / "init.err";
    o.env = {{"LANG", "C.UTF-8"}};
    CHECK(test::run({BBT_COUNTY_BINARY, "init", "--pki", county.pki.string(), "--host", "127.0.0.1"}, o) == 1);
    CHECK(test::read_file(county.dir / "init.err").find("--force") != std::string::npos);
    CHECK(test::read_file(county.pki / "ca.pem") == ca_before);
    CHECK(test::read_file(county.pki / "command.key") == key_before);
    o.env = {{"LANG", "zh_CN.UTF-8"}};
    CHECK(test::run({BBT_COUNTY_BINARY, "init", "--pki", county.pki.string(), "--host", "127.0.0.1"}, o) == 1);
    CHECK(test::read_file(county.dir / "init.err").find("已有县级平台密钥") != std::string::npos);

    REQUIRE(test::run({BBT_COUNTY_BINARY, "init", "--pki", county.pki.string(), "--host", "127.0.0.1", "--force"}) ==
            0);
    CHECK(test::read_file(county.pki / "ca.pem") != ca_before);
    std::vector<std::filesystem::path> backups;
    for (const auto& e : std::filesystem::directory_iterator(county.pki)) {
        if (e.path().filename().string().starts_with("backup-")) backups.push_back(e.path());
    }
    REQUIRE(backups.size() == 1);
    CHECK(test::read_file(backups[0] / "ca.pem") == ca_before);
    CHECK(test::read_file(backups[0] / "command.key") == key_before);
}

namespace {

// A plain TCP connection to bbt-county from `from` (a loopback address), or -1.
int connect_from(const std::string& from, uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Whether the server has closed a connection: a read gets the end (or a
// reset) within `bound`, rather than waiting.
bool closed_within(int fd, std::chrono::seconds bound) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(bound).count())) <= 0) return false;
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

}  // namespace

TEST_CASE("a connection that says nothing and a chunk that stops coming are dropped at the read timeout") {
    county_fixture county;
    county.server_keys = "read_timeout = 1\n";
    county.write_config();
    county.start();
    // Nothing sent, not even a TLS hello: closed at the deadline (a bound
    // of 20 s here only stops a hang; before, the handshake waited 30 s).
    int idle = connect_from("127.0.0.1", county.port);
    REQUIRE(idle >= 0);
    CHECK(closed_within(idle, 20s));
    ::close(idle);

    // A set's chunk, without a checksum, that stops after 1000 bytes: the
    // connection is dropped, and tus keeps what arrived.
    auto set = county.identity("No.3 Primary/305#1");
    test::write_file(county.dir / "cert.pem", set.cert_pem);
    test::write_file(county.dir / "key.pem", set.key_pem);
    std::string sha(64, 'a');
    auto curl = [&](const std::string& tail) {
        return fmt::format("exec curl -sS --http1.1 --cacert {} --cert {} --key {} -H 'Tus-Resumable: 1.0.0' {}",
                           (county.pki / "ca.pem").string(), (county.dir / "cert.pem").string(),
                           (county.dir / "key.pem").string(), tail);
    };
    test::spawn_options o;
    o.stdout_path = county.dir / "create.out";
    REQUIRE(test::run({"/bin/bash", "-c",
                       curl(fmt::format("-o /dev/null -D - -X POST -H 'Upload-Length: 100000' -H 'Upload-Metadata: "
                                        "filename YS5tcDQ=,sha256 {}' {}/v1/uploads",
                                        digest::base64(sha), county.url()))},
                      o) == 0);
    std::smatch m;
    std::string created = test::read_file(county.dir / "create.out");
    REQUIRE(std::regex_search(created, m, std::regex("[Ll]ocation: (/v1/uploads/[0-9a-f]+)")));
    std::string at = m[1];
    auto hold = county.dir / "hold";
    REQUIRE(::mkfifo(hold.c_str(), 0600) == 0);
    // openssl s_client, unlike curl, notices the connection closing while
    // its input has nothing more to give.
    test::spawn_options po;
    po.stdout_path = county.dir / "patch.out";
    po.stderr_path = county.dir / "patch.err";
    auto patch = test::spawn(
        {"/usr/bin/setsid", "/bin/bash", "-c",
         fmt::format("exec openssl s_client -quiet -connect 127.0.0.1:{} -CAfile {} -cert {} -key {} < <(printf 'PATCH "
                     "{} HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nTus-Resumable: 1.0.0\\r\\nContent-Type: "
                     "application/offset+octet-stream\\r\\nUpload-Offset: 0\\r\\nContent-Length: "
                     "100000\\r\\n\\r\\n'; head -c 1000 /dev/zero; exec cat {})",
                     county.port, (county.pki / "ca.pem").string(), (county.dir / "cert.pem").string(),
                     (county.dir / "key.pem").string(), at, hold.string())},
        po);
    // The client ends when the county drops it (before, the county waited 300 s).
    CHECK(patch.wait(60s));
    ::kill(-patch.pid(), SIGKILL);
    // The deadline closes the socket first, then the county records what
    // it kept: wait for that state (the bound only stops a hang).
    int64_t offset = -1;
    for (auto until = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < until;) {
        auto d = sqlite::database::open(county.db);
        REQUIRE(d);
        auto st = d->prepare("SELECT offset FROM uploads");
        REQUIRE(st);
        REQUIRE(st->step().value());
        offset = st->column_int64(0);
        if (offset == 1000) break;
        std::this_thread::sleep_for(50ms);
    }
    CHECK(offset == 1000);
}

TEST_CASE("two thousand idle connections stall neither a set's report nor the dashboard") {
    county_fixture county;
    county.start();
    // From eight addresses (a school behind one NAT may hold 256), 1,000 on
    // each port: the sets' and the dashboard's.
    rlimit nofile{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &nofile) == 0);
    if (nofile.rlim_max < 2200) {
        BBT_SKIP("this process may hold " << nofile.rlim_max << " descriptors; the test needs 2,200");
        return;
    }
    nofile.rlim_cur = nofile.rlim_max;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &nofile) == 0);
    std::vector<int> idle;
    for (int i = 0; i < 2000; ++i) {
        std::string from = fmt::format("127.0.0.{}", 2 + i % 8);
        int fd = connect_from(from, i % 2 == 0 ? county.port : county.dashboard_port);
        REQUIRE(fd >= 0);
        idle.push_back(fd);
    }
    auto set = county.identity("No.3 Primary/306#1");
    std::string body = R"({"protocol":1,"device_id":"No.3 Primary/306#1","agent_version":"t","messages":[]})";
    auto r = post(set, county.url() + "/v1/reports", body);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().what()));
    CHECK(r->status == 200);
    auto page =
        test::http_fetch(county.dashboard_port, "/api/v1/overview", "GET", {{"Cookie", county.dashboard_cookie()}});
    CHECK(page.status == 200);
    // The idle ones are still open: served side by side, not shed to make room.
    size_t open = 0;
    for (int fd : idle)
        open += closed_within(fd, 0s) ? 0 : 1;
    CHECK(open == idle.size());
    for (int fd : idle)
        ::close(fd);
}

TEST_CASE("a code is refused for a school or classroom name that cannot name a set") {
    county_fixture county;
    test::spawn_options o;
    o.stderr_path = county.dir / "code.err";
    o.env = {{"LANG", "C.UTF-8"}};
    auto code = [&](const std::string& school, const std::string& classroom) {
        return test::run({BBT_COUNTY_BINARY, "code", "--config", county.config.string(), "--school", school,
                          "--classroom", classroom},
                         o);
    };
    CHECK(code("../../etc", "201") == 1);
    CHECK(test::read_file(county.dir / "code.err").find("must not") != std::string::npos);
    CHECK(code("No.3 Primary", "a/b") == 1);
    CHECK(code(".hidden", "201") == 1);
    // 20 Chinese characters and 20 more: 120 bytes, over a certificate's 64.
    CHECK(code("城关镇第三中心小学附属实验学校东校区", "八年级三班多媒体教室") == 1);
    CHECK(test::read_file(county.dir / "code.err").find("shorten") != std::string::npos);
    o.env = {{"LANG", "zh_CN.UTF-8"}};
    CHECK(code("No.3 Primary", "a/b") == 1);
    CHECK(test::read_file(county.dir / "code.err").find("学校名和教室名") != std::string::npos);
    CHECK(code("城关镇第三小学", "八年级三班") == 0);
}
