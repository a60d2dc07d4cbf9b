// FFmpeg's libraries are loaded only when media work starts: they pull in
// some 140 shared libraries (codecs, TLS, SVG ...) whose relocations alone
// would double the idle agent's memory. They live in a module of ours,
// bbt_media_ffmpeg.so, that the agent opens on first use.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/media/probe.hpp"
#include "bbt/media/recorder.hpp"

#include <vector>

namespace bbt::media {

// The interface the FFmpeg module exports; grows with the recorder and player.
// The module links its own copy of bbt_base: configure() gives it the
// program's language and log levels, and is called before each use.
struct backend {
    void (*configure)(i18n::language lang, const char* log_spec);
    std::vector<library_version> (*library_versions)();
    result<probe_info> (*probe)(const std::filesystem::path& file, const std::filesystem::path& thumbnail, expect what);
    result<std::unique_ptr<recording>> (*start_recording)(const recorder_options& options);
};

// Opens the module once (later calls return the same backend). Looks in
// $BBT_MEDIA_MODULE, then the installed path, then the build tree.
[[nodiscard]] result<const backend*> load_backend();

// libavformat, libavcodec and libavutil, as built against and loaded; an
// entry says why when the module cannot be loaded.
[[nodiscard]] std::vector<library_version> library_versions();

}  // namespace bbt::media
