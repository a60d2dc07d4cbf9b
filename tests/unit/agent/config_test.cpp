#include "bbt/agent/config.hpp"
#include "bbt/base/i18n.hpp"

#include "temp_dir.hpp"

#include "doctest_bbt.hpp"

#include <regex>

using namespace bbt;
using agent::parse_agent_config;

namespace {

// Every problem line must carry the file, the line number and the key.
void check_names(const std::string& message, const std::string& file, int line, const std::string& key) {
    INFO(message);
    std::string expected = file + ":" + std::to_string(line) + ": key '" + key + "'";
    CHECK(message.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("the shipped example documents every key with its default, and parses") {
    auto text = test::read_file(std::string(BBT_SOURCE_DIR) + "/systemd/agent.toml.example");
    REQUIRE_FALSE(text.empty());
    auto c = parse_agent_config(text, "agent.toml.example");
    REQUIRE_MESSAGE(c, (c ? "" : c.error().what()));
    agent::agent_config defaults;
    CHECK(c->state_dir == "/var/lib/bbt");
    CHECK(c->socket == "/run/bbt/agent.sock");
    CHECK(c->board == defaults.board);
    CHECK(c->stop_timeout == defaults.stop_timeout);
    CHECK(c->allow_users == defaults.allow_users);
    CHECK(c->allow_groups == defaults.allow_groups);
    CHECK(c->heartbeat == defaults.heartbeat);
    CHECK(c->log_level == defaults.log_level);
    // Each key that the parser knows appears, uncommented, in the example.
    CHECK(c->whiteboard.device == defaults.whiteboard.device);
    CHECK(c->whiteboard.output == defaults.whiteboard.output);
    CHECK(c->whiteboard.pen_max_mm == defaults.whiteboard.pen_max_mm);
    CHECK(c->whiteboard.release_after == defaults.whiteboard.release_after);
    CHECK(c->whiteboard.area_width == c->whiteboard.screen_width);
    for (const char* key :
         {"state_dir",       "board",          "stop_timeout",  "socket",        "allow_users",     "allow_groups",
          "teacher_users",   "teacher_groups", "heartbeat",     "level",         "device",          "loop",
          "output",          "uinput",         "screen_width",  "screen_height", "area_x",          "area_y",
          "area_width",      "area_height",    "tools_by_size", "pen_max_mm",    "eraser_min_mm",   "palm_min_mm",
          "release_after",   "activity_idle",  "quirks",        "chip",          "projector_relay", "pc_relay",
          "amplifier_relay", "class_key",      "class_led",     "fault_led",     "key_debounce"}) {
        CHECK_MESSAGE(std::regex_search(text, std::regex(std::string("\n") + key + " = ")), key);
    }
}

TEST_CASE("an unknown key is an error naming file, line and key, with the known keys") {
    auto c = parse_agent_config("[agent]\nboard = \"sim\"\nbord = \"x\"\n", "/etc/bbt/agent.toml");
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == base_errc::config_key);
    check_names(c.error().message(), "/etc/bbt/agent.toml", 3, "agent.bord");
    CHECK(c.error().message().find("board") != std::string::npos);
}

TEST_CASE("an unknown table is an error too") {
    auto c = parse_agent_config("[agent]\n\n[projecter]\nhost = \"x\"\n", "a.toml");
    REQUIRE_FALSE(c);
    check_names(c.error().message(), "a.toml", 3, "projecter");
}

TEST_CASE("a key of the wrong type names file, line, key and both types") {
    auto c = parse_agent_config("[ledger]\nheartbeat = \"5s\"\n", "a.toml");
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == base_errc::config_type);
    check_names(c.error().message(), "a.toml", 2, "ledger.heartbeat");
    CHECK(c.error().message().find("number") != std::string::npos);
    CHECK(c.error().message().find("string") != std::string::npos);

    auto d = parse_agent_config("[api]\nallow_groups = [\"bbt\", 7]\n", "a.toml");
    REQUIRE_FALSE(d);
    check_names(d.error().message(), "a.toml", 2, "api.allow_groups");

    auto e = parse_agent_config("agent = 3\n", "a.toml");
    REQUIRE_FALSE(e);
    check_names(e.error().message(), "a.toml", 1, "agent");
}

TEST_CASE("values out of range or malformed are errors") {
    auto c = parse_agent_config("[ledger]\nheartbeat = 0\n", "a.toml");
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == base_errc::config_value);
    check_names(c.error().message(), "a.toml", 2, "ledger.heartbeat");

    auto d = parse_agent_config("[log]\n\nlevel = \"chatty\"\n", "a.toml");
    REQUIRE_FALSE(d);
    check_names(d.error().message(), "a.toml", 3, "log.level");

    auto e = parse_agent_config("[agent]\nstate_dir = \"\"\n", "a.toml");
    REQUIRE_FALSE(e);
    check_names(e.error().message(), "a.toml", 2, "agent.state_dir");

    // Picture-in-picture needs the screen.
    auto f = parse_agent_config("[recorder]\npicture_in_picture = true\n", "a.toml");
    REQUIRE_FALSE(f);
    check_names(f.error().message(), "a.toml", 2, "recorder.picture_in_picture");
    CHECK(f.error().message().find("screen_format") != std::string::npos);
    CHECK(parse_agent_config(
        "[recorder]\npicture_in_picture = true\nscreen_format = \"x11grab\"\nscreen_input = \":0.0\"\n", "a.toml"));
}

TEST_CASE("every problem of a file is reported at once") {
    auto c = parse_agent_config("[agent]\nbord = 1\nstop_timeout = \"x\"\n[ledger]\nheartbeat = 1000\n", "a.toml");
    REQUIRE_FALSE(c);
    std::string m = c.error().message();
    check_names(m, "a.toml", 2, "agent.bord");
    check_names(m, "a.toml", 3, "agent.stop_timeout");
    check_names(m, "a.toml", 5, "ledger.heartbeat");
    CHECK(std::count(m.begin(), m.end(), '\n') == 2);
}

TEST_CASE("a TOML syntax error names file, line and column") {
    auto c = parse_agent_config("[agent]\nboard = \"sim\"\nstop_timeout = = 3\n", "/etc/bbt/agent.toml");
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == base_errc::config_syntax);
    CHECK(c.error().message().find("/etc/bbt/agent.toml:3:") != std::string::npos);
}

TEST_CASE("configuration errors are available in Chinese") {
    i18n::set(i18n::language::zh);
    auto c = parse_agent_config("[agent]\nbord = 1\n", "a.toml");
    i18n::set(i18n::language::en);
    REQUIRE_FALSE(c);
    CHECK(c.error().message().find("未知的键") != std::string::npos);
    CHECK(c.error().message().find("a.toml:2") != std::string::npos);
}

TEST_CASE("a missing file says which and what to do") {
    auto c = agent::load_agent_config("/nonexistent/agent.toml");
    REQUIRE_FALSE(c);
    CHECK(c.error().context() == "/nonexistent/agent.toml");
    CHECK(c.error().message().find("--config") != std::string::npos);
}

TEST_CASE("environment defaults fill state directory and socket") {
    agent::agent_config c;
    ::setenv("STATE_DIRECTORY", "/var/lib/bbt-x:/var/lib/other", 1);
    ::setenv("RUNTIME_DIRECTORY", "/run/bbt-x", 1);
    agent::resolve_environment_defaults(c);
    ::unsetenv("STATE_DIRECTORY");
    ::unsetenv("RUNTIME_DIRECTORY");
    CHECK(c.state_dir == "/var/lib/bbt-x");
    CHECK(c.socket == "/run/bbt-x/agent.sock");
    agent::agent_config d;
    d.state_dir = "/srv/bbt";
    agent::resolve_environment_defaults(d);
    CHECK(d.state_dir == "/srv/bbt");
    CHECK(d.socket == "/run/bbt/agent.sock");
}

TEST_CASE("whiteboard settings are checked against each other, and quirks by their kernel names") {
    auto ok = parse_agent_config(
        "[whiteboard]\ndevice = \"/run/bbt/board.fifo\"\nscreen_width = 3840\nscreen_height = 1080\n"
        "area_x = 1920\narea_width = 1920\narea_height = 1080\nquirks = [\"NOT_SEEN_MEANS_UP\"]\n",
        "a.toml");
    REQUIRE_MESSAGE(ok, (ok ? "" : ok.error().what()));
    CHECK(ok->whiteboard.device == "/run/bbt/board.fifo");
    CHECK(ok->whiteboard.area_x == 1920);

    auto c = parse_agent_config(
        "[whiteboard]\npen_max_mm = 20\neraser_min_mm = 10\noutput = \"x11\"\n"
        "area_x = 100\narea_width = 1900\narea_height = 1080\nquirks = [\"NSMU\"]\n",
        "a.toml");
    REQUIRE_FALSE(c);
    std::string m = c.error().message();
    check_names(m, "a.toml", 3, "whiteboard.eraser_min_mm");
    check_names(m, "a.toml", 4, "whiteboard.output");
    CHECK(m.find("past the screen") != std::string::npos);
    CHECK(m.find("NSMU") != std::string::npos);
    CHECK(m.find("NOT_SEEN_MEANS_UP") != std::string::npos);  // the known names are listed
}

TEST_CASE("the control board's GPIO wiring: offsets, names, active-low lines, and a chip they are on") {
    auto c = parse_agent_config(
        "[agent]\nboard = \"gpio-control\"\n[gpio]\nchip = \"gpiochip2\"\nprojector_relay = \"17\"\n"
        "class_key = \"!KEY_CLASS\"\nfault_led = \"!4\"\nkey_debounce = 0.02\n",
        "agent.toml");
    REQUIRE_MESSAGE(c, (c ? "" : c.error().what()));
    CHECK(c->gpio.chip == "gpiochip2");
    REQUIRE(c->gpio.projector_relay);
    CHECK(c->gpio.projector_relay->offset == 17u);
    CHECK_FALSE(c->gpio.projector_relay->active_low);
    REQUIRE(c->gpio.class_key);
    CHECK(c->gpio.class_key->name == "KEY_CLASS");
    CHECK(c->gpio.class_key->active_low);
    CHECK(c->gpio.fault_led->offset == 4u);
    CHECK_FALSE(c->gpio.pc_relay);
    CHECK(c->gpio.key_debounce == std::chrono::milliseconds(20));

    auto no_chip = parse_agent_config("[gpio]\nclass_led = \"3\"\n", "agent.toml");
    REQUIRE_FALSE(no_chip);
    check_names(no_chip.error().message(), "agent.toml", 1, "gpio.chip");

    auto bad =
        parse_agent_config("[gpio]\nchip = \"gpiochip0\"\npc_relay = \"!\"\nclass_led = \"LED 1\"\n", "agent.toml");
    REQUIRE_FALSE(bad);
    check_names(bad.error().message(), "agent.toml", 3, "gpio.pc_relay");
    check_names(bad.error().message(), "agent.toml", 4, "gpio.class_led");
    CHECK(bad.error().message().find("active low") != std::string::npos);
}
