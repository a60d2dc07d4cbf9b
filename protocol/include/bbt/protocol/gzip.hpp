// gzip for the county link's batches (zlib). Decompression is bounded, so a
// small body cannot expand without limit (a "zip bomb").
#pragma once

#include "bbt/base/error.hpp"

#include <string>
#include <string_view>

namespace bbt::protocol {

[[nodiscard]] std::string gzip(std::string_view data);

// Fails on data that is not gzip, is cut short, or expands beyond `max_out`.
[[nodiscard]] result<std::string> gunzip(std::string_view data, size_t max_out);

}  // namespace bbt::protocol
