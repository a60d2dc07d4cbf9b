// Who may see the dashboard: accounts of the county's staff (every school)
// and of a school's staff (their own school only), passwords hashed with
// Argon2id (libargon2: RFC 9106's memory-hard function, the reference
// implementation), sessions by a random token kept hashed, one-time sign-in
// links for a first sign-in or a forgotten password.
//
// Every function takes the database it works on: the service's dashboard
// thread has its own connection.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/sqlite.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bbt::county {

struct account {
    std::string name;
    std::string school;  // empty: the county's staff, who see every school
};

struct dashboard_session {
    account who;
    std::string csrf;  // sent back with every form that changes something
    int64_t expires_us = 0;
};

// An Argon2id hash in its standard encoding ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
[[nodiscard]] result<std::string> hash_password(std::string_view password);
[[nodiscard]] bool password_matches(const std::string& encoded, std::string_view password) noexcept;

// Passwords: 10 characters at least; names: 1..64 bytes of letters, digits, . _ - @.
[[nodiscard]] result<void> add_account(sqlite::database& db, const account& a, std::string_view password,
                                       int64_t now_us);
[[nodiscard]] result<void> set_password(sqlite::database& db, const std::string& name, std::string_view password);
// Also ends the account's sessions; false when there was none.
[[nodiscard]] result<bool> remove_account(sqlite::database& db, const std::string& name);
[[nodiscard]] result<std::vector<account>> accounts(sqlite::database& db);

// The account, when the password is its own (an unknown name costs as much).
[[nodiscard]] result<std::optional<account>> sign_in(sqlite::database& db, const std::string& name,
                                                     std::string_view password);
// A one-time link's token, valid for `valid`.
[[nodiscard]] result<std::string> make_sign_in_link(sqlite::database& db, const std::string& name, int64_t now_us,
                                                    std::chrono::seconds valid);
// The account of a link not used and not expired; the link is spent.
[[nodiscard]] result<std::optional<account>> use_sign_in_link(sqlite::database& db, const std::string& token,
                                                              int64_t now_us);

// A new session of `who`: its token (for the cookie) and what it holds.
[[nodiscard]] result<std::pair<std::string, dashboard_session>> open_session(sqlite::database& db, const account& who,
                                                                             int64_t now_us,
                                                                             std::chrono::seconds lifetime);
[[nodiscard]] result<std::optional<dashboard_session>> find_session(sqlite::database& db, const std::string& token,
                                                                    int64_t now_us);
[[nodiscard]] result<void> close_session(sqlite::database& db, const std::string& token);

}  // namespace bbt::county
