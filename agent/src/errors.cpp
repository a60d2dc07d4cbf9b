#include "bbt/agent/errors.hpp"

#include <array>
#include <string_view>

namespace bbt::agent {
namespace {

// A category of one part's errors, named "bbt.<part>"; the messages are for
// logs (what a person reads is the error's own text).
template <size_t N>
class part_category final : public std::error_category {
public:
    constexpr part_category(const char* name, std::array<std::string_view, N> messages)
        : name_(name), messages_(messages) {}
    const char* name() const noexcept override { return name_; }
    std::string message(int ev) const override {
        if (ev >= 1 && static_cast<size_t>(ev) <= N) return std::string(messages_[static_cast<size_t>(ev) - 1]);
        return "unknown error";
    }

private:
    const char* name_;
    std::array<std::string_view, N> messages_;
};

const part_category<1> ledger_cat("bbt.ledger", {"the ledger is not open"});
const part_category<3> whiteboard_cat("bbt.whiteboard",
                                      {"no whiteboard is connected", "the whiteboard is busy", "bad request"});
const part_category<4> county_cat("bbt.county-link", {"no county is configured", "bad request", "refused by the county",
                                                      "the county's answer is not valid"});

}  // namespace

const std::error_category& ledger_category() noexcept { return ledger_cat; }
const std::error_category& whiteboard_category() noexcept { return whiteboard_cat; }
const std::error_category& county_category() noexcept { return county_cat; }
std::error_code make_error_code(ledger_errc e) noexcept { return {static_cast<int>(e), ledger_cat}; }
std::error_code make_error_code(whiteboard_errc e) noexcept { return {static_cast<int>(e), whiteboard_cat}; }
std::error_code make_error_code(county_errc e) noexcept { return {static_cast<int>(e), county_cat}; }

}  // namespace bbt::agent
