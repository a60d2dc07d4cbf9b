// The county link's messages: round trips, errors that name the field, and
// the published JSON Schemas agreeing with what the code writes.
#include "bbt/protocol/county.hpp"
#include "bbt/protocol/gzip.hpp"
#include "bbt/protocol/pki.hpp"

#include "doctest_bbt.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include <boost/json.hpp>

using namespace bbt;
using namespace bbt::protocol::county;
namespace json = boost::json;

namespace {

batch sample_batch() {
    batch b;
    b.device_id = "county-07/school-3/room-201";
    b.agent_version = "0.1.0";
    b.messages.push_back({1, 1'795'000'000'000'000,
                          inventory{"第三小学",
                                    "201",
                                    {{device_kind::whiteboard, "IRTOUCH", "6615:0081", "SN-42", "2.1"},
                                     {device_kind::projector, "EPSON", "CB-X06", "X5J1234", "1.03"}}}});
    b.messages.push_back({2, 1'795'000'060'000'000,
                          heartbeat{3600.5,
                                    true,
                                    12,
                                    {{"whiteboard", "in-use"}, {"projector", "on"}},
                                    {{"projector", 1, 2811.5, 3000}, {"projector", 2, 120, 0}}}});
    b.messages.push_back(
        {3, 1'795'000'070'000'000, usage{"projector", "on", 1'794'990'000'000'000, 1'795'000'000'000'000}});
    b.messages.push_back({4, 1'795'000'080'000'000, event{"whiteboard", "disconnected", "unplugged"}});
    b.messages.push_back(
        {5, 1'795'000'090'000'000, alert{"projector", "projector.lamp-hours", "warning", "lamp at 92 %", true}});
    b.messages.push_back({6, 1'795'000'100'000'000, command_result{"c-17", "class.start", true, ""}});
    b.messages.push_back({7, 1'795'000'110'000'000, readiness{"2026-12-03", 6, 9, 7, {"math-7-01", "语文-3"}}});
    b.messages.push_back({8, 1'795'000'120'000'000,
                          recording{"20261202-080000-数学-part2.mp4", "数学", 2, 1'795'000'000'000'000, 2700.5,
                                    1'400'000'000, std::string(64, 'e'), "uploaded"}});
    return b;
}

reply sample_reply() {
    reply r;
    r.acked = {{1, 4}, {6, 6}};
    command c;
    c.id = "c-18";
    c.verb = "projector.power";
    c.args = {{"on", false}};
    c.device_id = "county-07/school-3/room-201";
    c.expires_us = 1'795'000'700'000'000;
    c.nonce = "5f1c9a";
    c.signature = "c2lnbmF0dXJl";
    r.commands.push_back(c);
    r.retry_after_s = 30;
    r.now_us = 1'795'000'100'000'000;
    return r;
}

// Validates a document against one of the published schemas with Python's
// jsonschema (a Debian package the setup script installs); the errors, or "".
std::string schema_errors(const std::string& schema, const std::string& document) {
    test::temp_dir dir;
    test::write_file(dir / "doc.json", document);
    test::spawn_options o;
    o.stdout_path = dir / "out";
    int rc = test::run({"/usr/bin/python3", "-c",
                        "import json,sys,jsonschema\n"
                        "s=json.load(open(sys.argv[1]))\n"
                        "errs=list(jsonschema.Draft202012Validator(s).iter_errors(json.load(open(sys.argv[2]))))\n"
                        "print('\\n'.join(e.message for e in errs))\n"
                        "sys.exit(1 if errs else 0)\n",
                        std::string(BBT_SOURCE_DIR) + "/protocol/schema/" + schema, (dir / "doc.json").string()},
                       o);
    std::string out = test::read_file(dir / "out");
    return rc == 0 ? "" : (out.empty() ? "python3 failed" : out);
}

}  // namespace

TEST_CASE("a batch of every kind of message survives encoding and decoding") {
    auto b = sample_batch();
    auto back = decode_batch(encode(b));
    REQUIRE_MESSAGE(back, (back ? "" : back.error().what()));
    CHECK(*back == b);
    for (const auto& m : b.messages) {
        auto one = message_from_json(to_json(m));
        REQUIRE(one);
        CHECK(*one == m);
    }
    CHECK(is_priority(kind::alert));
    CHECK(is_priority(kind::event));
    CHECK_FALSE(is_priority(kind::heartbeat));
}

TEST_CASE("what the code writes is valid under the published schemas, and the schemas reject what they must") {
    CHECK(schema_errors("batch.schema.json", encode(sample_batch())) == "");
    CHECK(schema_errors("reply.schema.json", encode(sample_reply())) == "");
    auto bad = json::parse(encode(sample_batch())).as_object();
    bad["messages"].as_array()[4].as_object()["body"].as_object()["severity"] = "loud";
    CHECK(schema_errors("batch.schema.json", json::serialize(bad)) != "");
    auto missing = json::parse(encode(sample_batch())).as_object();
    missing["messages"].as_array()[2].as_object()["body"].as_object().erase("end_us");
    CHECK(schema_errors("batch.schema.json", json::serialize(missing)) != "");
    auto bad_day = json::parse(encode(sample_batch())).as_object();
    bad_day["messages"].as_array()[6].as_object()["body"].as_object()["day"] = "3 December";
    CHECK(schema_errors("batch.schema.json", json::serialize(bad_day)) != "");
}

TEST_CASE("a readiness report is refused when its day is not a date or more is ready than needed") {
    auto doc = json::parse(encode(sample_batch())).as_object();
    auto& body = doc["messages"].as_array()[6].as_object()["body"].as_object();
    body["day"] = "2026-12-3x";
    auto r = decode_batch(json::serialize(doc));
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("day") != std::string::npos);
    body["day"] = "2026-12-03";
    body["ready"] = 10;
    r = decode_batch(json::serialize(doc));
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("ready") != std::string::npos);
}

TEST_CASE("a recording report is refused without a file, with a bad hash or an unknown state") {
    auto mutate = [](const char* key, json::value v) {
        auto doc = json::parse(encode(sample_batch())).as_object();
        doc["messages"].as_array()[7].as_object()["body"].as_object()[key] = std::move(v);
        auto r = decode_batch(json::serialize(doc));
        REQUIRE_FALSE(r);
        CHECK(schema_errors("batch.schema.json", json::serialize(doc)) != "");
        return std::string(r.error().message());
    };
    CHECK(mutate("file", "").find("file") != std::string::npos);
    CHECK(mutate("sha256", "ABC").find("sha256") != std::string::npos);
    CHECK(mutate("state", "lost").find("state") != std::string::npos);
    CHECK(mutate("part", 0).find("part") != std::string::npos);
}

TEST_CASE("device kinds: one name each, read back as written, shown in both languages") {
    for (auto k : all_device_kinds) {
        CHECK(device_kind_from(to_string(k)) == k);
        CHECK(std::string_view(display_name(k).en) != "");
        CHECK(std::string_view(display_name(k).zh) != "");
    }
    CHECK(to_string(device_kind::microphone) == "microphone");
    CHECK(to_string(device_kind::control_board) == "control-board");
    CHECK_FALSE(device_kind_from("sound"));
    CHECK_FALSE(device_kind_from(""));
}

TEST_CASE("a bad batch is refused with the field that is wrong") {
    auto mutate = [](auto f) {
        auto o = json::parse(encode(sample_batch())).as_object();
        f(o);
        auto r = decode_batch(json::serialize(o));
        REQUIRE_FALSE(r);
        return std::string(r.error().message());
    };
    CHECK(mutate([](json::object& o) {
              o["messages"].as_array()[3].as_object()["body"].as_object().erase("device");
          }).find("messages[3].body.device: is missing") != std::string::npos);
    CHECK(mutate([](json::object& o) {
              o["messages"].as_array()[0].as_object()["seq"] = "1";
          }).find("messages[0].seq: must be a whole number") != std::string::npos);
    CHECK(mutate([](json::object& o) {
              o["messages"].as_array()[1].as_object()["kind"] = "gossip";
          }).find("\"gossip\" is not a message kind") != std::string::npos);
    CHECK(mutate([](json::object& o) {
              auto& u = o["messages"].as_array()[2].as_object()["body"].as_object();
              u["end_us"] = 5;
          }).find("end_us: is before start_us") != std::string::npos);
    CHECK(mutate([](json::object& o) {
              o["messages"].as_array()[4].as_object()["body"].as_object()["severity"] = "x";
          }).find("severity") != std::string::npos);
    CHECK(mutate([](json::object& o) { o["device_id"] = ""; }).find("device_id") != std::string::npos);
    // A sound card is a microphone on the wire: the one name the dashboard and bbtctl know.
    CHECK(mutate([](json::object& o) {
              auto& d = o["messages"].as_array()[0].as_object()["body"].as_object()["devices"].as_array()[1];
              d.as_object()["kind"] = "sound";
          }).find("messages[0].body.devices[1].kind: \"sound\" is not a device kind") != std::string::npos);
    CHECK(mutate([](json::object& o) {
              auto& lamp = o["messages"].as_array()[1].as_object()["body"].as_object()["lamps"].as_array()[1];
              lamp.as_object()["index"] = 9;
          }).find("messages[1].body.lamps[1].index: must be from 1 to 8") != std::string::npos);
    // A heartbeat without lamps (a set without a projector) is whole.
    auto no_lamps = json::parse(encode(sample_batch())).as_object();
    no_lamps["messages"].as_array()[1].as_object()["body"].as_object().erase("lamps");
    auto decoded = decode_batch(json::serialize(no_lamps));
    REQUIRE(decoded);
    CHECK(std::get<heartbeat>(decoded->messages[1].content).lamps.empty());
    CHECK(mutate([](json::object& o) {
              o["messages"].as_array()[0].as_object()["body"].as_object()["devices"].as_array()[1] = 7;
          }).find("messages[0].body.devices[1]: must be an object") != std::string::npos);

    auto v2 = json::parse(encode(sample_batch())).as_object();
    v2["protocol"] = 2;
    auto r = decode_batch(json::serialize(v2));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == county_errc::version);
    CHECK_FALSE(decode_batch("{\"protocol\":1,"));
    CHECK_FALSE(decode_batch("[1,2]"));
    CHECK(decode_batch(std::string(max_batch_bytes + 1, ' ')).error().code() == county_errc::too_large);
}

TEST_CASE("a reply with its acks and signed commands round-trips; a bad range is refused") {
    auto r = sample_reply();
    auto back = decode_reply(encode(r));
    REQUIRE_MESSAGE(back, (back ? "" : back.error().what()));
    CHECK(*back == r);
    auto bad = json::parse(encode(r)).as_object();
    bad["acked"] = json::array{json::array{5, 3}};
    CHECK_FALSE(decode_reply(json::serialize(bad)));
}

TEST_CASE("a command's signing input covers every field but the signature, in a fixed order") {
    auto c = sample_reply().commands[0];
    auto in = signing_input(c);
    CHECK(
        in ==
        R"(["bbt-command-v1","c-18","projector.power",{"on":false},"county-07/school-3/room-201",1795000700000000,"5f1c9a"])");
    auto other = c;
    other.signature = "different";
    CHECK(signing_input(other) == in);
    other.expires_us += 1;
    CHECK(signing_input(other) != in);
}

TEST_CASE("gzip round-trips a batch, and gunzip refuses garbage, a cut body and a bomb") {
    auto text = encode(sample_batch());
    auto z = protocol::gzip(text);
    CHECK(z.size() < text.size());
    CHECK(protocol::gunzip(z, 1 << 20).value() == text);
    CHECK_FALSE(protocol::gunzip("not gzip at all", 1 << 20));
    CHECK_FALSE(protocol::gunzip(z.substr(0, z.size() / 2), 1 << 20));
    auto bomb = protocol::gzip(std::string(10 << 20, 'a'));
    CHECK(bomb.size() < 100'000);
    auto r = protocol::gunzip(bomb, 1 << 20);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("expands beyond") != std::string::npos);
}

TEST_CASE("the county CA signs a device's request for its name; command signatures verify, forgeries do not") {
    auto ca_key = protocol::pki::generate_key().value();
    auto ca = protocol::pki::self_signed_ca(ca_key, "bbt county CA test", std::chrono::hours(24)).value();
    auto key = protocol::pki::generate_key().value();
    auto csr = protocol::pki::make_csr(key, "county-07/school-3/room-201").value();
    CHECK(protocol::pki::request_common_name(csr).value() == "county-07/school-3/room-201");
    auto cert = protocol::pki::sign_csr(csr, ca, ca_key, {}).value();
    CHECK(protocol::pki::certificate_common_name(cert).value() == "county-07/school-3/room-201");
    CHECK_FALSE(protocol::pki::sign_csr("not a request", ca, ca_key, {}));

    auto signer = protocol::pki::generate_signing_key().value();
    auto pub = protocol::pki::public_key_of(signer).value();
    auto c = sample_reply().commands[0];
    c.signature = protocol::pki::sign(signer, signing_input(c)).value();
    CHECK(protocol::pki::verify(pub, signing_input(c), c.signature));
    auto forged = c;
    forged.args["on"] = true;  // changed after signing
    CHECK_FALSE(protocol::pki::verify(pub, signing_input(forged), forged.signature));
    auto other = protocol::pki::public_key_of(protocol::pki::generate_signing_key().value()).value();
    CHECK_FALSE(protocol::pki::verify(other, signing_input(c), c.signature));
    CHECK_FALSE(protocol::pki::verify(pub, signing_input(c), "bm90IGEgc2lnbmF0dXJl"));
    CHECK_FALSE(protocol::pki::verify(pub, signing_input(c), "%%%"));
}

TEST_CASE("certificates get random serials, the CA's too, and say when they are valid") {
    auto ca_key = protocol::pki::generate_key().value();
    auto ca = protocol::pki::self_signed_ca(ca_key, "bbt county CA test", std::chrono::hours(24)).value();
    auto key = protocol::pki::generate_key().value();
    auto csr = protocol::pki::make_csr(key, "No.3 Primary/201#1").value();
    protocol::pki::issue_options o;
    o.not_after = std::chrono::seconds(60);
    auto a = protocol::pki::facts_of(protocol::pki::sign_csr(csr, ca, ca_key, o).value()).value();
    auto b = protocol::pki::facts_of(protocol::pki::sign_csr(csr, ca, ca_key, o).value()).value();
    auto of_ca = protocol::pki::facts_of(ca).value();
    CHECK(a.serial > 1);
    CHECK(b.serial > 1);
    CHECK(of_ca.serial > 1);
    CHECK(a.serial != b.serial);
    CHECK(a.serial != of_ca.serial);
    // Valid from five minutes ago (clock slack) for 60 seconds from now.
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    CHECK(std::chrono::abs(a.not_after - (now + std::chrono::seconds(60))) <= std::chrono::seconds(5));
    CHECK(std::chrono::abs(a.not_before - (now - std::chrono::seconds(300))) <= std::chrono::seconds(5));
    o.serial = 12345;
    CHECK(protocol::pki::facts_of(protocol::pki::sign_csr(csr, ca, ca_key, o).value()).value().serial == 12345);
    CHECK_FALSE(protocol::pki::facts_of("not a certificate"));
}

TEST_CASE("a command is refused when forged, for another set, expired or of a verb not allowed") {
    auto signer = protocol::pki::generate_signing_key().value();
    auto pub = protocol::pki::public_key_of(signer).value();
    auto signed_cmd = [&](command c) {
        c.signature = protocol::pki::sign(signer, signing_input(c)).value();
        return c;
    };
    auto base = sample_reply().commands[0];
    int64_t now = base.expires_us - 60'000'000;
    CHECK_FALSE(refusal_for(signed_cmd(base), pub, base.device_id, now));
    auto forged = signed_cmd(base);
    forged.verb = "class.end";  // changed after signing
    CHECK(refusal_for(forged, pub, base.device_id, now) == "forged");
    CHECK(refusal_for(signed_cmd(base), pub, "another/room#1", now) == "not-for-this-set");
    CHECK(refusal_for(signed_cmd(base), pub, base.device_id, base.expires_us + 1) == "expired");
    auto shell = base;
    shell.verb = "shell.run";
    CHECK(refusal_for(signed_cmd(shell), pub, base.device_id, now) == "not-allowed");
    CHECK(refusal_for(signed_cmd(base), "", base.device_id, now) == "forged");  // no key: nothing is trusted
}
