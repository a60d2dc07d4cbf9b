// bbtctl projector: talk PJLink to a projector directly (no agent needed),
// for technicians commissioning a room.
#pragma once

#include "common.hpp"

namespace bbtctl {

// `bbtctl projector probe HOST[:PORT] [--password P] [--json]`; the exit code.
int run_projector(const options& opt);

}  // namespace bbtctl
