// evemu text (what the kernel emitted, or a node recorded in the board rig)
// read into the touch state after every SYN_REPORT, the same state computed
// from a recording through the agent's touch path, and a comparison of two
// such sequences by contact lifetimes and positions.
#pragma once

#include "bbt/drivers/whiteboard/contact_tracker.hpp"
#include "bbt/drivers/whiteboard/hid_recording.hpp"
#include "bbt/drivers/whiteboard/output.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bbt::test::evemu {

struct contact {
    int tracking_id;
    int x;
    int y;
    bool operator==(const contact&) const = default;
};
using state = std::map<int, contact>;  // slot -> contact

struct stream {
    std::vector<state> frames;  // consecutive equal states kept
    int fuzz_x = 0, fuzz_y = 0, resolution_x = 0, resolution_y = 0, max_x = 0, max_y = 0;
};

// Per-slot state after every SYN_REPORT of evemu text ("A:" axis lines with a
// hex code, "E: sec.usec type code value" with hex type and code).
[[nodiscard]] stream read(const std::string& text);

// The agent's touch path on the host: decoder, contact tracker, output
// through `map` into a recording sink, then the input core's filtering; the
// first `reports` reports (0: all). Consecutive equal states are merged.
// Throws std::runtime_error when a report cannot be decoded.
[[nodiscard]] std::vector<state> replay(const drivers::hid::recording& rec, const drivers::hid::screen_map& map,
                                        const drivers::hid::tracker_options& options, size_t reports = 0);

// Whether two contacts are at the same place; exact by default.
using same_place = std::function<bool(const contact& ours, const contact& theirs)>;

// Empty when equivalent: the same number of contacts in every state, tracking
// ids that map one to one throughout (both sides hand them out in order of
// arrival), and the same places. Otherwise where and how they differ.
[[nodiscard]] std::string compare(const std::vector<state>& ours, const std::vector<state>& theirs,
                                  const same_place& close = {});

}  // namespace bbt::test::evemu
