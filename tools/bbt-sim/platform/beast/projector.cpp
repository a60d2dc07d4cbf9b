#include "projector.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/drivers/projector/pjlink.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>

namespace bbt::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace pj = drivers::pjlink;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

// Epson's input numbers.
const std::vector<std::string> inputs{"11", "12", "21", "32", "33", "41", "52"};
const std::vector<std::string> input_names{"Computer1", "Computer2", "Video", "HDMI1", "HDMI2", "USB", "LAN"};

// The projector itself: power with warm-up and cool-down, lamp hours, inputs,
// mute; answers one command line.
class projector_model {
public:
    explicit projector_model(projector_options o) : o_(std::move(o)), started_(clock_type::now()) {}

    pj::power power() {
        settle();
        return power_;
    }

    // The reply line to one command (without CR), or "" when the line is not
    // PJLink at all (nothing is answered).
    std::string answer(const pj::request& r) {
        settle();
        auto reply = [&](std::string_view body) { return fmt::format("%{}{}={}", r.cls, r.command, body); };
        const bool q = r.param == "?";
        if (r.cls == '2' && o_.pjlink_class < 2) return reply("ERR1");
        const std::string& c = r.command;
        // Commands of Class 1 go with %1; only INPT and INST also have a %2 form.
        static const std::set<std::string> class1{"POWR", "INPT", "AVMT", "ERST", "LAMP", "INST",
                                                  "NAME", "INF1", "INF2", "INFO", "CLSS"};
        static const std::set<std::string> class2{"SNUM", "SVER", "INNM", "IRES", "RRES", "FILT", "RLMP",
                                                  "RFIL", "SVOL", "MVOL", "FREZ", "INPT", "INST"};
        if ((r.cls == '1' && !class1.contains(c)) || (r.cls == '2' && !class2.contains(c))) return reply("ERR1");
        if (c == "POWR") {
            if (q) return reply(std::to_string(static_cast<int>(power_)));
            if (r.param == "1") {
                if (o_.power_failure) return reply("ERR4");
                if (power_ == pj::power::cooling) return reply("ERR3");
                if (power_ == pj::power::standby) change(pj::power::warming);
                return reply("OK");
            }
            if (r.param == "0") {
                if (power_ == pj::power::warming) return reply("ERR3");
                if (power_ == pj::power::on) change(pj::power::cooling);
                return reply("OK");
            }
            return reply("ERR2");
        }
        if (c == "INPT") {
            if (q) return power_ == pj::power::on ? reply(input_) : reply("ERR3");
            if (std::find(inputs.begin(), inputs.end(), r.param) == inputs.end()) return reply("ERR2");
            if (power_ != pj::power::on) return reply("ERR3");
            input_ = r.param;
            return reply("OK");
        }
        if (c == "INST") {
            std::string all;
            for (const auto& i : inputs)
                all += (all.empty() ? "" : " ") + i;
            return reply(all);
        }
        if (c == "AVMT") {
            if (q) return reply(video_mute_ && audio_mute_ ? "31" : video_mute_ ? "11" : audio_mute_ ? "21" : "30");
            if (r.param.size() != 2 || r.param[0] < '1' || r.param[0] > '3' || (r.param[1] != '0' && r.param[1] != '1'))
                return reply("ERR2");
            if (power_ != pj::power::on) return reply("ERR3");
            bool on = r.param[1] == '1';
            if (r.param[0] != '2') video_mute_ = on;
            if (r.param[0] != '1') audio_mute_ = on;
            return reply("OK");
        }
        if (!q && c != "SVOL" && c != "MVOL" && c != "FREZ" && c != "INNM") return reply("ERR2");
        if (c == "ERST") return reply(o_.error_status);
        if (c == "LAMP") {
            if (o_.quirks.contains("laser")) return reply("ERR1");
            std::string body;
            bool lit = power_ == pj::power::on || power_ == pj::power::warming;
            for (int i = 0; i < o_.lamps; ++i) {
                body +=
                    fmt::format("{}{} {}", i ? " " : "", static_cast<int64_t>(std::floor(lamp_hours())), lit ? 1 : 0);
            }
            return reply(body);
        }
        if (c == "NAME") return reply(o_.name);
        if (c == "INF1") return reply(o_.manufacturer);
        if (c == "INF2")
            return reply(o_.quirks.contains("long-line") ? o_.product + std::string(200, '.') : o_.product);
        if (c == "INFO") return reply("bbt-sim");
        if (c == "CLSS")
            return reply(o_.quirks.contains("clss-text") ? fmt::format("Class {}", o_.pjlink_class)
                                                         : std::to_string(o_.pjlink_class));
        if (c == "SNUM") return reply(o_.serial);
        if (c == "SVER") return reply(o_.software);
        if (c == "FILT") return reply(std::to_string(static_cast<int64_t>(o_.filter_hours)));
        if (c == "RLMP") return reply("ELPLP97");
        if (c == "RFIL") return reply("ELPAF32");
        if (c == "IRES") return reply(power_ == pj::power::on ? "1024x768" : "-");
        if (c == "RRES") return reply(o_.quirks.contains("unknown-resolution") ? "*" : "1024x768");
        if (c == "INNM") {
            auto it = std::find(inputs.begin(), inputs.end(), r.param.substr(1));
            if (r.param.size() != 3 || it == inputs.end()) return reply("ERR2");
            return reply(input_names[static_cast<size_t>(it - inputs.begin())]);
        }
        if (c == "SVOL" || c == "MVOL") return r.param == "0" || r.param == "1" ? reply("OK") : reply("ERR2");
        if (c == "FREZ") {
            if (q) return reply(frozen_ ? "1" : "0");
            if (r.param != "0" && r.param != "1") return reply("ERR2");
            frozen_ = r.param == "1";
            return reply("OK");
        }
        return reply("ERR1");
    }

    const projector_options& options() const { return o_; }
    // Where Class 2 status notices go (set when a controller is registered).
    std::function<void(std::string)> notify;
    int64_t lamp_hours_now() {
        settle();
        return static_cast<int64_t>(std::floor(lamp_hours()));
    }

private:
    double now_s() const { return std::chrono::duration<double>(clock_type::now() - started_).count(); }

    double lamp_hours() const {
        double lit = lit_s_;
        if (power_ == pj::power::on || power_ == pj::power::warming) lit += now_s() - lit_since_;
        return o_.lamp_hours + lit * o_.hours_per_second;
    }

    void change(pj::power p) {
        double t = now_s();
        bool was_lit = power_ == pj::power::on || power_ == pj::power::warming;
        bool lit = p == pj::power::on || p == pj::power::warming;
        if (was_lit && !lit) lit_s_ += t - lit_since_;
        if (!was_lit && lit) lit_since_ = t;
        // With the wall time in µs, so that a test can line it up with the agent's relay log.
        auto wall =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        fmt::print(stderr, "bbt-sim: projector {} -> {} at {}\n", pj::to_string(power_), pj::to_string(p), wall);
        // Class 2 notices carry 1 for on or warming, 0 for cooling or standby.
        if (notify && was_lit != lit) notify(fmt::format("%2POWR={}\r", lit ? 1 : 0));
        power_ = p;
        changed_at_ = t;
    }

    // Warm-up and cool-down end by themselves.
    void settle() {
        double t = now_s();
        if (power_ == pj::power::warming && t - changed_at_ >= o_.warmup_s) change(pj::power::on);
        if (power_ == pj::power::cooling && t - changed_at_ >= o_.cooldown_s) {
            change(pj::power::standby);
            video_mute_ = audio_mute_ = false;
        }
    }

    projector_options o_;
    clock_type::time_point started_;
    pj::power power_ = pj::power::standby;
    double changed_at_ = 0;
    double lit_since_ = 0;
    double lit_s_ = 0;
    std::string input_ = "32";
    bool video_mute_ = false;
    bool audio_mute_ = false;
    bool frozen_ = false;
};

std::string random_token() {
    std::random_device rd;
    return fmt::format("{:08x}", rd());
}

asio::awaitable<void> serve(tcp::socket sock, projector_model& model) {
    const auto& o = model.options();
    beast::tcp_stream s(std::move(sock));
    std::string random = o.password.empty() ? "" : random_token();
    std::string expected = random.empty() ? "" : pj::auth_digest(random, o.password);
    std::string greeting = random.empty() ? "PJLINK 0\r" : fmt::format("PJLINK 1 {}\r", random);
    auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(o.idle_timeout_s));
    s.expires_after(idle);
    auto [gec, gn] = co_await asio::async_write(s, asio::buffer(greeting), asio::as_tuple(asio::use_awaitable));
    if (gec) co_return;
    pj::line_reader lines;
    std::array<char, 512> buf{};
    bool first = true;
    for (;;) {
        auto line = lines.next();
        if (!line) {
            // The projector drops a connection idle for idle_timeout.
            s.expires_after(idle);
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
            if (ec) break;
            lines.feed(std::string_view(buf.data(), n));
            continue;
        }
        if (!*line) continue;  // too long: ignored, as projectors do
        auto req = pj::parse_request(**line);
        std::string out;
        if (first && !expected.empty() && (!req || req->digest != expected)) {
            out = "PJLINK ERRA\r";
            co_await asio::async_write(s, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
            break;
        }
        if (!req) continue;  // not PJLink: no answer
        std::string body = model.answer(req->req);
        if (o.quirks.contains("lowercase")) {
            for (size_t i = 2; i < 6 && i < body.size(); ++i)
                body[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(body[i])));
        }
        if (first && o.quirks.contains("lkup")) out += "%2LKUP=00:1b:2c:3d:4e:5f\r";
        // A projector seen in the field echoes the command's letters out of order.
        if (o.quirks.contains("wrong-echo") && req->req.command == "POWR") body.replace(2, 4, "ROWP");
        out += body + "\r";
        if (o.quirks.contains("nul")) out += std::string(3, '\0');
        first = false;
        auto [wec, wn] = co_await asio::async_write(s, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
        if (wec) break;
    }
    boost::system::error_code ignored;
    s.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

// One command of a serial command set, answered as the projector model says.
std::string serial_answer(const std::string& set, std::string cmd, projector_model& model) {
    auto powr = [&](const char* p) { return model.answer({'1', "POWR", p}); };
    auto ok = [](const std::string& pj_reply) { return pj_reply.ends_with("=OK"); };
    if (set == "epson-escvp21") {
        static const char* codes[] = {"04", "01", "03", "02"};  // standby, on, cooling, warming
        if (cmd == "PWR?") return fmt::format("PWR={}\r:", codes[static_cast<int>(model.power())]);
        if (cmd == "PWR ON") return ok(powr("1")) ? ":" : "ERR\r:";
        if (cmd == "PWR OFF") return ok(powr("0")) ? ":" : "ERR\r:";
        if (cmd == "LAMP?") return fmt::format("LAMP={}\r:", model.lamp_hours_now());
        if (cmd.starts_with("SOURCE ") || cmd == "MUTE ON" || cmd == "MUTE OFF") {
            return model.power() == pj::power::on ? ":" : "ERR\r:";
        }
        return "ERR\r:";
    }
    // benq: "*name=value#", echoed first.
    std::string echo = cmd + "\r\n";
    std::string lower = cmd;
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto lit = [&] { return model.power() == pj::power::on || model.power() == pj::power::warming; };
    if (lower == "*pow=?#") return echo + (lit() ? "*POW=ON#\r\n" : "*POW=OFF#\r\n");
    if (lower == "*pow=on#") return echo + (ok(powr("1")) ? "*POW=ON#\r\n" : "*Block item#\r\n");
    if (lower == "*pow=off#") return echo + (ok(powr("0")) ? "*POW=OFF#\r\n" : "*Block item#\r\n");
    if (lower == "*ltim=?#") return echo + fmt::format("*LTIM={}#\r\n", model.lamp_hours_now());
    if (lower.starts_with("*sour=") || lower.starts_with("*blank=")) {
        if (model.power() != pj::power::on) return echo + "*Block item#\r\n";
        std::string up = cmd;
        for (char& c : up)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return echo + up + "\r\n";
    }
    return echo + "*Illegal format#\r\n";
}

// The projector on a pty: its slave end is linked at `path` for the agent.
asio::awaitable<void> serve_serial(asio::posix::stream_descriptor& master, projector_model& model, std::string set) {
    std::string buffer;
    std::array<char, 256> buf{};
    for (;;) {
        auto [ec, n] = co_await master.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        buffer.append(buf.data(), n);
        for (;;) {
            // Epson commands end with CR; BenQ's are "*...#" between CRs.
            size_t end = set == "benq" ? buffer.find('#') : buffer.find('\r');
            if (end == std::string::npos) break;
            std::string cmd = buffer.substr(0, end + (set == "benq" ? 1 : 0));
            buffer.erase(0, end + 1);
            while (!cmd.empty() && (cmd.front() == '\r' || cmd.front() == '\n'))
                cmd.erase(0, 1);
            if (cmd.empty()) continue;
            std::string out = serial_answer(set, cmd, model);
            co_await asio::async_write(master, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
        }
    }
}

// Class 2 search: SRCH answered with ACKN and the projector's MAC, to the sender.
asio::awaitable<void> serve_search(asio::ip::udp::socket& sock, std::string mac) {
    std::array<char, 256> buf{};
    for (;;) {
        asio::ip::udp::endpoint from;
        auto [ec, n] = co_await sock.async_receive_from(asio::buffer(buf), from, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        std::string_view got(buf.data(), n);
        while (!got.empty() && (got.back() == '\r' || got.back() == '\n'))
            got.remove_suffix(1);
        if (got != "%2SRCH") continue;
        std::string answer = fmt::format("%2ACKN={}\r", mac);
        co_await sock.async_send_to(asio::buffer(answer), from, asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, projector_model& model) {
    for (;;) {
        auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (!acceptor.is_open()) co_return;
            continue;
        }
        asio::co_spawn(acceptor.get_executor(), serve(std::move(sock), model), asio::detached);
    }
}

}  // namespace

const std::vector<std::string>& projector_quirks() {
    static const std::vector<std::string> q{"lowercase", "nul",       "clss-text",          "laser",
                                            "lkup",      "long-line", "unknown-resolution", "wrong-echo"};
    return q;
}

int run_serial(const projector_options& options) {
    asio::io_context ioc(1);
    projector_model model(options);
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
        fmt::print(stderr, "bbt-sim: a pseudo-terminal cannot be made: {}\n", std::strerror(errno));
        return 1;
    }
    std::string slave = ::ptsname(master);
    // Raw: no echo, no line editing, bytes as they are.
    termios t{};
    ::tcgetattr(master, &t);
    ::cfmakeraw(&t);
    ::tcsetattr(master, TCSANOW, &t);
    // Held open so that the master does not see a hang-up between the agent's sessions.
    int keep = ::open(slave.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    std::error_code fec;
    std::filesystem::remove(options.pty_link, fec);
    std::filesystem::create_symlink(slave, options.pty_link, fec);
    if (fec) {
        fmt::print(stderr, "bbt-sim: {}: {}\n", options.pty_link, fec.message());
        return 1;
    }
    fmt::print("{}\n", i18n::format({"bbt-sim: projector ({} over a serial line) on {}",
                                     "bbt-sim：投影机（串口 {} 命令集）位于 {}"},
                                    options.serial_set, options.pty_link));
    std::fflush(stdout);
    asio::posix::stream_descriptor m(ioc, master);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { ioc.stop(); });
    asio::co_spawn(ioc, serve_serial(m, model, options.serial_set), asio::detached);
    ioc.run();
    std::filesystem::remove(options.pty_link, fec);
    if (keep >= 0) ::close(keep);
    return 0;
}

int run_projector(const projector_options& options) {
    if (!options.serial_set.empty()) return run_serial(options);
    asio::io_context ioc(1);
    projector_model model(options);
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(options.listen, ec);
    tcp::acceptor acceptor(ioc);
    tcp::endpoint ep(addr, options.port);
    if (!ec) acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        fmt::print(stderr, "bbt-sim: {}:{}: {}\n", options.listen, options.port, ec.message());
        return 1;
    }
    std::string quirks;
    for (const auto& q : options.quirks)
        quirks += " " + q;
    fmt::print("{}\n", i18n::format({"bbt-sim: projector (PJLink class {}, password {}) on {}:{}{}{}",
                                     "bbt-sim：投影机（PJLink {} 类，密码{}）监听 {}:{}{}{}"},
                                    options.pjlink_class,
                                    options.password.empty() ? i18n::text({"off", "关"}) : i18n::text({"on", "开"}),
                                    options.listen, acceptor.local_endpoint().port(),
                                    quirks.empty() ? "" : i18n::text({", quirks:", "，偏差："}), quirks));
    std::fflush(stdout);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
        boost::system::error_code ignored;
        acceptor.close(ignored);
        ioc.stop();
    });
    asio::co_spawn(ioc, accept_loop(acceptor, model), asio::detached);

    // Class 2 over UDP: search answers, and status notices to a registered controller.
    const std::string mac = "00:1b:2c:3d:4e:5f";
    asio::ip::udp::socket search(ioc);
    if (options.udp_port >= 0 && options.pjlink_class >= 2) {
        search.open(addr.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
        if (!ec) search.bind({addr, static_cast<uint16_t>(options.udp_port)}, ec);
        if (ec) {
            fmt::print(stderr, "bbt-sim: UDP {}: {}\n", options.udp_port, ec.message());
            return 1;
        }
        fmt::print("bbt-sim: PJLink search on UDP {}:{}\n", options.listen, search.local_endpoint().port());
        std::fflush(stdout);
        asio::co_spawn(ioc, serve_search(search, mac), asio::detached);
    }
    asio::ip::udp::socket notices(ioc);
    if (!options.notify.empty()) {
        auto colon = options.notify.rfind(':');
        auto to = asio::ip::make_address(options.notify.substr(0, colon), ec);
        uint16_t to_port = static_cast<uint16_t>(std::atoi(options.notify.substr(colon + 1).c_str()));
        if (!ec) notices.open(to.is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
        if (ec || colon == std::string::npos || to_port == 0) {
            fmt::print(stderr, "bbt-sim: --notify {}: give HOST:PORT\n", options.notify);
            return 1;
        }
        asio::ip::udp::endpoint dest(to, to_port);
        model.notify = [&notices, dest](std::string line) {
            boost::system::error_code ignored;
            notices.send_to(asio::buffer(line), dest, 0, ignored);
        };
        model.notify(fmt::format("%2LKUP={}\r", mac));
    }
    ioc.run();
    return 0;
}

}  // namespace bbt::sim
