// bbtctl county: enrolment with the county, and the link's state.
#pragma once

#include "common.hpp"

namespace bbtctl {

// `bbtctl county enrol CODE | status`; returns the exit code.
int run_county(const options& opt);

}  // namespace bbtctl
