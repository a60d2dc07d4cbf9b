#include "bbt/base/i18n.hpp"

#include "doctest_bbt.hpp"

#include <cstdlib>

using namespace bbt::i18n;

namespace {

struct env_guard {
    env_guard() {
        for (const char* n : {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"})
            ::unsetenv(n);
    }
    ~env_guard() {
        for (const char* n : {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"})
            ::unsetenv(n);
        set(language::en);
    }
};

}  // namespace

TEST_CASE("the language follows the locale, Chinese where it is Chinese") {
    env_guard g;
    CHECK(from_environment() == language::en);
    ::setenv("LANG", "zh_CN.UTF-8", 1);
    CHECK(from_environment() == language::zh);
    ::setenv("LC_MESSAGES", "en_US.UTF-8", 1);
    CHECK(from_environment() == language::en);  // LC_MESSAGES beats LANG
    ::setenv("LC_ALL", "zh_TW.UTF-8", 1);
    CHECK(from_environment() == language::zh);  // LC_ALL beats both
    ::setenv("LANGUAGE", "en:zh", 1);
    CHECK(from_environment() == language::en);  // GNU LANGUAGE list, first entry
    ::setenv("LC_ALL", "C", 1);
    ::setenv("LANGUAGE", "zh_CN", 1);
    CHECK(from_environment() == language::en);  // LANGUAGE is ignored under the C locale
}

TEST_CASE("messages are formatted in the current language") {
    env_guard g;
    msg m{"{} devices", "{} 台设备"};
    set(language::en);
    CHECK(format(m, 3) == "3 devices");
    set(language::zh);
    CHECK(format(m, 3) == "3 台设备");
}
