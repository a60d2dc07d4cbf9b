#pragma once

#include "bbt/base/versions.hpp"

#include <vector>

namespace bbt::media {

// FFmpeg's libavformat, libavcodec and libavutil, as built against and loaded.
[[nodiscard]] std::vector<library_version> library_versions();

}  // namespace bbt::media
