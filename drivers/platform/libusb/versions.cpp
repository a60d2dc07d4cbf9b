// libusb is included only under drivers/platform/libusb.
#include "bbt/drivers/versions.hpp"

#include <libusb.h>

#include <fmt/format.h>

namespace bbt::drivers {

std::vector<library_version> library_versions() {
    const libusb_version* v = ::libusb_get_version();
    // libusb.h carries an API version, not a release number.
    return {{"libusb", fmt::format("API {:#x}", LIBUSB_API_VERSION),
             fmt::format("{}.{}.{}.{}", v->major, v->minor, v->micro, v->nano)}};
}

}  // namespace bbt::drivers
