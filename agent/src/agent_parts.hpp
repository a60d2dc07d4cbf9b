// The agent's services as run_daemon() built them, for the code that joins
// them to the outside: the local API's routes, the county's commands, the
// set's health and inventory. Everything here is read from the services'
// typed calls; none of it parses a service's own JSON.
//
// Used on the control thread only.
#pragma once

#include "bbt/agent/classroom_controller.hpp"
#include "bbt/agent/config.hpp"
#include "bbt/agent/county_service.hpp"
#include "bbt/agent/courseware_service.hpp"
#include "bbt/agent/ledger_service.hpp"
#include "bbt/agent/local_api_server.hpp"
#include "bbt/agent/projector_service.hpp"
#include "bbt/agent/recording_service.hpp"
#include "bbt/agent/service.hpp"
#include "bbt/agent/whiteboard_service.hpp"
#include "bbt/base/clock.hpp"
#include "bbt/board/profile.hpp"
#include "bbt/protocol/county.hpp"

#include <map>
#include <string>
#include <vector>

namespace bbt::agent {

struct agent_parts {
    const agent_config& cfg;
    const board::profile& profile;
    const service_registry& registry;
    ledger_service& ledger;
    whiteboard_service& whiteboard;
    projector_service& projector;
    classroom_controller& classroom;
    county_service& county;
    courseware_service* courseware = nullptr;  // null: [cache] enabled = false
    recording_service* recorder = nullptr;     // null: [recorder] enabled = false
    protocol::county::device pc;               // the set's computer, as its firmware names it
    clock::microseconds started_mono{};
    clock::microseconds started_wall{};
};

// Each part's state for the county's heartbeat ("classroom" -> "in-class" ...).
[[nodiscard]] std::map<std::string, std::string> set_health(const agent_parts& parts);
// What is installed: the PC, the projector and the board once they told who
// they are, the cameras and microphones found.
[[nodiscard]] std::vector<protocol::county::device> set_inventory(const agent_parts& parts);

// The local API's methods, each translated from JSON to a service's call and back.
void add_api_routes(local_api_server& api, agent_parts& parts);
// What the county may ask of the set (its verbs are checked against the
// allowlist before this is reached).
[[nodiscard]] county_service::command_handler county_commands(agent_parts& parts);

}  // namespace bbt::agent
