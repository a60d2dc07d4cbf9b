#include "bbt/protocol/local_api.hpp"

#include "doctest_bbt.hpp"

using namespace bbt::protocol;

TEST_CASE("requests round-trip through their wire form") {
    request r{42, "status", {{"verbose", true}}};
    auto back = parse_request(serialize(r));
    REQUIRE(back);
    CHECK(back->id == 42);
    CHECK(back->method == "status");
    CHECK(back->params.at("verbose").as_bool());
    auto minimal = parse_request(R"({"method":"status"})");
    REQUIRE(minimal);
    CHECK(minimal->id == 0);
    CHECK(minimal->params.empty());
}

TEST_CASE("responses carry a result or an error, never both") {
    response ok;
    ok.id = 3;
    ok.result = boost::json::object{{"x", 1}};
    auto a = parse_response(serialize(ok));
    REQUIRE(a);
    CHECK(a->id == 3);
    REQUIRE(a->result);
    CHECK_FALSE(a->error_code);

    response bad;
    bad.id = 4;
    bad.error_code = api_errc::forbidden;
    bad.error_message = "uid 65534 is not allowed";
    auto b = parse_response(serialize(bad));
    REQUIRE(b);
    CHECK(b->error_code == api_errc::forbidden);
    CHECK(b->error_message == "uid 65534 is not allowed");

    CHECK_FALSE(parse_response(R"({"id":1,"result":1,"error":{"code":"internal","message":""}})"));
    CHECK_FALSE(parse_response(R"({"id":1})"));
    // A code from a newer agent still reads as an error.
    auto c = parse_response(R"({"id":1,"error":{"code":"brand_new","message":"m"}})");
    REQUIRE(c);
    CHECK(c->error_code == api_errc::internal);
}

TEST_CASE("malformed requests are refused with a reason") {
    for (const char* line :
         {"", "not json", "[]", "{\"method\":5}", "{\"method\":\"Status\"}", "{\"method\":\"status\",\"params\":[]}",
          "{\"method\":\"status\",\"id\":\"1\"}", "{\"method\":\"status\",\"extra\":1}", "{\"method\":\"\"}"}) {
        CAPTURE(line);
        auto r = parse_request(line);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == api_errc::malformed);
        CHECK_FALSE(r.error().message().empty());
    }
}

TEST_CASE("a number beyond a double's range is refused, not turned into infinity") {
    for (const char* line : {R"({"method":"status","params":{"x":1e999}})",
                             R"({"method":"status","params":{"x":[1,{"y":-73709E551}]}})"}) {
        CAPTURE(line);
        auto r = parse_request(line);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == api_errc::malformed);
        CHECK(r.error().message().find("too large") != std::string::npos);
    }
    auto fine = parse_request(R"({"method":"status","params":{"x":1.5e300}})");
    REQUIRE(fine);
    CHECK(fine->params.at("x").as_double() == 1.5e300);
}

TEST_CASE("an oversized line is refused before it is parsed") {
    std::string line = R"({"method":"status","params":{"pad":")" + std::string(max_line_bytes, 'x') + "\"}}";
    auto r = parse_request(line);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == api_errc::too_large);
}

TEST_CASE("wire names of error codes are stable") {
    CHECK(wire_name(api_errc::forbidden) == "forbidden");
    CHECK(from_wire_name("unknown_method") == api_errc::unknown_method);
    CHECK_FALSE(from_wire_name("nope"));
}
