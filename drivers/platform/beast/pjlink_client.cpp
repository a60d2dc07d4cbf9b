#include "bbt/drivers/projector/pjlink_client.hpp"

#include "bbt/base/coroutine_frames.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <algorithm>
#include <memory>

namespace bbt::drivers::pjlink {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string where_of(const endpoint& e) { return fmt::format("{}:{}", e.host, e.port); }

error network_error(const endpoint& e, const boost::system::error_code& ec) {
    namespace errc = boost::system::errc;
    if (ec == asio::error::connection_refused) {
        return error(ec, i18n::format({"nothing answers on {} (connection refused): check that this is the "
                                       "projector's address, that PJLink is enabled on it, and that it stays on the "
                                       "network in standby",
                                       "{} 无应答（连接被拒绝）：请确认这是投影机的地址、投影机已启用 PJLink，"
                                       "且待机时保持联网"},
                                      where_of(e)));
    }
    if (ec == beast::error::timeout || ec == errc::timed_out) {
        return error(ec, i18n::format({"{} did not answer in time: check the address and the network, and that "
                                       "the projector is powered and stays on the network in standby",
                                       "{} 未按时应答：请检查地址和网络，并确认投影机已通电且待机时保持联网"},
                                      where_of(e)));
    }
    if (ec == asio::error::eof || ec == asio::error::connection_reset) {
        return error(ec, i18n::format({"{} closed the connection: another controller may be connected to the "
                                       "projector, or it is not a PJLink projector",
                                       "{} 关闭了连接：可能有其他控制器正连接投影机，或这不是 PJLink 投影机"},
                                      where_of(e)));
    }
    return error(ec, i18n::format({"cannot talk to the projector at {}: {}", "无法与 {} 的投影机通信：{}"}, where_of(e),
                                  ec.message()));
}

// A connection's line-by-line reading, with the reply deadline.
struct connection {
    beast::tcp_stream stream;
    line_reader lines;
    std::array<char, 512> buf{};

    explicit connection(asio::any_io_executor ex) : stream(ex) {}

    asio::awaitable<result<std::string>> read_line(const endpoint& e) {
        for (;;) {
            if (auto l = lines.next()) co_return std::move(*l);
            stream.expires_after(e.reply_timeout);
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
            if (ec) co_return network_error(e, ec);
            lines.feed(std::string_view(buf.data(), n));
        }
    }
};

// Class 2 notices a projector may send between a command and its reply.
bool is_notice(const reply& r) {
    return r.cls == '2' && (r.command == "LKUP" || r.command == "ERST" || r.command == "POWR" || r.command == "INPT");
}

// A session: connected, greeted, and the digest for its first command.
struct session {
    std::unique_ptr<connection> c;
    std::string digest;
};

asio::awaitable<result<session>> open_session(asio::any_io_executor ex, const endpoint& where) {
    tcp::resolver resolver(ex);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(where.host, std::to_string(where.port), asio::as_tuple(asio::use_awaitable));
    if (rec) {
        co_return error(rec,
                        i18n::format({"the projector's address {} cannot be resolved: {}", "无法解析投影机地址 {}：{}"},
                                     where.host, rec.message()));
    }
    session s{std::make_unique<connection>(ex), {}};
    s.c->stream.expires_after(where.connect_timeout);
    auto [cec, ep] = co_await s.c->stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (cec) co_return network_error(where, cec);

    auto first = co_await s.c->read_line(where);
    if (!first) co_return first.error();
    auto hello = parse_greeting(*first);
    if (!hello) co_return hello.error();
    if (hello->authentication) {
        if (where.password.empty()) {
            co_return error(pjlink_errc::password_required,
                            i18n::format({"the projector at {} asks for a PJLink password; give it (bbtctl projector "
                                          "probe --password, or [projector] password in the agent's configuration)",
                                          "{} 的投影机需要 PJLink 密码；请提供（bbtctl projector probe --password，"
                                          "或代理程序配置中的 [projector] password）"},
                                         where_of(where)));
        }
        s.digest = auth_digest(hello->random, where.password);
    }
    co_return s;
}

void close_session(session& s) {
    boost::system::error_code ignored;
    s.c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    s.c->stream.close();
    s.c.reset();
}

// A line that breaks the protocol (a reply to a command not sent, a line
// over PJLink's length), named as it came: the session cannot be trusted
// after it, so it is closed and the next command opens another.
error protocol_error(pjlink_errc code, const endpoint& where, const request& req, std::string_view what) {
    return error(code, i18n::format({"the projector at {} broke the PJLink protocol answering %{}{} {}: {}; its other "
                                     "answers are kept and the connection is opened again",
                                     "{} 的投影机应答 %{}{} {} 时违反 PJLink 协议：{}；其他应答已保留，连接将重新建立"},
                                    where_of(where), req.cls, req.command, req.param, what));
}

}  // namespace

asio::awaitable<result<std::vector<exchange>>> run(asio::any_io_executor ex, endpoint where,
                                                   std::vector<request> requests) {
    std::vector<exchange> out;
    out.reserve(requests.size());
    session s;
    for (auto& req : requests) {
        if (!s.c) {
            auto opened = co_await open_session(ex, where);
            if (!opened) {
                if (out.empty()) co_return opened.error();
                // Answers already had are kept; the rest say why they have none.
                for (size_t i = out.size(); i < requests.size(); ++i)
                    out.push_back({requests[i], opened.error()});
                co_return out;
            }
            s = std::move(*opened);
        }
        exchange x{req, error()};
        bool broken = false;
        for (int attempt = 0;; ++attempt) {
            std::string line = encode(req, s.digest);
            s.digest.clear();  // the digest goes with the first command only
            s.c->stream.expires_after(where.reply_timeout);
            auto [wec, wn] =
                co_await asio::async_write(s.c->stream, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
            if (wec) co_return network_error(where, wec);
            result<reply> answer = error();
            // Class 2 notices (LKUP, ERST, POWR, INPT) before the reply are skipped.
            for (int skipped = 0;; ++skipped) {
                auto l = co_await s.c->read_line(where);
                if (!l) {
                    if (l.error().code() != pjlink_errc::line_too_long) co_return l.error();
                    answer = protocol_error(pjlink_errc::line_too_long, where, req,
                                            i18n::format({"a line over {} bytes", "超过 {} 字节的行"}, max_line));
                    broken = true;
                    break;
                }
                answer = parse_reply(*l);
                if (!answer) {
                    if (answer.error().code() == pjlink_errc::authentication_failed) co_return answer.error();
                    break;
                }
                if (answer->command == req.command) break;
                if (!is_notice(*answer) || skipped >= 4) {
                    answer = protocol_error(pjlink_errc::unexpected_reply, where, req,
                                            i18n::format({"it answered \"{}\"", "其应答为“{}”"},
                                                         decode_text(std::string_view(*l).substr(0, 40))));
                    broken = true;
                    break;
                }
            }
            if (answer) {
                if (auto status = check_body(*answer); !status) answer = status.error();
            }
            if (!answer && answer.error().code() == pjlink_errc::unavailable_time && attempt < where.busy_retries) {
                asio::steady_timer pause(ex, where.busy_wait);
                co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
                continue;
            }
            x.answer = std::move(answer);
            break;
        }
        out.push_back(std::move(x));
        if (broken) close_session(s);
    }
    if (s.c) close_session(s);
    co_return out;
}

asio::awaitable<result<projector_info>> probe(asio::any_io_executor ex, endpoint where) {
    projector_info info;
    std::vector<request> first{query("CLSS"), query("INF1"), query("INF2"), query("INFO"), query("NAME"), query("POWR"),
                               query("INPT"), query("INST"), query("AVMT"), query("ERST"), query("LAMP")};
    auto r1 = co_await run(ex, where, std::move(first));
    if (!r1) co_return r1.error();
    auto note = [&](const exchange& x) {
        if (!x.answer) info.unanswered[x.req.command] = x.answer.error().message();
    };
    for (const auto& x : *r1) {
        // A projector in standby is busy (ERR3) for the input and the mute: nothing to report.
        bool standby_busy =
            !x.answer && x.answer.error().code() == pjlink_errc::unavailable_time && info.power_state != power::on;
        if (!standby_busy) note(x);
        if (!x.answer) {
            if (x.req.command == "LAMP" && x.answer.error().code() == pjlink_errc::undefined_command) {
                info.no_lamp = true;
            }
            continue;
        }
        const std::string& b = x.answer->body;
        const std::string& c = x.req.command;
        if (c == "CLSS") {
            if (auto v = decode_class(b)) info.pjlink_class = *v;
        } else if (c == "INF1") {
            info.manufacturer = decode_text(b);
        } else if (c == "INF2") {
            info.product = decode_text(b);
        } else if (c == "INFO") {
            info.other = decode_text(b);
        } else if (c == "NAME") {
            info.name = decode_text(b);
        } else if (c == "POWR") {
            if (auto v = decode_power(b)) info.power_state = *v;
        } else if (c == "INPT") {
            if (auto v = decode_input(b)) info.current_input = *v;
        } else if (c == "INST") {
            if (auto v = decode_inputs(b)) info.inputs = *v;
        } else if (c == "AVMT") {
            if (auto v = decode_av_mute(b)) info.mute = *v;
        } else if (c == "ERST") {
            if (auto v = decode_error_status(b)) info.errors = *v;
        } else if (c == "LAMP") {
            if (auto v = decode_lamps(b)) info.lamps = *v;
        }
    }
    if (info.pjlink_class < 2) co_return info;

    std::vector<request> second{query("SNUM", '2'), query("SVER", '2'), query("FILT", '2'), query("RLMP", '2'),
                                query("RFIL", '2'), query("IRES", '2'), query("RRES", '2')};
    for (size_t i = 0; i < info.inputs.size() && i < 16; ++i) {
        second.push_back({'2', "INNM", "?" + info.inputs[i].code()});
    }
    auto r2 = co_await run(ex, where, std::move(second));
    if (!r2) co_return r2.error();
    for (const auto& x : *r2) {
        if (!x.answer) {
            if (x.req.command != "INNM") note(x);
            continue;
        }
        const std::string& b = x.answer->body;
        const std::string& c = x.req.command;
        if (c == "SNUM") {
            info.serial = decode_text(b);
        } else if (c == "SVER") {
            info.software = decode_text(b);
        } else if (c == "FILT") {
            if (auto v = decode_hours(b)) info.filter_hours = *v;
        } else if (c == "RLMP") {
            info.replacement_lamp = decode_text(b);
        } else if (c == "RFIL") {
            info.replacement_filter = decode_text(b);
        } else if (c == "IRES") {
            if (auto v = decode_resolution(b)) info.input_resolution = *v;
        } else if (c == "RRES") {
            if (auto v = decode_resolution(b)) info.recommended_resolution = *v;
        } else if (c == "INNM") {
            info.input_names[x.req.param.substr(1)] = decode_text(b);
        }
    }
    co_return info;
}

asio::awaitable<result<std::vector<found_projector>>> search(asio::any_io_executor ex, std::string to, uint16_t port,
                                                             uint16_t local_port, std::chrono::milliseconds wait) {
    using udp = asio::ip::udp;
    boost::system::error_code ec;
    auto target = asio::ip::make_address(to, ec);
    if (ec) {
        co_return error(ec, i18n::format({"\"{}\" is not an address to search on (give a broadcast address such as "
                                          "192.168.1.255, or a projector's address)",
                                          "“{}”不是可搜索的地址（请给出广播地址，例如 192.168.1.255，或投影机地址）"},
                                         to));
    }
    udp::socket sock(ex);
    sock.open(target.is_v4() ? udp::v4() : udp::v6(), ec);
    if (!ec) sock.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) sock.set_option(asio::socket_base::broadcast(true), ec);
    if (!ec) sock.bind(udp::endpoint(target.is_v4() ? udp::v4() : udp::v6(), local_port), ec);
    if (ec) {
        co_return error(ec,
                        i18n::format({"cannot listen for projectors' answers on UDP port {}: {} (another PJLink "
                                      "controller on this machine may hold it)",
                                      "无法在 UDP 端口 {} 上接收投影机应答：{}（本机可能有其他 PJLink 控制器占用）"},
                                     local_port, ec.message()));
    }
    std::string line = search_line();
    auto [sec, sn] = co_await sock.async_send_to(asio::buffer(line), udp::endpoint(target, port),
                                                 asio::as_tuple(asio::use_awaitable));
    if (sec) {
        co_return error(
            sec, i18n::format({"sending the search to {}:{}: {}", "向 {}:{} 发送搜索：{}"}, to, port, sec.message()));
    }
    std::vector<found_projector> found;
    asio::steady_timer deadline(ex, wait);
    deadline.async_wait([&sock](boost::system::error_code e) {
        if (!e) {
            boost::system::error_code ignored;
            sock.cancel(ignored);
        }
    });
    std::array<char, max_line + 16> buf{};
    for (;;) {
        udp::endpoint from;
        auto [rec, n] = co_await sock.async_receive_from(asio::buffer(buf), from, asio::as_tuple(asio::use_awaitable));
        if (rec) break;  // the wait is over
        line_reader lines;
        lines.feed(std::string_view(buf.data(), n));
        while (auto l = lines.next()) {
            if (!*l) continue;
            auto r = parse_reply(**l);
            if (!r || r->command != "ACKN") continue;
            auto mac = decode_mac(r->body);
            if (!mac) continue;
            std::string address = from.address().to_string();
            bool seen = std::any_of(found.begin(), found.end(),
                                    [&](const found_projector& f) { return f.mac == *mac && f.address == address; });
            if (!seen) found.push_back({address, *mac});
        }
    }
    deadline.cancel();
    co_return found;
}

}  // namespace bbt::drivers::pjlink
