// A thin RAII wrapper over SQLite. Nobody outside it sees sqlite3*.
//
// A database is used from one thread at a time (the thread that owns the
// object); SQLite itself is built thread-safe, so separate `database`
// objects on the same file may live on separate threads.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/versions.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace bbt::sqlite {

enum class synchronous { normal, full };

struct open_options {
    bool create = true;
    bool read_only = false;
    std::chrono::milliseconds busy_timeout{5000};
    // `full` makes every commit durable against power loss (an fsync of the
    // WAL per commit); `normal` is durable against a crash of the process.
    synchronous sync = synchronous::full;
};

class database;

class statement {
public:
    statement() = default;
    statement(statement&&) noexcept = default;
    statement& operator=(statement&&) noexcept = default;

    // Parameters are numbered from 1, as in SQLite.
    statement& bind(int index, int64_t v);
    statement& bind(int index, int v) { return bind(index, static_cast<int64_t>(v)); }
    statement& bind(int index, double v);
    statement& bind(int index, std::string_view v);
    statement& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
    statement& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
    statement& bind(int index, std::nullptr_t);
    template <class T>
    statement& bind(int index, const std::optional<T>& v) {
        return v ? bind(index, *v) : bind(index, nullptr);
    }
    template <class... Args>
    statement& bind_all(const Args&... args) {
        int i = 0;
        (bind(++i, args), ...);
        return *this;
    }

    // Advances: true when a row is ready, false when done.
    [[nodiscard]] result<bool> step();
    // Runs to completion, for statements that return no rows.
    [[nodiscard]] result<void> run();
    void reset();

    // Columns are numbered from 0.
    [[nodiscard]] int64_t column_int64(int col) const;
    [[nodiscard]] double column_double(int col) const;
    [[nodiscard]] std::string column_text(int col) const;
    [[nodiscard]] bool column_is_null(int col) const;
    [[nodiscard]] std::optional<int64_t> column_opt_int64(int col) const;

private:
    friend class database;
    struct deleter {
        void operator()(sqlite3_stmt* s) const noexcept;
    };
    statement(sqlite3_stmt* s, sqlite3* db) : stmt_(s), db_(db) {}
    std::unique_ptr<sqlite3_stmt, deleter> stmt_;
    sqlite3* db_ = nullptr;
};

// One schema step: `version` is the user_version after it has run.
struct migration {
    int version;
    const char* sql;
};

class database {
public:
    // Opens (and by default creates) a database in WAL mode with the busy
    // timeout and synchronous level of `options`.
    [[nodiscard]] static result<database> open(const std::filesystem::path& path, const open_options& options = {});

    database(database&&) noexcept = default;
    database& operator=(database&&) noexcept = default;

    [[nodiscard]] result<void> exec(std::string_view sql);
    [[nodiscard]] result<statement> prepare(std::string_view sql);
    [[nodiscard]] int64_t last_insert_rowid() const;
    [[nodiscard]] int changes() const;

    [[nodiscard]] result<int> user_version();
    // Brings the schema to the last migration's version, each step in a
    // transaction of its own. Migrations must be sorted by version. A database
    // newer than the last migration is refused (schema_too_new).
    [[nodiscard]] result<void> migrate(std::span<const migration> steps);
    // PRAGMA quick_check; corrupt when it reports anything but "ok".
    [[nodiscard]] result<void> check_integrity();

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    // Builds an error from the connection's last SQLite error.
    [[nodiscard]] error last_error(std::string_view doing) const;

private:
    struct deleter {
        void operator()(sqlite3* db) const noexcept;
    };
    database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
    std::unique_ptr<sqlite3, deleter> db_;
    std::filesystem::path path_;
};

// BEGIN IMMEDIATE on construction; rolls back unless commit() succeeded.
class transaction {
public:
    [[nodiscard]] static result<transaction> begin(database& db);
    transaction(transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
    transaction& operator=(transaction&&) = delete;
    ~transaction();

    [[nodiscard]] result<void> commit();

private:
    explicit transaction(database& db) : db_(&db) {}
    database* db_;
};

}  // namespace bbt::sqlite

namespace bbt::sqlite {
[[nodiscard]] bbt::library_version library_version();
}  // namespace bbt::sqlite
