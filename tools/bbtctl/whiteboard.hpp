// bbtctl whiteboard: the board's status, calibration and accuracy check,
// and recordings.
#pragma once

#include "common.hpp"

namespace bbtctl {

// `bbtctl whiteboard status|calibrate|record ...`; returns the exit code.
int run_whiteboard(const options& opt);

}  // namespace bbtctl
