// What failed in media work, in the media module's terms: the FFmpeg module
// translates AVERROR codes into these at its boundary; the error's text says
// what failed (the source, the encoder, the file) and libav's own words.
#pragma once

#include <string>
#include <system_error>

namespace bbt::media {

enum class media_errc {
    io = 1,         // reading or writing failed
    not_found,      // no such device or file
    access_denied,  // the device or file may not be opened
    busy,           // another program holds the device
    disk_full,
    no_memory,
    invalid_argument,  // an option the library refused
    invalid_data,      // what was read is not what it says it is
    end_of_stream,
    component_missing,  // no such encoder, decoder, muxer, demuxer or filter in this FFmpeg
    other,
};

const std::error_category& media_category() noexcept;
std::error_code make_error_code(media_errc e) noexcept;

}  // namespace bbt::media

template <>
struct std::is_error_code_enum<bbt::media::media_errc> : std::true_type {};
