#include "bbt/base/error.hpp"

#include "doctest_bbt.hpp"

#include <cerrno>

using bbt::base_errc;
using bbt::error;

TEST_CASE("an error joins its context and message") {
    error e(base_errc::not_found, "no such board", "agent.board");
    CHECK(e.what() == "agent.board: no such board");
    CHECK(e.code() == base_errc::not_found);
    CHECK(e.with_context("/etc/bbt/agent.toml").what() == "/etc/bbt/agent.toml: agent.board: no such board");
    CHECK(error(base_errc::io, "disk gone").what() == "disk gone");
}

TEST_CASE("result<T>::value() throws the error it holds") {
    bbt::result<int> r = error(base_errc::corrupt, "bad page");
    CHECK_FALSE(r);
    try {
        (void)r.value();
        FAIL("value() did not throw");
    } catch (const bbt::error_exception& x) {
        CHECK(x.error().code() == base_errc::corrupt);
        CHECK(std::string(x.what()) == "bad page");
    }
    bbt::result<int> ok = 7;
    CHECK(ok.value() == 7);
}

TEST_CASE("errno errors keep errno as their code and say what failed") {
    error e = bbt::errno_error(ENOENT, "open", "/nowhere");
    CHECK(e.code() == std::errc::no_such_file_or_directory);
    CHECK(e.context() == "/nowhere");
    CHECK(e.message().find("open failed") != std::string::npos);
}
