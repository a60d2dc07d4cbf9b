#include "bbt/base/error.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>

#include <cstring>

namespace bbt {

error::error(std::error_code code, std::string_view message, std::string_view context)
    : code_(code), message_(message), context_(context) {}

std::string error::what() const {
    if (context_.empty()) {
        return message_;
    }
    return fmt::format("{}: {}", context_, message_);
}

error error::with_context(std::string_view outer) const {
    std::string ctx = context_.empty() ? std::string(outer) : fmt::format("{}: {}", outer, context_);
    return error(code_, message_, std::move(ctx));
}

error_exception::error_exception(bbt::error e) : std::runtime_error(e.what()), error_(std::move(e)) {}

void throw_exception_from_error(const error& e, const boost::source_location&) { throw error_exception(e); }

namespace {

class base_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.base"; }
    std::string message(int ev) const override {
        switch (static_cast<base_errc>(ev)) {
            case base_errc::io: return "input/output error";
            case base_errc::sqlite: return "database error";
            case base_errc::busy: return "database busy";
            case base_errc::corrupt: return "data corrupt";
            case base_errc::schema_too_new: return "database schema newer than this program";
            case base_errc::config_syntax: return "configuration syntax error";
            case base_errc::config_key: return "unknown configuration key";
            case base_errc::config_type: return "configuration key of wrong type";
            case base_errc::config_value: return "configuration value out of range";
            case base_errc::not_found: return "not found";
        }
        return "unknown bbt.base error";
    }
};

}  // namespace

const std::error_category& base_category() noexcept {
    static const base_category_impl category;
    return category;
}

std::error_code make_error_code(base_errc e) noexcept { return {static_cast<int>(e), base_category()}; }

error errno_error(int errnum, std::string_view operation, std::string_view what) {
    return error(std::error_code(errnum, std::system_category()),
                 i18n::format(i18n::msg{"{} failed: {}", "{}失败：{}"}, operation, std::strerror(errnum)),
                 std::string(what));
}

}  // namespace bbt
