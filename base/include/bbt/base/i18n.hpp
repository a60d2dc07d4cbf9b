// Messages that people read, in Chinese (zh-CN) and English.
//
// Each message is written where it is used, as a pair of fmt format strings,
// so no catalog file has to be found at run time (classroom boards often have
// no locales installed). The language is chosen once, at start-up, from the
// environment: Chinese where the locale is Chinese, English otherwise.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace bbt::i18n {

enum class language { en, zh };

struct msg {
    const char* en;
    const char* zh;
};

// LANGUAGE (GNU's list, first entry), then LC_ALL, LC_MESSAGES and LANG, as
// POSIX orders them; "zh*" picks Chinese, anything else English.
[[nodiscard]] language from_environment() noexcept;

// The process-wide language. Set it before threads start; reads are cheap.
[[nodiscard]] language current() noexcept;
void set(language lang) noexcept;

[[nodiscard]] inline std::string_view text(const msg& m) noexcept { return current() == language::zh ? m.zh : m.en; }

template <class... Args>
[[nodiscard]] std::string format(const msg& m, Args&&... args) {
    return fmt::format(fmt::runtime(text(m)), std::forward<Args>(args)...);
}

}  // namespace bbt::i18n
