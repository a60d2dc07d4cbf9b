// The real bbt-agent as the integration tests run it: a configuration in a
// temporary directory, a NOTIFY_SOCKET listener as systemd has, and bbtctl.
#pragma once

#include "process.hpp"
#include "temp_dir.hpp"

#include "doctest_bbt.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bbt::test {

using namespace std::chrono_literals;

// A NOTIFY_SOCKET listener, as systemd has: a Unix datagram socket.
class notify_listener {
public:
    explicit notify_listener(std::filesystem::path path) : path_(std::move(path)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~notify_listener() { ::close(fd_); }

    // Waits until `times` datagrams contain `needle`; the cap only keeps a
    // silent agent from hanging the test.
    bool wait_for(std::string_view needle, int times = 1, std::chrono::milliseconds cap = 20s) {
        auto until = std::chrono::steady_clock::now() + cap;
        while (count(needle) < times) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
                char buf[4096];
                ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
                if (n > 0) received_.emplace_back(buf, static_cast<size_t>(n));
            }
        }
        return true;
    }
    int count(std::string_view needle) const {
        return static_cast<int>(std::count_if(received_.begin(), received_.end(), [&](const std::string& m) {
            return m.find(needle) != std::string::npos;
        }));
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::vector<std::string> received_;
};

struct agent_fixture {
    temp_dir dir;
    std::filesystem::path config = dir / "agent.toml";
    std::filesystem::path socket = dir / "run" / "agent.sock";
    std::filesystem::path state = dir / "state";
    std::string lang = "C.UTF-8";  // bbtctl's locale: "zh_CN.UTF-8" for its Chinese

    explicit agent_fixture(std::string_view extra_api = "", std::string_view stop_timeout = "3",
                           std::string_view extra = "") {
        // Other users must reach the socket's directory for the peer tests.
        ::chmod(dir.path().c_str(), 0755);
        write_file(config, fmt::format("[agent]\nstate_dir = \"{}\"\nboard = \"sim\"\nstop_timeout = {}\n"
                                       "[api]\nsocket = \"{}\"\n{}\n[ledger]\nheartbeat = 1\n{}\n",
                                       state.string(), stop_timeout, socket.string(), extra_api, extra));
    }

    child start(notify_listener& n, std::map<std::string, std::string> env = {}) {
        env["NOTIFY_SOCKET"] = n.path().string();
        spawn_options o;
        o.env = std::move(env);
        o.unset_env = {"BBT_LOG", "WATCHDOG_PID"};
        o.stderr_path = dir / "agent.log";
        return spawn({BBT_AGENT_BINARY, "--config", config.string()}, o);
    }

    int ctl(const std::vector<std::string>& args, std::optional<uid_t> uid = {}, std::optional<gid_t> gid = {}) {
        std::string binary = BBT_CTL_BINARY;
        if (uid) {
            // Another user may not reach the build tree (a checkout under
            // /root, say): run a copy from the test's own directory.
            auto copy = dir / "bbtctl";
            std::filesystem::copy_file(binary, copy, std::filesystem::copy_options::overwrite_existing);
            std::filesystem::permissions(copy, std::filesystem::perms(0755));
            binary = copy.string();
        }
        std::vector<std::string> argv{binary, "--socket", socket.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        spawn_options o;
        o.stdout_path = dir / "ctl.out";
        o.stderr_path = dir / "ctl.err";
        o.env = {{"LANG", lang}};
        o.unset_env = {"LC_ALL", "LC_MESSAGES", "LANGUAGE"};
        o.uid = uid;
        o.gid = gid;
        return run(argv, o);
    }
    std::string ctl_out() const { return read_file(dir / "ctl.out"); }

    // `bbtctl --json ARGS`, which must succeed: its answer.
    boost::json::object ctl_json(const std::vector<std::string>& args) {
        std::vector<std::string> a{"--json"};
        a.insert(a.end(), args.begin(), args.end());
        int rc = ctl(a);
        INFO(ctl_err());
        REQUIRE(rc == 0);
        return boost::json::parse(ctl_out()).as_object();
    }

    // Asks `bbtctl --json ARGS` until `pred` holds of the answer; the cap only
    // keeps a broken agent from hanging the test.
    template <class Pred>
    boost::json::object ctl_json_until(const std::vector<std::string>& args, Pred pred,
                                       std::chrono::seconds cap = std::chrono::seconds(40)) {
        auto until = std::chrono::steady_clock::now() + cap;
        boost::json::object s;
        while (std::chrono::steady_clock::now() < until) {
            s = ctl_json(args);
            if (pred(s)) return s;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("bbtctl " << fmt::format("{}", fmt::join(args, " "))
                       << " never gave the expected answer: " << boost::json::serialize(s));
        return s;
    }
    std::string ctl_err() const { return read_file(dir / "ctl.err"); }
    std::string log() const { return read_file(dir / "agent.log"); }
};

}  // namespace bbt::test
