// A county database filled as after a year of reports, for the tests and
// benchmarks of what reads it (the dashboard's pages and exports).
#pragma once

#include "bbt/base/error.hpp"

#include <filesystem>
#include <string>

namespace bbt::test {

// Adds `sets` sets of `school` (seed-0000 ...) and `rows` usage spans among
// them, ten minutes each, the newest ending now, in one transaction. The
// database's schema must exist (bbt-county has opened it once).
[[nodiscard]] result<void> seed_usage(const std::filesystem::path& db, const std::string& school, int sets, int rows);

}  // namespace bbt::test
