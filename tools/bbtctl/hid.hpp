// bbtctl hid: inspect a HID digitizer offline, from its report descriptor.
#pragma once

#include <string_view>
#include <vector>

namespace bbtctl {

// `bbtctl hid decode --descriptor FILE [--json]`; returns the exit code.
int run_hid(const std::vector<std::string_view>& args, bool json);

}  // namespace bbtctl
