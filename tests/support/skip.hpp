// Tests that need a tool of the machine skip without it, saying why.
#pragma once

#include "doctest_bbt.hpp"
#include "process.hpp"

#include <filesystem>

namespace bbt::test {

// Whether ffprobe is there; when not, the test's output says why it is skipped.
inline bool have_ffprobe() {
    if (std::filesystem::exists(ffprobe_binary)) return true;
    BBT_SKIP("no " << ffprobe_binary << " (scripts/setup installs ffmpeg)");
    return false;
}

}  // namespace bbt::test
