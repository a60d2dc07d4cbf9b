// The composition root of bbt-agent: builds the services from the
// configuration, runs the control loop until SIGTERM or SIGINT, and stops.
#pragma once

#include "bbt/agent/config.hpp"

namespace bbt::agent {

// Exit codes of bbt-agent (documented in docs/man/bbt-agent.md).
enum exit_code : int {
    exit_ok = 0,
    exit_failure = 1,       // a service failed to start, or the loop failed
    exit_usage = 2,         // bad command line
    exit_config = 3,        // the configuration is invalid
    exit_stop_timeout = 4,  // a service did not stop within agent.stop_timeout
};

// Runs the agent; returns its exit code. The configuration must have its
// environment defaults resolved.
int run_daemon(const agent_config& config);

}  // namespace bbt::agent
