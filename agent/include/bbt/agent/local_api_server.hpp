// The agent's local API: a Unix stream socket carrying the JSON lines of
// bbt/protocol/local_api.hpp. Every peer is identified with SO_PEERCRED and
// checked against the allowed users and groups before anything is read.
//
// Runs on the control thread. Handlers are coroutines on that thread: what
// takes longer than a millisecond (a database query) they await elsewhere.
#pragma once

#include "bbt/agent/service.hpp"
#include "bbt/protocol/local_api.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/json/value.hpp>

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace bbt::agent {

struct peer_credentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

// Who may use the local API: the agent's own user, the listed users, and
// members (primary or supplementary) of the listed groups.
class peer_policy {
public:
    // Names that do not resolve are left out and returned in `unknown`.
    static peer_policy from_names(const std::vector<std::string>& users, const std::vector<std::string>& groups,
                                  std::vector<std::string>& unknown);
    peer_policy(std::set<uid_t> uids, std::set<gid_t> gids) : uids_(std::move(uids)), gids_(std::move(gids)) {}

    [[nodiscard]] bool allows(const peer_credentials& peer) const;

private:
    std::set<uid_t> uids_;
    std::set<gid_t> gids_;
};

class local_api_server final : public service {
public:
    using handler = std::function<asio::awaitable<result<boost::json::value>>(const boost::json::object& params)>;

    local_api_server(asio::any_io_executor executor, std::filesystem::path socket_path, peer_policy policy);
    ~local_api_server() override;

    // Register before start().
    void handle(std::string method, handler h);
    // The wire code of a handler's error (the services' errors are their own);
    // without a map, api_errc errors keep theirs and the rest are "internal".
    using error_map = std::function<protocol::api_errc(const error&)>;
    void map_errors(error_map m) { error_map_ = std::move(m); }

    [[nodiscard]] std::string_view name() const override { return "local-api"; }
    asio::awaitable<result<void>> start() override;
    asio::awaitable<void> stop() override;

private:
    asio::awaitable<void> accept_loop();
    asio::awaitable<void> session(std::shared_ptr<asio::local::stream_protocol::socket> sock);
    asio::awaitable<std::string> serve(std::string line);

    asio::any_io_executor executor_;
    std::filesystem::path path_;
    peer_policy policy_;
    std::map<std::string, handler, std::less<>> handlers_;
    error_map error_map_;
    std::unique_ptr<asio::local::stream_protocol::acceptor> acceptor_;
    std::set<std::shared_ptr<asio::local::stream_protocol::socket>> sessions_;
};

}  // namespace bbt::agent
