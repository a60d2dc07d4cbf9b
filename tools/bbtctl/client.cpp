#include "client.hpp"

#include "bbt/base/i18n.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace bbtctl {
namespace {

namespace i18n = bbt::i18n;
using bbt::error;

class client_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbtctl"; }
    std::string message(int ev) const override {
        switch (static_cast<client_errc>(ev)) {
            case client_errc::not_running: return "agent not running";
            case client_errc::no_access: return "no access to the agent's socket";
            case client_errc::forbidden: return "not allowed by the agent";
            case client_errc::timeout: return "agent did not answer";
            case client_errc::protocol: return "invalid answer";
            case client_errc::failed: return "request failed";
        }
        return "bbtctl error";
    }
};

struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

// Waits until `fd` is ready for `events` or the deadline passes.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

}  // namespace

const std::error_category& client_category() noexcept {
    static const client_category_impl c;
    return c;
}
std::error_code make_error_code(client_errc e) noexcept { return {static_cast<int>(e), client_category()}; }

std::filesystem::path default_socket() {
    if (const char* s = std::getenv("BBT_SOCKET"); s && *s) return s;
    return "/run/bbt/agent.sock";
}

bbt::result<bbt::protocol::response> call(const std::filesystem::path& socket, const bbt::protocol::request& req,
                                          std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket.native().size() >= sizeof addr.sun_path) {
        return error(client_errc::not_running, i18n::text({"the socket path is too long", "套接字路径过长"}),
                     socket.string());
    }
    std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
    fd_guard fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (fd.fd < 0) return bbt::errno_error(errno, "socket", socket.string());
    if (::connect(fd.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        if (err == ENOENT || err == ECONNREFUSED) {
            return error(client_errc::not_running,
                         i18n::text({"bbt-agent is not running (nothing listens on its socket). Start it with "
                                     "`systemctl start bbt-agent`, or give the socket with --socket",
                                     "bbt-agent 未运行（其套接字无人监听）。请用 `systemctl start bbt-agent` 启动，"
                                     "或用 --socket 指定套接字"}),
                         socket.string());
        }
        if (err == EACCES || err == EPERM) {
            return error(client_errc::no_access,
                         i18n::text({"you may not open the agent's socket; run bbtctl as a member of the bbt "
                                     "group, or with sudo",
                                     "您无权打开代理程序的套接字；请以 bbt 组成员身份运行 bbtctl，或使用 sudo"}),
                         socket.string());
        }
        return bbt::errno_error(err, "connect", socket.string());
    }
    std::string out = bbt::protocol::serialize(req) + "\n";
    size_t sent = 0;
    while (sent < out.size()) {
        ssize_t n = ::send(fd.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EPIPE) break;  // refused peers are hung up on; the answer is still there
        if (n < 0) return bbt::errno_error(errno, "send", socket.string());
        sent += static_cast<size_t>(n);
    }
    std::string in;
    char buf[4096];
    while (in.find('\n') == std::string::npos) {
        if (!wait_for(fd.fd, POLLIN, deadline)) {
            return error(client_errc::timeout,
                         i18n::format({"bbt-agent did not answer within {} ms; it may be stuck: see "
                                       "`journalctl -u bbt-agent`",
                                       "bbt-agent 在 {} 毫秒内未响应，可能已卡住：请查看 `journalctl -u bbt-agent`"},
                                      timeout.count()),
                         socket.string());
        }
        ssize_t n = ::recv(fd.fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        if (in.size() > bbt::protocol::max_line_bytes) break;
    }
    auto nl = in.find('\n');
    if (nl == std::string::npos) {
        return error(client_errc::protocol,
                     i18n::text({"bbt-agent closed the connection without an answer; see `journalctl -u bbt-agent`",
                                 "bbt-agent 未作应答即关闭了连接；请查看 `journalctl -u bbt-agent`"}),
                     socket.string());
    }
    auto resp = bbt::protocol::parse_response(std::string_view(in).substr(0, nl));
    if (!resp) {
        return error(client_errc::protocol, resp.error().message(), socket.string());
    }
    if (resp->error_code == bbt::protocol::api_errc::forbidden && resp->id) {
        // Served, but this call is not for the user's role: the agent says why.
        return error(client_errc::forbidden, resp->error_message, socket.string());
    }
    if (resp->error_code == bbt::protocol::api_errc::forbidden) {
        return error(client_errc::forbidden,
                     i18n::text({"bbt-agent does not allow your user; ask the technician to add you to "
                                 "api.allow_users or to a group in api.allow_groups of /etc/bbt/agent.toml, "
                                 "or run bbtctl with sudo",
                                 "bbt-agent 不允许您的用户访问；请技术人员将您加入 /etc/bbt/agent.toml 的 "
                                 "api.allow_users，或加入 api.allow_groups 中的某个组，或使用 sudo 运行 bbtctl"}),
                     socket.string());
    }
    return resp;
}

}  // namespace bbtctl
