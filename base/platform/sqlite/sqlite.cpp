// The only file of bbt that includes sqlite3.h.
#include "bbt/base/sqlite.hpp"

#include "bbt/base/i18n.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

namespace bbt::sqlite {
namespace {

error make_error(int rc, std::string_view detail, std::string_view doing, const std::filesystem::path& path) {
    int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        return error(base_errc::busy,
                     i18n::format({"{}: the database stayed locked ({}); another program holds it, "
                                   "stop it or try again",
                                   "{}：数据库一直被锁定（{}）；有其他程序占用，请停止该程序或稍后重试"},
                                  doing, detail),
                     path.string());
    }
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
        return error(base_errc::corrupt,
                     i18n::format({"{}: the database file is damaged ({}); move it aside so that a new "
                                   "one is created, and keep it for inspection",
                                   "{}：数据库文件已损坏（{}）；请将其移走以便重新创建，并保留以供检查"},
                                  doing, detail),
                     path.string());
    }
    if (primary == SQLITE_FULL) {
        return error(std::make_error_code(std::errc::no_space_on_device),
                     i18n::format({"{}: the disk is full ({}); free some space", "{}：磁盘已满（{}）；请释放空间"},
                                  doing, detail),
                     path.string());
    }
    return error(base_errc::sqlite, i18n::format({"{}: {}", "{}：{}"}, doing, detail), path.string());
}

}  // namespace

void statement::deleter::operator()(sqlite3_stmt* s) const noexcept { ::sqlite3_finalize(s); }
void database::deleter::operator()(sqlite3* db) const noexcept { ::sqlite3_close_v2(db); }

statement& statement::bind(int index, int64_t v) {
    ::sqlite3_bind_int64(stmt_.get(), index, v);
    return *this;
}
statement& statement::bind(int index, double v) {
    ::sqlite3_bind_double(stmt_.get(), index, v);
    return *this;
}
statement& statement::bind(int index, std::string_view v) {
    ::sqlite3_bind_text64(stmt_.get(), index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}
statement& statement::bind(int index, std::nullptr_t) {
    ::sqlite3_bind_null(stmt_.get(), index);
    return *this;
}

result<bool> statement::step() {
    int rc = ::sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const char* file = ::sqlite3_db_filename(db_, "main");
    return make_error(::sqlite3_extended_errcode(db_), ::sqlite3_errmsg(db_), ::sqlite3_sql(stmt_.get()),
                      file ? file : "");
}

result<void> statement::run() {
    for (;;) {
        auto r = step();
        if (!r) {
            reset();
            return r.error();
        }
        if (!*r) break;
    }
    reset();
    return {};
}

void statement::reset() {
    ::sqlite3_reset(stmt_.get());
    ::sqlite3_clear_bindings(stmt_.get());
}

int64_t statement::column_int64(int col) const { return ::sqlite3_column_int64(stmt_.get(), col); }
double statement::column_double(int col) const { return ::sqlite3_column_double(stmt_.get(), col); }
std::string statement::column_text(int col) const {
    const auto* p = ::sqlite3_column_text(stmt_.get(), col);
    int n = ::sqlite3_column_bytes(stmt_.get(), col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
bool statement::column_is_null(int col) const { return ::sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
std::optional<int64_t> statement::column_opt_int64(int col) const {
    if (column_is_null(col)) return std::nullopt;
    return column_int64(col);
}

result<database> database::open(const std::filesystem::path& path, const open_options& options) {
    sqlite3* raw = nullptr;
    int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;
    int rc = ::sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    database db(raw, path);
    if (rc != SQLITE_OK) {
        return make_error(rc, raw ? ::sqlite3_errmsg(raw) : ::sqlite3_errstr(rc), "open", path);
    }
    ::sqlite3_extended_result_codes(raw, 1);
    ::sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
    if (!options.read_only) {
        if (auto r = db.exec("PRAGMA journal_mode=WAL"); !r) return r.error();
    }
    auto sync = options.sync == synchronous::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    if (auto r = db.exec(sync); !r) return r.error();
    if (auto r = db.exec("PRAGMA foreign_keys=ON"); !r) return r.error();
    return db;
}

error database::last_error(std::string_view doing) const {
    return make_error(::sqlite3_extended_errcode(db_.get()), ::sqlite3_errmsg(db_.get()), doing, path_);
}

result<void> database::exec(std::string_view sql) {
    std::string text(sql);
    char* msg = nullptr;
    int rc = ::sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
        std::string detail = msg ? msg : ::sqlite3_errstr(rc);
        ::sqlite3_free(msg);
        return make_error(::sqlite3_extended_errcode(db_.get()), detail, text.substr(0, 60), path_);
    }
    return {};
}

result<statement> database::prepare(std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    int rc = ::sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                                  nullptr);
    if (rc != SQLITE_OK) {
        return make_error(rc, ::sqlite3_errmsg(db_.get()), sql.substr(0, 60), path_);
    }
    return statement(s, db_.get());
}

int64_t database::last_insert_rowid() const { return ::sqlite3_last_insert_rowid(db_.get()); }
int database::changes() const { return ::sqlite3_changes(db_.get()); }

result<int> database::user_version() {
    auto st = prepare("PRAGMA user_version");
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    return static_cast<int>(st->column_int64(0));
}

result<void> database::migrate(std::span<const migration> steps) {
    auto current = user_version();
    if (!current) return current.error();
    int latest = steps.empty() ? 0 : steps.back().version;
    if (*current > latest) {
        return error(base_errc::schema_too_new,
                     i18n::format({"the database has schema version {}, but this bbt knows only up to {}: it was "
                                   "written by a newer bbt. Install that version again, or move the file aside",
                                   "数据库结构版本为 {}，而本程序只支持到 {}：它由更新版本的 bbt 写入。"
                                   "请重新安装该版本，或将此文件移走"},
                                  *current, latest),
                     path_.string());
    }
    for (const migration& m : steps) {
        if (m.version <= *current) continue;
        auto tx = transaction::begin(*this);
        if (!tx) return tx.error();
        if (auto r = exec(m.sql); !r) {
            return r.error().with_context(fmt::format("migration to schema version {}", m.version));
        }
        if (auto r = exec(fmt::format("PRAGMA user_version={}", m.version)); !r) return r.error();
        if (auto r = tx->commit(); !r) return r.error();
        *current = m.version;
    }
    return {};
}

result<void> database::check_integrity() {
    auto st = prepare("PRAGMA quick_check");
    if (!st) return st.error();
    std::string problems;
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        std::string line = st->column_text(0);
        if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
    }
    if (!problems.empty()) {
        return make_error(SQLITE_CORRUPT, problems, "integrity check", path_);
    }
    return {};
}

result<transaction> transaction::begin(database& db) {
    if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return r.error();
    return transaction(db);
}

transaction::~transaction() {
    if (db_ != nullptr) {
        (void)db_->exec("ROLLBACK");
    }
}

result<void> transaction::commit() {
    if (auto r = db_->exec("COMMIT"); !r) {
        return r.error();
    }
    db_ = nullptr;
    return {};
}

}  // namespace bbt::sqlite

namespace bbt::sqlite {

bbt::library_version library_version() { return {"SQLite", SQLITE_VERSION, ::sqlite3_libversion()}; }

}  // namespace bbt::sqlite
