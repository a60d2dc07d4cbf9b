// A PJLink controller session, as projectors want it: connect, check the
// greeting, send the authentication digest with the first command, one
// command at a time with a reply deadline, close as soon as the queue is
// done (projectors drop idle connections after 30 s, and a second
// controller's connection resets the random). ERR3 (busy) is retried after a
// pause; unsolicited lines (`%2LKUP=` on the control connection) are skipped.
#pragma once

#include "bbt/drivers/projector/pjlink.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bbt::drivers::pjlink {

struct endpoint {
    std::string host;
    uint16_t port = default_port;
    std::string password;  // empty: none configured
    std::chrono::milliseconds connect_timeout{4000};
    std::chrono::milliseconds reply_timeout{5000};
    int busy_retries = 2;  // ERR3 answers retried per command
    std::chrono::milliseconds busy_wait{1000};
};

// One command and what came of it: the reply (never an ERRn body: those are
// errors here), or the error.
struct exchange {
    request req;
    result<reply> answer;
};

// Runs `requests` in one connection. Fails as a whole when the projector
// cannot be reached, does not speak PJLink, wants a password none is
// configured for, or refuses the password; each command's own failure
// (ERR1 ... ERR4) is in its exchange.
[[nodiscard]] boost::asio::awaitable<result<std::vector<exchange>>> run(boost::asio::any_io_executor ex, endpoint where,
                                                                        std::vector<request> requests);

// Everything Class 1 and 2 can tell of a projector.
struct projector_info {
    int pjlink_class = 1;
    std::string name, manufacturer, product, other;  // NAME, INF1, INF2, INFO
    std::string serial, software;                    // SNUM, SVER (Class 2)
    std::optional<power> power_state;
    std::optional<input> current_input;
    std::vector<input> inputs;
    std::map<std::string, std::string> input_names;  // code -> INNM (Class 2)
    std::optional<av_mute> mute;
    std::optional<error_status> errors;
    std::vector<lamp> lamps;
    bool no_lamp = false;  // ERR1 to LAMP: a laser or LED light source
    std::optional<int64_t> filter_hours;
    std::string replacement_lamp, replacement_filter;                            // RLMP, RFIL
    std::optional<resolution_reading> input_resolution, recommended_resolution;  // nullopt: not answered
    // Commands the projector answered with an error, and the error.
    std::map<std::string, std::string> unanswered;
};

[[nodiscard]] boost::asio::awaitable<result<projector_info>> probe(boost::asio::any_io_executor ex, endpoint where);

// Class 2 search: SRCH sent to `to`:`port` (a broadcast address, or one
// projector) from a UDP socket bound to `local_port` (4352 by the
// specification, as some projectors answer there; 0 for any), and the
// ACKN answers collected for `wait`: (address, MAC) of each projector.
struct found_projector {
    std::string address;
    std::string mac;
};
[[nodiscard]] boost::asio::awaitable<result<std::vector<found_projector>>> search(boost::asio::any_io_executor ex,
                                                                                  std::string to, uint16_t port,
                                                                                  uint16_t local_port,
                                                                                  std::chrono::milliseconds wait);

}  // namespace bbt::drivers::pjlink
