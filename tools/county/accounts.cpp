#include "accounts.hpp"

#include "bbt/base/digest.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/utf8.hpp"
#include "bbt/protocol/pki.hpp"

#include <argon2.h>

#include <algorithm>

namespace bbt::county {
namespace {

using digest::sha256_hex;

// RFC 9106's second recommended option, at OWASP's memory for a service
// that hashes on a login: 19 MiB, 2 passes, 1 lane.
constexpr uint32_t argon_passes = 2;
constexpr uint32_t argon_kib = 19 * 1024;
constexpr uint32_t argon_lanes = 1;
constexpr size_t salt_bytes = 16, hash_bytes = 32;

error invalid(std::string_view why) { return error(std::make_error_code(std::errc::invalid_argument), why); }

bool valid_name(std::string_view n) {
    return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@';
    });
}

result<void> check_password(std::string_view p) {
    size_t characters = std::count_if(p.begin(), p.end(), [](char c) { return (c & 0xC0) != 0x80; });
    if (!utf8::valid(p) || characters < 10 || p.size() > 1024) {
        return invalid(i18n::text({"a password needs 10 characters at least (and at most 1024 bytes of UTF-8)",
                                   "密码至少 10 个字符（UTF-8 不超过 1024 字节）"}));
    }
    return {};
}

}  // namespace

result<std::string> hash_password(std::string_view password) {
    std::string salt = protocol::pki::random_hex(salt_bytes / 2);  // 16 bytes of hex text
    size_t len = argon2_encodedlen(argon_passes, argon_kib, argon_lanes, static_cast<uint32_t>(salt.size()), hash_bytes,
                                   Argon2_id);
    std::string encoded(len, '\0');
    int rc = argon2id_hash_encoded(argon_passes, argon_kib, argon_lanes, password.data(), password.size(), salt.data(),
                                   salt.size(), hash_bytes, encoded.data(), encoded.size());
    if (rc != ARGON2_OK) {
        return error(std::make_error_code(std::errc::not_enough_memory),
                     i18n::format({"hashing the password: {}", "计算密码哈希：{}"}, argon2_error_message(rc)));
    }
    encoded.resize(std::char_traits<char>::length(encoded.c_str()));
    return encoded;
}

bool password_matches(const std::string& encoded, std::string_view password) noexcept {
    return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

result<void> add_account(sqlite::database& db, const account& a, std::string_view password, int64_t now_us) {
    if (!valid_name(a.name)) {
        return invalid(i18n::format({"\"{}\" cannot name an account: 1 to 64 letters, digits, '.', '_', '-' or '@'",
                                     "“{}”不能作为账号名：须为 1 至 64 个字母、数字或 . _ - @"},
                                    utf8::repair(a.name)));
    }
    if (auto r = check_password(password); !r) return r.error();
    auto hash = hash_password(password);
    if (!hash) return hash.error();
    auto exists = db.prepare("SELECT 1 FROM accounts WHERE name = ?");
    if (!exists) return exists.error();
    auto found = exists->bind_all(a.name).step();
    if (!found) return found.error();
    if (*found) {
        return invalid(i18n::format({"there is an account {} already; `account password` changes its password",
                                     "账号 {} 已存在；可用 account password 修改其密码"},
                                    a.name));
    }
    auto st = db.prepare("INSERT INTO accounts(name, password, school, created_us) VALUES (?, ?, nullif(?, ''), ?)");
    if (!st) return st.error();
    return st->bind_all(a.name, *hash, a.school, now_us).run();
}

result<void> set_password(sqlite::database& db, const std::string& name, std::string_view password) {
    if (auto r = check_password(password); !r) return r.error();
    auto hash = hash_password(password);
    if (!hash) return hash.error();
    auto st = db.prepare("UPDATE accounts SET password = ? WHERE name = ?");
    if (!st) return st.error();
    if (auto r = st->bind_all(*hash, name).run(); !r) return r.error();
    if (db.changes() == 0) {
        return error(std::make_error_code(std::errc::no_such_file_or_directory),
                     i18n::format({"there is no account {}", "没有账号 {}"}, name));
    }
    // Sessions opened with the old password end.
    auto end = db.prepare("DELETE FROM dashboard_sessions WHERE name = ?");
    if (!end) return end.error();
    return end->bind_all(name).run();
}

result<bool> remove_account(sqlite::database& db, const std::string& name) {
    auto tx = sqlite::transaction::begin(db);
    if (!tx) return tx.error();
    for (const char* sql :
         {"DELETE FROM dashboard_sessions WHERE name = ?", "DELETE FROM sign_in_links WHERE name = ?"}) {
        auto st = db.prepare(sql);
        if (!st) return st.error();
        if (auto r = st->bind_all(name).run(); !r) return r.error();
    }
    auto st = db.prepare("DELETE FROM accounts WHERE name = ?");
    if (!st) return st.error();
    if (auto r = st->bind_all(name).run(); !r) return r.error();
    bool removed = db.changes() > 0;
    if (auto r = tx->commit(); !r) return r.error();
    return removed;
}

result<std::vector<account>> accounts(sqlite::database& db) {
    auto st = db.prepare("SELECT name, coalesce(school, '') FROM accounts ORDER BY name");
    if (!st) return st.error();
    std::vector<account> out;
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) return out;
        out.push_back({st->column_text(0), st->column_text(1)});
    }
}

result<std::optional<account>> sign_in(sqlite::database& db, const std::string& name, std::string_view password) {
    auto st = db.prepare("SELECT password, coalesce(school, '') FROM accounts WHERE name = ?");
    if (!st) return st.error();
    st->bind(1, name);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) {
        // As long as a wrong password: the answer's time does not tell which names exist.
        static const std::string decoy = [] {
            auto h = hash_password("not an account's password");
            return h ? *h : std::string();
        }();
        (void)password_matches(decoy, password);
        return std::optional<account>();
    }
    if (!password_matches(st->column_text(0), password)) return std::optional<account>();
    return std::optional<account>(account{name, st->column_text(1)});
}

result<std::string> make_sign_in_link(sqlite::database& db, const std::string& name, int64_t now_us,
                                      std::chrono::seconds valid) {
    auto known = db.prepare("SELECT 1 FROM accounts WHERE name = ?");
    if (!known) return known.error();
    auto found = known->bind_all(name).step();
    if (!found) return found.error();
    if (!*found) {
        return error(std::make_error_code(std::errc::no_such_file_or_directory),
                     i18n::format({"there is no account {}", "没有账号 {}"}, name));
    }
    std::string token = protocol::pki::random_hex(24);
    auto st = db.prepare("INSERT INTO sign_in_links(token_sha256, name, expires_us) VALUES (?, ?, ?)");
    if (!st) return st.error();
    if (auto r = st->bind_all(sha256_hex(token), name, now_us + valid.count() * 1'000'000).run(); !r) return r.error();
    return token;
}

result<std::optional<account>> use_sign_in_link(sqlite::database& db, const std::string& token, int64_t now_us) {
    auto tx = sqlite::transaction::begin(db);
    if (!tx) return tx.error();
    auto st = db.prepare(
        "SELECT l.name, coalesce(a.school, ''), l.expires_us FROM sign_in_links l JOIN accounts a USING (name) "
        "WHERE l.token_sha256 = ?");
    if (!st) return st.error();
    std::string key = sha256_hex(token);
    st->bind(1, key);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<account>();
    account a{st->column_text(0), st->column_text(1)};
    bool live = st->column_int64(2) > now_us;
    st->reset();
    auto spend = db.prepare("DELETE FROM sign_in_links WHERE token_sha256 = ? OR expires_us <= ?");
    if (!spend) return spend.error();
    if (auto r = spend->bind_all(key, now_us).run(); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return live ? std::optional<account>(std::move(a)) : std::optional<account>();
}

result<std::pair<std::string, dashboard_session>> open_session(sqlite::database& db, const account& who, int64_t now_us,
                                                               std::chrono::seconds lifetime) {
    std::string token = protocol::pki::random_hex(24);
    dashboard_session s{who, protocol::pki::random_hex(16), now_us + lifetime.count() * 1'000'000};
    // Expired sessions go as new ones come.
    auto old = db.prepare("DELETE FROM dashboard_sessions WHERE expires_us <= ?");
    if (!old) return old.error();
    if (auto r = old->bind_all(now_us).run(); !r) return r.error();
    auto st = db.prepare("INSERT INTO dashboard_sessions(token_sha256, name, csrf, expires_us) VALUES (?, ?, ?, ?)");
    if (!st) return st.error();
    if (auto r = st->bind_all(sha256_hex(token), who.name, s.csrf, s.expires_us).run(); !r) return r.error();
    return std::pair{std::move(token), std::move(s)};
}

result<std::optional<dashboard_session>> find_session(sqlite::database& db, const std::string& token, int64_t now_us) {
    auto st = db.prepare(
        "SELECT s.name, coalesce(a.school, ''), s.csrf, s.expires_us FROM dashboard_sessions s JOIN accounts a "
        "USING (name) WHERE s.token_sha256 = ? AND s.expires_us > ?");
    if (!st) return st.error();
    st->bind_all(sha256_hex(token), now_us);
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) return std::optional<dashboard_session>();
    return std::optional<dashboard_session>(
        dashboard_session{{st->column_text(0), st->column_text(1)}, st->column_text(2), st->column_int64(3)});
}

result<void> close_session(sqlite::database& db, const std::string& token) {
    auto st = db.prepare("DELETE FROM dashboard_sessions WHERE token_sha256 = ?");
    if (!st) return st.error();
    return st->bind_all(sha256_hex(token)).run();
}

}  // namespace bbt::county
