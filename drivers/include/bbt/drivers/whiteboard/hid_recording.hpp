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

// Reads a recording line by line: a file, or a board streamed live through a
// pipe. Reports accumulate in rec().reports; a live reader takes them out.
class recording_reader {
public:
    // One line, without its newline.
    [[nodiscard]] result<void> feed(std::string_view line);
    // Whether the header (descriptor, and bus/vendor/product) has been read.
    [[nodiscard]] bool has_header() const noexcept { return have_descriptor_ && have_ids_; }
    // At the end: an error when there was no descriptor.
    [[nodiscard]] result<void> finish() const;
    [[nodiscard]] recording& rec() noexcept { return rec_; }

private:
    recording rec_;
    size_t line_no_ = 0;
    bool in_comment_ = false;
    bool have_descriptor_ = false;
    bool have_ids_ = false;
};

[[nodiscard]] result<recording> parse_recording(std::string_view text);
[[nodiscard]] std::string serialize(const recording& r);

}  // namespace bbt::drivers::hid
