// bbtctl record: lessons recorded by the agent.
#pragma once

#include "common.hpp"

namespace bbtctl {

// `bbtctl record start [--lesson NAME] | stop | status | ls`; returns the exit code.
int run_record(const options& opt);

}  // namespace bbtctl
