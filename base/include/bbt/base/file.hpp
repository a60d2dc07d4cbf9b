// Files written so that a power cut leaves either the old content or the
// new, never a mix: a temporary name in the same directory, fsync, rename,
// fsync of the directory.
#pragma once

#include "bbt/base/error.hpp"

#include <filesystem>
#include <string_view>

namespace bbt {

[[nodiscard]] result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace bbt
