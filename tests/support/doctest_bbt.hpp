// doctest, taught to print bbt's results: "ok", or the error's full text, so
// that a failed REQUIRE(result) says what went wrong.
#pragma once

#include "bbt/base/error.hpp"

#include <doctest/doctest.h>

namespace doctest {

template <class T>
struct StringMaker<boost::system::result<T, bbt::error>> {
    static String convert(const boost::system::result<T, bbt::error>& r) {
        if (r) return "ok";
        return String(("error: " + r.error().what()).c_str());
    }
};

}  // namespace doctest

#include <cstdio>
#include <sstream>
#include <string>

namespace bbt::test {

// A test that cannot run here says so: the line goes straight to stdout (not
// through doctest, which keeps messages of passing tests to itself), and
// CTest's SKIP_REGULAR_EXPRESSION marks the test skipped instead of passed.
inline void report_skip(const std::string& why) {
    std::fprintf(stdout, "bbt-test-skipped: %s\n", why.c_str());
    std::fflush(stdout);
    MESSAGE("skipped: " << why);
}

}  // namespace bbt::test

// BBT_SKIP("no " << path): streams its argument as the reason.
#define BBT_SKIP(what)                                 \
    do {                                               \
        std::ostringstream bbt_skip_why_;              \
        bbt_skip_why_ << what;                         \
        ::bbt::test::report_skip(bbt_skip_why_.str()); \
    } while (0)
