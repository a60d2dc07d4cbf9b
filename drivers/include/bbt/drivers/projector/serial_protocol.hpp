// Projectors over RS-232 (from the control board, or where PJLink is off in
// standby): a table per command set, not code per vendor. A table says how
// the line is framed, what to send for power on, off and the queries, and
// how to read the answers: a prefix before the value, the value's meaning,
// what ends an answer, and what an error or a refusal looks like.
//
// Two command sets are built in (ref/projector.md §3):
//   epson-escvp21  9600 8N1; "PWR ON\r" ...; answers end with the prompt ':'
//                  ("PWR=01\r:"), errors are "ERR\r:"; power codes 00 standby
//                  (network off), 01 on, 02 warm-up, 03 cool-down, 04
//                  standby (network on), 05 abnormal standby, 09 A/V standby.
//   benq           115200 8N1 (older models 9600); "\r*pow=on#\r"; the
//                  projector echoes the command, then answers "*POW=ON#";
//                  "Block item" while busy, "Illegal format" for unknown ones.
//
// Pure: bytes in, values or errors out; the I/O is serial_projector's.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/drivers/projector/pjlink.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bbt::drivers::serial {

enum class parity { none, even, odd };

struct command_set {
    std::string name;
    unsigned baud = 9600;
    unsigned data_bits = 8;
    parity par = parity::none;
    unsigned stop_bits = 1;

    std::string power_on, power_off, power_query, lamp_query;
    std::string input_prefix;  // followed by the input's code, then `line_end`
    std::string blank_on, blank_off;
    std::string line_end;  // after an input code

    std::string answer_end;    // what ends every answer ("\r:" for Epson, "#" for BenQ)
    std::string power_prefix;  // before the power value ("PWR=", "*POW=")
    std::string lamp_prefix;   // before the lamp hours ("LAMP=", "*LTIM=")
    std::vector<std::pair<std::string, pjlink::power>> power_values;
    std::vector<std::string> busy_answers;     // the projector cannot do it now (warming, cooling)
    std::vector<std::string> refused_answers;  // an unknown or unsupported command
    bool echoes = false;                       // the projector repeats the command first
};

// The built-in sets, and one by name (the error lists the known names).
[[nodiscard]] const std::vector<command_set>& command_sets();
[[nodiscard]] result<command_set> find_command_set(std::string_view name);

// One answer taken out of `buffer` (everything up to and including
// `answer_end`); nullopt until one is whole. For a set that echoes, the first
// piece that repeats `sent` exactly is the echo and is skipped (`echo_seen`
// remembers it across calls: an answer may repeat the command too).
[[nodiscard]] std::optional<std::string> take_answer(const command_set& cs, std::string& buffer, std::string_view sent,
                                                     bool& echo_seen);

// The answer's meaning. An ERR/Block item is pjlink_errc::unavailable_time
// (busy), an Illegal format undefined_command, anything else malformed.
[[nodiscard]] result<pjlink::power> parse_power(const command_set& cs, std::string_view answer);
[[nodiscard]] result<int64_t> parse_lamp_hours(const command_set& cs, std::string_view answer);
// A set command's answer: accepted, or the error.
[[nodiscard]] result<void> parse_ack(const command_set& cs, std::string_view answer);

}  // namespace bbt::drivers::serial
