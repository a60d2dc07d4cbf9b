// The one error vocabulary of bbt.
//
// An operation that can fail for reasons outside the program returns
// `bbt::result<T>`, which is `boost::system::result<T, bbt::error>`. We do not
// use `std::expected`: libstdc++ 12 hides it from clang before 19, and the
// libFuzzer targets build with clang. Exceptions are kept for start-up and
// configuration failure and for broken invariants.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <system_error>

namespace bbt {

// An error says what failed (`code`), in words a person can act on
// (`message`: what was wrong and what to do), and where (`context`: a file
// and line, a device, an input). Messages are written in the language chosen
// by bbt::i18n when the error is made.
class error {
public:
    error() = default;
    error(std::error_code code, std::string_view message, std::string_view context = {});

    [[nodiscard]] const std::error_code& code() const noexcept { return code_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    [[nodiscard]] const std::string& context() const noexcept { return context_; }

    // "context: message", or the message alone when there is no context.
    [[nodiscard]] std::string what() const;

    // Prepends an outer context: "outer: inner".
    [[nodiscard]] error with_context(std::string_view outer) const;

private:
    std::error_code code_;
    std::string message_;
    std::string context_;
};

template <class T>
using result = boost::system::result<T, error>;

// Lets result<T>::value() throw when it holds an error (found by ADL).
class error_exception : public std::runtime_error {
public:
    explicit error_exception(bbt::error e);
    [[nodiscard]] const bbt::error& error() const noexcept { return error_; }

private:
    bbt::error error_;
};

[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

// Errors of base/ itself.
enum class base_errc {
    io = 1,          // a file or socket operation failed (errno in the message)
    sqlite,          // SQLite returned an error
    busy,            // the database stayed locked longer than the busy timeout
    corrupt,         // a database or file failed its integrity check
    schema_too_new,  // a database was written by a newer bbt
    config_syntax,   // a configuration file is not valid TOML
    config_key,      // an unknown key in a configuration file
    config_type,     // a key of the wrong type
    config_value,    // a key whose value is out of range or malformed
    not_found,       // a file or entry that should exist does not
};

const std::error_category& base_category() noexcept;
std::error_code make_error_code(base_errc e) noexcept;

// Builds an error from errno for an operation on `what` (a path, a socket).
error errno_error(int errnum, std::string_view operation, std::string_view what);

}  // namespace bbt

template <>
struct std::is_error_code_enum<bbt::base_errc> : std::true_type {};
