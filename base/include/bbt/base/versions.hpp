// Versions of the libraries a program was built against and loaded, for
// `--version` and bug reports. Each part lists its own libraries.
#pragma once

#include <string>
#include <vector>

namespace bbt {

struct library_version {
    std::string name;
    std::string built;   // from the headers at build time
    std::string loaded;  // from the library at run time; empty when it cannot be asked
};

// Boost, fmt, toml++ and SQLite.
[[nodiscard]] std::vector<library_version> base_library_versions();

// bbt's own version, e.g. "0.1.0".
[[nodiscard]] const char* bbt_version() noexcept;

}  // namespace bbt
