#include "bbt/agent/errors.hpp"

#include "doctest_bbt.hpp"

using namespace bbt;
using agent::wire_code;
using protocol::api_errc;

TEST_CASE("each part's errors are its own, and the API maps them to wire codes in one place") {
    CHECK(wire_code(error(agent::ledger_errc::not_open, "x")) == api_errc::unavailable);
    CHECK(wire_code(error(agent::whiteboard_errc::not_connected, "x")) == api_errc::unavailable);
    CHECK(wire_code(error(agent::whiteboard_errc::busy, "x")) == api_errc::unavailable);
    CHECK(wire_code(error(agent::whiteboard_errc::bad_request, "x")) == api_errc::malformed);
    CHECK(wire_code(error(agent::county_errc::not_configured, "x")) == api_errc::unavailable);
    CHECK(wire_code(error(agent::county_errc::bad_request, "x")) == api_errc::malformed);
    CHECK(wire_code(error(agent::county_errc::refused, "x")) == api_errc::refused);
    CHECK(wire_code(error(agent::county_errc::bad_answer, "x")) == api_errc::internal);
    // The API's own refusals keep their code; anything else is the agent failing.
    CHECK(wire_code(error(api_errc::forbidden, "x")) == api_errc::forbidden);
    CHECK(wire_code(error(std::make_error_code(std::errc::io_error), "x")) == api_errc::internal);
    // The parts' categories are told apart by name in logs.
    CHECK(std::string(agent::county_category().name()) == "bbt.county-link");
    CHECK(error(agent::whiteboard_errc::busy, "x").code().message() == "the whiteboard is busy");
}
