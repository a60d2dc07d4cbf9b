#include "bbt/agent/local_api_server.hpp"

#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace bbt::agent {
namespace {

const log::category lg{"api"};
using stream = asio::local::stream_protocol;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

// A connection that sends nothing for this long is closed.
constexpr auto idle_timeout = 30s;

std::optional<peer_credentials> credentials_of(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
    return peer_credentials{cred.pid, cred.uid, cred.gid};
}

std::string response_line(const protocol::response& r) { return protocol::serialize(r) + "\n"; }

}  // namespace

peer_policy peer_policy::from_names(const std::vector<std::string>& users, const std::vector<std::string>& groups,
                                    std::vector<std::string>& unknown, const std::vector<std::string>& teacher_users,
                                    const std::vector<std::string>& teacher_groups) {
    auto resolve = [&](const std::vector<std::string>& user_names, const std::vector<std::string>& group_names,
                       std::set<uid_t>& uids, std::set<gid_t>& gids) {
        for (const auto& u : user_names) {
            if (const passwd* pw = ::getpwnam(u.c_str())) {
                uids.insert(pw->pw_uid);
            } else {
                unknown.push_back(u);
            }
        }
        for (const auto& g : group_names) {
            if (const group* gr = ::getgrnam(g.c_str())) {
                gids.insert(gr->gr_gid);
            } else {
                unknown.push_back(g);
            }
        }
    };
    // Root (bbtctl through sudo) and the agent's own user always.
    std::set<uid_t> uids{0, ::geteuid()}, teacher_uids;
    std::set<gid_t> gids, teacher_gids;
    resolve(users, groups, uids, gids);
    resolve(teacher_users, teacher_groups, teacher_uids, teacher_gids);
    return peer_policy(std::move(uids), std::move(gids), std::move(teacher_uids), std::move(teacher_gids));
}

namespace {

// Whether the peer's user is in one of `gids`, its primary group or any of
// its supplementary groups (from the user database).
bool in_groups(const peer_credentials& peer, const std::set<gid_t>& gids) {
    if (gids.empty()) return false;
    if (gids.contains(peer.gid)) return true;
    const passwd* pw = ::getpwuid(peer.uid);
    if (pw == nullptr) return false;
    int n = 64;
    std::vector<gid_t> list(static_cast<size_t>(n));
    if (::getgrouplist(pw->pw_name, pw->pw_gid, list.data(), &n) < 0) {
        list.resize(static_cast<size_t>(n));
        if (::getgrouplist(pw->pw_name, pw->pw_gid, list.data(), &n) < 0) return false;
    }
    list.resize(static_cast<size_t>(n));
    return std::any_of(list.begin(), list.end(), [&](gid_t g) { return gids.contains(g); });
}

}  // namespace

std::optional<api_role> peer_policy::role_of(const peer_credentials& peer) const {
    if (uids_.contains(peer.uid) || in_groups(peer, gids_)) return api_role::technician;
    if (teacher_uids_.contains(peer.uid) || in_groups(peer, teacher_gids_)) return api_role::teacher;
    return std::nullopt;
}

local_api_server::local_api_server(asio::any_io_executor executor, std::filesystem::path socket_path,
                                   peer_policy policy)
    : executor_(std::move(executor)), path_(std::move(socket_path)), policy_(std::move(policy)) {}

local_api_server::~local_api_server() = default;

void local_api_server::handle(std::string method, handler h, api_role needs) {
    handle(std::move(method), std::move(h), [needs](const boost::json::object&) { return needs; });
}

void local_api_server::handle(std::string method, handler h, role_rule needs) {
    handlers_[std::move(method)] = {std::move(h), std::move(needs)};
}

asio::awaitable<result<void>> local_api_server::start() {
    std::error_code fs_ec;
    std::filesystem::create_directories(path_.parent_path(), fs_ec);
    if (fs_ec) {
        co_return errno_error(fs_ec.value(), i18n::text({"creating the socket's directory", "创建套接字目录"}),
                              path_.parent_path().string());
    }
    // A socket file left by a killed agent is removed; a live one means
    // another agent is running, which must not be stolen from.
    if (std::filesystem::is_socket(path_, fs_ec)) {
        stream::socket probe(executor_);
        boost::system::error_code ec;
        probe.connect(stream::endpoint(path_.string()), ec);
        if (!ec) {
            co_return error(
                std::make_error_code(std::errc::address_in_use),
                i18n::text({"another bbt-agent is already serving this socket; stop it first, or give "
                            "this one another api.socket",
                            "已有另一个 bbt-agent 在使用此套接字；请先停止它，或为本实例设置其他 api.socket"}),
                path_.string());
        }
        std::filesystem::remove(path_, fs_ec);
    }
    auto acc = std::make_unique<stream::acceptor>(executor_);
    boost::system::error_code ec;
    acc->open(stream::endpoint(path_.string()).protocol(), ec);
    if (!ec) acc->bind(stream::endpoint(path_.string()), ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        co_return errno_error(ec.value(), i18n::text({"listening on the local API socket", "监听本地接口套接字"}),
                              path_.string());
    }
    // Anyone may connect; SO_PEERCRED decides who is served.
    ::chmod(path_.c_str(), 0666);
    acceptor_ = std::move(acc);
    asio::co_spawn(executor_, accept_loop(), asio::detached);
    log::info(lg, "listening on {}", path_.string());
    co_return result<void>{};
}

asio::awaitable<void> local_api_server::stop() {
    if (acceptor_) {
        boost::system::error_code ec;
        acceptor_->close(ec);
        std::error_code fs_ec;
        std::filesystem::remove(path_, fs_ec);
    }
    for (const auto& s : sessions_) {
        boost::system::error_code ec;
        s->close(ec);
    }
    co_return;
}

asio::awaitable<void> local_api_server::accept_loop() {
    for (;;) {
        auto [ec, sock] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
        if (ec) {
            // EMFILE and the like: back off instead of spinning.
            log::warning(lg, "accept failed: {}", ec.message());
            asio::steady_timer t(executor_, 100ms);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        auto shared = std::make_shared<stream::socket>(std::move(sock));
        asio::co_spawn(executor_, session(shared), asio::detached);
    }
}

asio::awaitable<void> local_api_server::session(std::shared_ptr<stream::socket> sock) {
    auto peer = credentials_of(sock->native_handle());
    auto role = peer ? policy_.role_of(*peer) : std::nullopt;
    if (!role) {
        protocol::response refusal;
        refusal.error_code = protocol::api_errc::forbidden;
        refusal.error_message = peer ? fmt::format("uid {} is not allowed", peer->uid) : "peer unknown";
        log::notice(lg,
                    "refused a local API peer (pid {}, uid {}, gid {}): not in api.allow_users, allow_groups, "
                    "teacher_users or teacher_groups",
                    peer ? peer->pid : 0, peer ? peer->uid : 0, peer ? peer->gid : 0);
        std::string line = response_line(refusal);  // a named local: see ledger_service.cpp on GCC 12
        co_await asio::async_write(*sock, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
        boost::system::error_code ec;
        sock->close(ec);
        co_return;
    }
    sessions_.insert(sock);
    std::string buffer;
    for (;;) {
        asio::steady_timer idle(executor_, idle_timeout);
        auto outcome =
            co_await (asio::async_read_until(*sock, asio::dynamic_buffer(buffer, protocol::max_line_bytes + 1), '\n',
                                             asio::as_tuple(asio::use_awaitable)) ||
                      idle.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (outcome.index() == 1) break;  // idle
        auto [ec, n] = std::get<0>(outcome);
        std::string reply;
        if (ec == asio::error::not_found) {
            // The line outgrew the buffer: answer, then drop the connection.
            protocol::response too_large;
            too_large.error_code = protocol::api_errc::too_large;
            too_large.error_message = fmt::format("a line may hold at most {} bytes", protocol::max_line_bytes);
            std::string line = response_line(too_large);
            co_await asio::async_write(*sock, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
            break;
        }
        if (ec) break;  // EOF or closed by stop()
        std::string line = buffer.substr(0, n - 1);
        buffer.erase(0, n);
        reply = co_await serve(std::move(line), *role);
        auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
        if (wec) break;
    }
    sessions_.erase(sock);
    boost::system::error_code ec;
    sock->close(ec);
}

asio::awaitable<std::string> local_api_server::serve(std::string line, api_role role) {
    protocol::response resp;
    auto req = protocol::parse_request(line);
    if (!req) {
        resp.error_code = protocol::api_errc::malformed;
        resp.error_message = req.error().message();
        co_return response_line(resp);
    }
    resp.id = req->id;
    auto it = handlers_.find(req->method);
    if (it == handlers_.end()) {
        resp.error_code = protocol::api_errc::unknown_method;
        resp.error_message = fmt::format("no method \"{}\"", req->method);
        co_return response_line(resp);
    }
    if (role == api_role::teacher && it->second.needs(req->params) == api_role::technician) {
        resp.error_code = protocol::api_errc::forbidden;
        resp.error_message = i18n::format(
            {"\"{}\" is for technicians (api.allow_users or api.allow_groups); teachers may run the class, the "
             "timetable, courseware and recording",
             "“{}”仅限技术人员（api.allow_users 或 api.allow_groups）；教师可操作上下课、课表、课件和录制"},
            req->method);
        log::notice(lg, "refused {} to a teacher's peer", req->method);
        co_return response_line(resp);
    }
    auto r = co_await it->second.h(req->params);
    if (!r) {
        auto code = error_map_ ? error_map_(r.error())
                    : r.error().code().category() == protocol::api_category()
                        ? static_cast<protocol::api_errc>(r.error().code().value())
                        : protocol::api_errc::internal;
        resp.error_code = code;
        resp.error_message = r.error().what();
        log::warning(lg, "{} failed: {}", req->method, r.error().what());
    } else {
        resp.result = std::move(*r);
    }
    co_return response_line(resp);
}

}  // namespace bbt::agent
