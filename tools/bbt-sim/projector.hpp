// bbt-sim projector: a PJLink Class 1 or 2 projector on TCP, as real ones
// behave: a greeting with a fresh random when a password is set, warm-up and
// cool-down during which set commands answer ERR3, lamp hours that grow while
// the lamp is lit, an error status that can be injected, the idle disconnect
// after 30 s, and each known deviation of real projectors switchable.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace bbt::sim {

struct projector_options {
    std::string listen = "127.0.0.1";
    uint16_t port = 4352;  // 0: any free port (printed)
    int pjlink_class = 2;
    std::string password;  // empty: no authentication
    double warmup_s = 5;
    double cooldown_s = 5;
    double lamp_hours = 1200;              // at start
    double hours_per_second = 1.0 / 3600;  // lamp hours added per second lit (tests speed time up)
    int lamps = 1;
    double filter_hours = 300;
    std::string error_status = "000000";  // ERST
    bool power_failure = false;           // POWR 1 answers ERR4
    double idle_timeout_s = 30;
    std::string name = "Classroom 201";
    std::string manufacturer = "EPSON";
    std::string product = "CB-X06";
    std::string serial = "X5J1234567";
    std::string software = "1.03";
    // lowercase: replies in lower case; nul: NUL bytes after each reply;
    // clss-text: CLSS answers "Class 1"; laser: LAMP answers ERR1;
    // lkup: a %2LKUP= notice on the control connection before the first reply.
    std::set<std::string> quirks;
    // Not empty: the projector is on a serial line instead, speaking this
    // command set ("epson-escvp21", "benq") on a pseudo-terminal whose
    // device is linked at `pty_link`.
    std::string serial_set;
    // Class 2 over UDP: the port answering searches (-1: none; 0: any free
    // one, printed), and HOST:PORT of a controller registered for status
    // notices (empty: none).
    int udp_port = -1;
    std::string notify;
    std::string pty_link;
};

// The quirks `projector_options::quirks` may name.
[[nodiscard]] const std::vector<std::string>& projector_quirks();

// Runs until SIGINT or SIGTERM; prints the address it listens on.
int run_projector(const projector_options& options);

}  // namespace bbt::sim
