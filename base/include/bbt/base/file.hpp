// Files written so that a power cut leaves either the old content or the
// new, never a mix: a temporary name in the same directory, fsync, rename,
// fsync of the directory.
#pragma once

#include "bbt/base/error.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace bbt {

[[nodiscard]] result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content);

// A whole file, refused when larger than `max_bytes`.
[[nodiscard]] result<std::string> read_file(const std::filesystem::path& path, size_t max_bytes = size_t{64} << 20);

}  // namespace bbt
