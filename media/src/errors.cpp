// Compiled into the agent's side and into the FFmpeg module alike: the module
// has its own copy, which the loader maps back by the category's name.
#include "bbt/media/errors.hpp"

#include <array>
#include <string_view>

namespace bbt::media {
namespace {

constexpr std::array<std::string_view, 11> messages{
    "media I/O failed",  "no such device or file", "permission denied",     "the device is busy",
    "the disk is full",  "out of memory",          "an option was refused", "the data is invalid",
    "end of the stream", "not in this FFmpeg",     "media error",
};

class media_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.media"; }
    std::string message(int ev) const override {
        if (ev < 1 || ev > static_cast<int>(messages.size())) return "media error";
        return std::string(messages[static_cast<size_t>(ev) - 1]);
    }
};

}  // namespace

const std::error_category& media_category() noexcept {
    static const media_category_impl c;
    return c;
}

std::error_code make_error_code(media_errc e) noexcept { return {static_cast<int>(e), media_category()}; }

}  // namespace bbt::media
