// bbtctl cache and bbtctl timetable: the courseware cache and the lessons it
// is filled for.
#pragma once

#include "common.hpp"

namespace bbtctl {

// `bbtctl cache ls|get|pin|evict|verify|status|refresh`; returns the exit code.
int run_cache(const options& opt);
// `bbtctl timetable [today|tomorrow|DAYS]`: a day's lessons and whether each
// one's courseware is ready.
int run_timetable(const options& opt);

}  // namespace bbtctl
