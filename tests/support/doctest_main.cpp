#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "bbt/base/i18n.hpp"

int main(int argc, char** argv) {
    // Tests read English messages unless a test picks another language.
    bbt::i18n::set(bbt::i18n::language::en);
    doctest::Context context(argc, argv);
    return context.run();
}
