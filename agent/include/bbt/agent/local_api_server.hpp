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
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bbt::agent {

struct peer_credentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

// What a peer of the local API may do. Teachers run the class: start and
// end it, the timetable, courseware to open, recording a lesson, the state
// of things. Technicians also enrol, calibrate, set the projector, manage
// the cache, force a timetabled recording off and reach the recordings.
enum class api_role { teacher, technician };

// Who may use the local API and as what: root and the agent's own user, the
// technicians' users and groups (api.allow_users, api.allow_groups), the
// teachers' (api.teacher_users, api.teacher_groups); members primary or
// supplementary.
class peer_policy {
public:
    // Names that do not resolve are left out and returned in `unknown`.
    static peer_policy from_names(const std::vector<std::string>& users, const std::vector<std::string>& groups,
                                  std::vector<std::string>& unknown, const std::vector<std::string>& teacher_users = {},
                                  const std::vector<std::string>& teacher_groups = {});
    peer_policy(std::set<uid_t> uids, std::set<gid_t> gids, std::set<uid_t> teacher_uids = {},
                std::set<gid_t> teacher_gids = {})
        : uids_(std::move(uids)),
          gids_(std::move(gids)),
          teacher_uids_(std::move(teacher_uids)),
          teacher_gids_(std::move(teacher_gids)) {}

    // The peer's role; nothing when it may not use the API at all.
    [[nodiscard]] std::optional<api_role> role_of(const peer_credentials& peer) const;
    [[nodiscard]] bool allows(const peer_credentials& peer) const { return role_of(peer).has_value(); }

private:
    std::set<uid_t> uids_;
    std::set<gid_t> gids_;
    std::set<uid_t> teacher_uids_;
    std::set<gid_t> teacher_gids_;
};

class local_api_server final : public service {
public:
    using handler = std::function<asio::awaitable<result<boost::json::value>>(const boost::json::object& params)>;

    local_api_server(asio::any_io_executor executor, std::filesystem::path socket_path, peer_policy policy);
    ~local_api_server() override;

    // The role a call needs, from its parameters (a forced stop needs more
    // than a stop).
    using role_rule = std::function<api_role(const boost::json::object& params)>;
    // Register before start(); a method is for technicians unless said.
    void handle(std::string method, handler h, api_role needs = api_role::technician);
    void handle(std::string method, handler h, role_rule needs);
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
    asio::awaitable<std::string> serve(std::string line, api_role role);

    asio::any_io_executor executor_;
    std::filesystem::path path_;
    peer_policy policy_;
    struct route {
        handler h;
        role_rule needs;
    };
    std::map<std::string, route, std::less<>> handlers_;
    error_map error_map_;
    std::unique_ptr<asio::local::stream_protocol::acceptor> acceptor_;
    std::set<std::shared_ptr<asio::local::stream_protocol::socket>> sessions_;
};

}  // namespace bbt::agent
