#pragma once

#include "bbt/base/versions.hpp"

#include <vector>

namespace bbt::protocol {

// OpenSSL, as built against and as loaded.
[[nodiscard]] std::vector<library_version> library_versions();

}  // namespace bbt::protocol
