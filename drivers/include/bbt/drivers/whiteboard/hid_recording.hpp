// hid-recorder files: a board recorded in a school, replayed anywhere.
//
//   R: <len> <hex bytes>        the report descriptor
//   N: <name>                   the device's name
//   I: <bus> <vendor> <product> in hex
//   E: <sec.usec> <len> <hex>   one input report, with its report id byte
//
// Lines starting with '#' are comments, and so are the lines of free text
// that follow one (annotated recordings); other line kinds (P:, D: ...) are
// skipped. Pure: text in, a recording or an error naming the line.
#pragma once

#include "bbt/base/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::drivers::hid {

struct recorded_report {
    double time = 0;  // seconds since the recording started
    std::vector<uint8_t> data;
};

struct recording {
    std::string name;
    uint16_t bus = 0;
    uint16_t vendor = 0;
    uint16_t product = 0;
    std::vector<uint8_t> descriptor;
    std::vector<recorded_report> reports;
};

[[nodiscard]] result<recording> parse_recording(std::string_view text);
[[nodiscard]] std::string serialize(const recording& r);

}  // namespace bbt::drivers::hid
