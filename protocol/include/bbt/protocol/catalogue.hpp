// The county's courseware catalogue: what resources there are, where to
// fetch each one, and the size and SHA-256 it must have. JSON:
//
//   {"version": 1, "resources": [{"id", "title", "subject", "grade", "type",
//    "url", "sha256", "size", "priority"?}, ...]}
//
// Pure (text in, entries or an error naming the entry and field out) and
// fuzzed.
#pragma once

#include "bbt/base/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::protocol {

struct catalogue_entry {
    std::string id;  // stable; what timetables name in X-BBT-RESOURCE
    std::string title;
    std::string subject;
    std::string grade;
    std::string type;  // video, audio, document, courseware ...
    std::string url;   // http:// or https://
    std::string sha256;
    int64_t size = 0;
    int priority = 0;  // -100..100; higher is kept longer
    bool operator==(const catalogue_entry&) const = default;
};

inline constexpr size_t max_catalogue_bytes = 16 << 20;
inline constexpr size_t max_catalogue_entries = 50'000;
inline constexpr int64_t max_resource_bytes = int64_t{1} << 40;

[[nodiscard]] result<std::vector<catalogue_entry>> parse_catalogue(std::string_view json);
[[nodiscard]] std::string encode_catalogue(const std::vector<catalogue_entry>& entries);

}  // namespace bbt::protocol
