// The functions of the FFmpeg module, gathered into its backend table.
#pragma once

#include "bbt/media/probe.hpp"
#include "bbt/media/recorder.hpp"

namespace bbt::media::ffmpeg {

[[nodiscard]] result<probe_info> probe_file(const std::filesystem::path& file, const std::filesystem::path& thumbnail,
                                            expect what);

[[nodiscard]] result<std::unique_ptr<recording>> start(const recorder_options& options);

}  // namespace bbt::media::ffmpeg
