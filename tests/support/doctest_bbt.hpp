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
