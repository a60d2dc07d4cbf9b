// bbtctl projector: talk PJLink to a projector directly (no agent needed),
// for technicians commissioning a room.
#pragma once

#include "common.hpp"

namespace bbtctl {

// `bbtctl projector status|on|off|input CODE|blank on|off` (through the
// agent) and `bbtctl projector probe HOST[:PORT] [--password P]` (direct);
// the exit code.
int run_projector(const options& opt);
// `bbtctl class start|end|key|status`.
int run_class(const options& opt);

}  // namespace bbtctl
