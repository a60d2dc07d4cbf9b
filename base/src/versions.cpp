#include "bbt/base/versions.hpp"

#include "bbt/base/sqlite.hpp"
#include "bbt_build_info.hpp"

#include <fmt/format.h>
#include <boost/version.hpp>

namespace bbt {

std::vector<library_version> base_library_versions() {
    return {
        {"Boost", fmt::format("{}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100), ""},
        {"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100), ""},
        {"toml++", BBT_TOMLPLUSPLUS_VERSION, ""},
        sqlite::library_version(),
    };
}

const char* bbt_version() noexcept { return BBT_VERSION; }

}  // namespace bbt
