#include "county_seed.hpp"

#include "bbt/base/sqlite.hpp"

#include <fmt/format.h>

#include <ctime>

namespace bbt::test {

result<void> seed_usage(const std::filesystem::path& path, const std::string& school, int sets, int rows) {
    auto db = sqlite::database::open(path, {.create = false});
    if (!db) return db.error();
    auto tx = sqlite::transaction::begin(*db);
    if (!tx) return tx.error();
    auto now = static_cast<int64_t>(std::time(nullptr)) * 1'000'000;
    auto set = db->prepare(
        "INSERT OR IGNORE INTO devices(device_id, school, classroom, enrolled_us, cert_serial) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!set) return set.error();
    for (int i = 0; i < sets; ++i) {
        set->reset();
        set->bind_all(fmt::format("seed-{:04}", i), school, fmt::format("{}", 100 + i), now, 1000 + i);
        if (auto r = set->step(); !r) return r.error();
    }
    auto span =
        db->prepare("INSERT INTO usage(device_id, device, state, start_us, end_us) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!span) return span.error();
    constexpr int64_t ten_minutes = 600'000'000;
    for (int i = 0; i < rows; ++i) {
        int64_t end = now - static_cast<int64_t>(i / sets) * ten_minutes;
        span->reset();
        span->bind_all(fmt::format("seed-{:04}", i % sets), "whiteboard", "in-use", end - ten_minutes, end);
        if (auto r = span->step(); !r) return r.error();
    }
    return tx->commit();
}

}  // namespace bbt::test
