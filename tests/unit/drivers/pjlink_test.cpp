// The PJLink codec against the specification's examples and replies captured
// from real projectors, including the ways real ones deviate.
#include "bbt/drivers/projector/pjlink.hpp"
#include "bbt/drivers/projector/serial_protocol.hpp"

#include "doctest_bbt.hpp"

using namespace bbt::drivers::pjlink;

TEST_CASE("the authentication digest of the specification's example") {
    CHECK(auth_digest("498e4a67", "JBMIAProjectorLink") == "5d8409bc1c3fa39749434aa3a5c38682");
    // The random is hashed as received: its case matters.
    CHECK(auth_digest("498E4A67", "JBMIAProjectorLink") != "5d8409bc1c3fa39749434aa3a5c38682");
    CHECK(encode(query("CLSS"), auth_digest("498e4a67", "JBMIAProjectorLink")) ==
          "5d8409bc1c3fa39749434aa3a5c38682%1CLSS ?\r");
}

TEST_CASE("greetings: without and with a password; anything else is not a projector") {
    auto open = parse_greeting("PJLINK 0");
    REQUIRE(open);
    CHECK_FALSE(open->authentication);
    auto locked = parse_greeting("PJLINK 1 498e4a67");
    REQUIRE(locked);
    CHECK(locked->authentication);
    CHECK(locked->random == "498e4a67");
    CHECK(parse_greeting("pjlink 1 498E4A67")->random == "498E4A67");
    for (auto bad : {"PJLINK 0 extra", "PJLINK 1 498e4a6", "PJLINK 1 498e4a6z", "PJLINK 2", "SSH-2.0-OpenSSH_9.2",
                     "HTTP/1.1 400 Bad Request", "PJLINK", ""}) {
        auto g = parse_greeting(bad);
        REQUIRE_FALSE(g);
        CHECK(g.error().code() == pjlink_errc::malformed);
        CHECK(g.error().message().find("PJLink") != std::string::npos);
    }
    CHECK(parse_greeting("PJLINK ERRA").error().code() == pjlink_errc::authentication_failed);
}

TEST_CASE("commands and replies on the wire") {
    CHECK(encode(query("POWR")) == "%1POWR ?\r");
    CHECK(encode({'1', "POWR", "1"}) == "%1POWR 1\r");
    CHECK(encode(query("SNUM", '2')) == "%2SNUM ?\r");
    CHECK(encode_reply('1', "POWR", "OK") == "%1POWR=OK\r");

    auto r = parse_reply("%1POWR=1");
    REQUIRE(r);
    CHECK(*r == reply{'1', "POWR", "1"});
    // Optoma UHD answers in lower case.
    CHECK(*parse_reply("%1powr=0") == reply{'1', "POWR", "0"});
    CHECK(parse_reply("%1NAME=")->body.empty());
    CHECK(parse_reply("PJLINK ERRA").error().code() == pjlink_errc::authentication_failed);
    CHECK(parse_reply("%1POWR=ERRA").error().code() == pjlink_errc::authentication_failed);
    for (auto bad : {"%1POWR 1", "%3POWR=1", "%1PO=1", "1POWR=1", "", "%1POW!=1"}) {
        CHECK(parse_reply(bad).error().code() == pjlink_errc::malformed);
    }

    CHECK(check_body({'1', "LAMP", "ERR1"}).error().code() == pjlink_errc::undefined_command);
    CHECK(check_body({'1', "INPT", "ERR2"}).error().code() == pjlink_errc::out_of_parameter);
    CHECK(check_body({'1', "INPT", "ERR3"}).error().code() == pjlink_errc::unavailable_time);
    CHECK(check_body({'1', "POWR", "ERR4"}).error().code() == pjlink_errc::projector_failure);
    CHECK(check_body({'1', "POWR", "OK"}));
    CHECK(check_body({'1', "NAME", "ERROR 1"}));  // a name, not an error

    auto req = parse_request("5d8409bc1c3fa39749434aa3a5c38682%1clss ?");
    REQUIRE(req);
    CHECK(req->digest == "5d8409bc1c3fa39749434aa3a5c38682");
    CHECK(req->req == request{'1', "CLSS", "?"});
    CHECK(parse_request("%2INNM ?31")->req == request{'2', "INNM", "?31"});
    CHECK_FALSE(parse_request("xyz%1POWR ?"));
    CHECK_FALSE(parse_request("%1POWR"));
}

TEST_CASE("Class 2 over UDP: the search line, and ACKN and notices read as replies") {
    CHECK(search_line() == "%2SRCH\r");
    auto ackn = parse_reply("%2ACKN=00:1B:2C:3D:4E:5F");
    REQUIRE(ackn);
    CHECK(ackn->command == "ACKN");
    CHECK(decode_mac(ackn->body).value() == "00:1b:2c:3d:4e:5f");
    CHECK_FALSE(decode_mac("00:1b:2c:3d:4e"));
    CHECK_FALSE(decode_mac("00-1b-2c-3d-4e-5f"));
    CHECK(parse_reply("%2POWR=1")->cls == '2');
    CHECK(decode_error_status(parse_reply("%2ERST=000200")->body).value().any_error());
}

TEST_CASE("lines: NUL padding dropped, CR and LF end lines, an overlong line is refused and skipped") {
    line_reader lr;
    lr.feed(std::string("PJLINK 0\r%1POWR=1\r\0\0\0%1LA", 26));
    CHECK(lr.next()->value() == "PJLINK 0");
    CHECK(lr.next()->value() == "%1POWR=1");
    CHECK_FALSE(lr.next());
    lr.feed("MP=100 1\r\n");
    CHECK(lr.next()->value() == "%1LAMP=100 1");
    CHECK_FALSE(lr.next());
    lr.feed(std::string(200, 'x'));
    auto too_long = lr.next();
    REQUIRE(too_long);
    CHECK(too_long->error().code() == pjlink_errc::line_too_long);
    lr.feed("yyy\r%1ERST=000000\r");
    CHECK(lr.next()->value() == "%1ERST=000000");  // the rest of the long line was skipped
}

TEST_CASE("typed answers, from real projectors' replies") {
    CHECK(decode_power("3").value() == power::warming);
    CHECK_FALSE(decode_power("4"));
    CHECK_FALSE(decode_power(""));

    auto e = decode_error_status("101020").value();
    CHECK(e.flags == std::array<uint8_t, 6>{1, 0, 1, 0, 2, 0});  // fan warning, temperature warning, filter error
    CHECK(e.any_warning());
    CHECK(e.any_error());
    CHECK_FALSE(decode_error_status("10102"));
    CHECK_FALSE(decode_error_status("101030"));

    CHECK(decode_lamps("8253 1 13442 1").value() == std::vector<lamp>{{8253, true}, {13442, true}});
    CHECK(decode_lamps("11111 1 22222 0 33333 1").value().size() == 3);
    CHECK(decode_lamps("0 0").value() == std::vector<lamp>{{0, false}});
    CHECK_FALSE(decode_lamps("123456 1"));  // six digits
    CHECK_FALSE(decode_lamps("100"));
    CHECK_FALSE(decode_lamps("100 2"));
    CHECK_FALSE(decode_lamps(""));

    auto inputs = decode_inputs("11 31 32 41 52 56").value();
    REQUIRE(inputs.size() == 6);
    CHECK(inputs[1].code() == "31");
    CHECK(decode_inputs("6A").value()[0] == input{'6', 'A'});  // Class 2
    CHECK(decode_inputs("").value().empty());
    CHECK_FALSE(decode_inputs("11 71"));
    CHECK(input_type_name('3') == "DIGITAL");

    CHECK(decode_av_mute("31").value() == av_mute{true, true});
    CHECK(decode_av_mute("21").value() == av_mute{false, true});
    CHECK(decode_av_mute("30").value() == av_mute{false, false});
    CHECK_FALSE(decode_av_mute("41"));

    CHECK(decode_class("2").value() == 2);
    CHECK(decode_class("Class 1").value() == 1);   // Optoma
    CHECK(decode_class("Version1").value() == 1);  // BenQ
    CHECK_FALSE(decode_class("none"));

    CHECK(decode_hours("12345").value() == 12345);
    CHECK_FALSE(decode_hours("-1"));
    using res_state = resolution_reading::state;
    CHECK(decode_resolution("1920x1080").value() == resolution_reading{res_state::size, {1920, 1080}});
    CHECK(decode_resolution("-").value().what == res_state::no_signal);
    CHECK(decode_resolution("*").value().what == res_state::unknown);
    CHECK_FALSE(decode_resolution("1920-1080"));

    CHECK(decode_text("EPSON PU1007B/PU1007W") == "EPSON PU1007B/PU1007W");
    CHECK(decode_text("\xc3\xa0\xe2\x82\xac") == "\xc3\xa0\xe2\x82\xac");  // UTF-8 kept
    CHECK(decode_text("Beamer \xe9") == "Beamer \xc3\xa9");                // Latin-1 read as such
    CHECK(decode_text("\xbd\xcc\xca\xd2 301") == "教室 301");              // GBK, as Chinese projectors say it
    CHECK(decode_text("\xed\xa0\x80") != "\xed\xa0\x80");                  // a surrogate is not UTF-8
    CHECK(decode_text(std::string("a\x01"
                                  "b",
                                  3)) == "ab");
}

// ---- RS-232 command sets ----

TEST_CASE("serial command sets: Epson ESC/VP21 and BenQ answers, with echoes, prompts, busy and refusals") {
    using namespace bbt::drivers::serial;
    auto epson = find_command_set("epson-escvp21").value();
    auto benq = find_command_set("benq").value();
    CHECK(find_command_set("nec").error().message().find("epson-escvp21, benq") != std::string::npos);

    bool echo = false;
    std::string buf = "PWR=02\r:LAMP=01234\r:";
    auto a = take_answer(epson, buf, "PWR?\r", echo);
    REQUIRE(a);
    CHECK(parse_power(epson, *a).value() == power::warming);
    CHECK(parse_lamp_hours(epson, *take_answer(epson, buf, "LAMP?\r", echo)).value() == 1234);
    CHECK_FALSE(take_answer(epson, buf, "PWR?\r", echo));
    CHECK(parse_power(epson, "PWR=04\r:").value() == power::standby);  // standby, network on
    CHECK(parse_ack(epson, ":"));
    CHECK(parse_ack(epson, "ERR\r:").error().code() == pjlink_errc::unavailable_time);
    CHECK(parse_power(epson, "PWR=77\r:").error().code() == pjlink_errc::malformed);

    // BenQ repeats the command, then answers.
    std::string b = "*pow=?#\r\n*POW=ON#\r\n*ltim=?#\r\n*LTIM= 1383#";
    auto p = take_answer(benq, b, "\r*pow=?#\r", echo);
    REQUIRE(p);
    CHECK(parse_power(benq, *p).value() == power::on);
    echo = false;
    CHECK(parse_lamp_hours(benq, *take_answer(benq, b, "\r*ltim=?#\r", echo)).value() == 1383);
    // A set command's answer repeats it in upper case: not mistaken for the echo.
    std::string on = "*pow=on#\r\n*POW=ON#\r\n";
    echo = false;
    CHECK(parse_power(benq, *take_answer(benq, on, "\r*pow=on#\r", echo)).value() == power::on);
    CHECK(parse_ack(benq, "*Block item#").error().code() == pjlink_errc::unavailable_time);
    CHECK(parse_ack(benq, "*Illegal format#").error().code() == pjlink_errc::undefined_command);
    CHECK(parse_power(benq, "*POW=MAYBE#").error().code() == pjlink_errc::malformed);
}
