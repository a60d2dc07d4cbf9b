#include "bbt/base/i18n.hpp"

#include <atomic>
#include <cstdlib>
#include <string_view>

namespace bbt::i18n {
namespace {

std::atomic<language> current_language{language::en};

std::string_view env(const char* name) noexcept {
    const char* v = std::getenv(name);
    return v ? std::string_view(v) : std::string_view();
}

bool is_c_locale(std::string_view v) noexcept { return v == "C" || v == "POSIX" || v.starts_with("C."); }

}  // namespace

language from_environment() noexcept {
    std::string_view locale;
    for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
        locale = env(name);
        if (!locale.empty()) {
            break;
        }
    }
    // GNU gettext honours LANGUAGE only when the locale is not "C".
    std::string_view languages = env("LANGUAGE");
    if (!languages.empty() && !locale.empty() && !is_c_locale(locale)) {
        locale = languages.substr(0, languages.find(':'));
    }
    return locale.starts_with("zh") ? language::zh : language::en;
}

language current() noexcept { return current_language.load(std::memory_order_relaxed); }

void set(language lang) noexcept { current_language.store(lang, std::memory_order_relaxed); }

}  // namespace bbt::i18n
