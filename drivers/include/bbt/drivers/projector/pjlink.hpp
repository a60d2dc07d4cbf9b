// PJLink (JBMIA), Class 1 and Class 2: the wire format, pure.
//
//   greeting  projector -> controller   PJLINK 0<CR> | PJLINK 1 <8 hex random><CR>
//   command   controller -> projector   [<md5 digest>]%<class><CMD4> <param><CR>
//   reply     projector -> controller   %<class><CMD4>=<param><CR>
//   failure   projector -> controller   PJLINK ERRA<CR>   (wrong password)
//
// Lines are at most 136 bytes with the CR. The digest is the lower-case hex
// MD5 of the random (as received, case kept) followed by the password, and
// goes before the first command of a connection only.
//
// Projectors deviate; what is tolerated here (each seen on real ones):
// lower-case replies (`%1powr=0`), NUL bytes padding lines, LF after CR,
// `%1CLSS=Class 1` / `Version1` (the first digit counts), `ERR1` to LAMP on
// laser projectors (no lamp), Class 2 inputs (`6A`), unsolicited `%2LKUP=`
// lines on the control connection, non-UTF-8 names (read as Latin-1).
//
// Everything here is text in, values or an error out; fuzzed.
#pragma once

#include "bbt/base/error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace bbt::drivers::pjlink {

inline constexpr uint16_t default_port = 4352;
inline constexpr size_t max_line = 136;  // with the CR

enum class pjlink_errc {
    malformed = 1,          // not PJLink: a line that cannot be read
    undefined_command,      // ERR1: the projector does not know the command (or has no lamp, filter ...)
    out_of_parameter,       // ERR2: a parameter it does not accept (an input it does not have)
    unavailable_time,       // ERR3: busy now (warming up, cooling down, switching); try again later
    projector_failure,      // ERR4: the projector reports a failure; read ERST
    authentication_failed,  // PJLINK ERRA: wrong password
    password_required,      // the projector asks for a password and none is configured
    unexpected_reply,       // a reply to another command than the one sent
    line_too_long,          // over 136 bytes
};
const std::error_category& pjlink_category() noexcept;
std::error_code make_error_code(pjlink_errc e) noexcept;

// The first line a projector sends.
struct greeting {
    bool authentication = false;
    std::string random;  // 8 hex digits, as received
};
[[nodiscard]] result<greeting> parse_greeting(std::string_view line);

// Lower-case hex MD5 of random + password (PJLink Class 1 authentication).
[[nodiscard]] std::string auth_digest(std::string_view random, std::string_view password);

// A command: class '1' or '2', four letters, a parameter ("?" to query).
struct request {
    char cls = '1';
    std::string command;
    std::string param = "?";
    bool operator==(const request&) const = default;
};
[[nodiscard]] request query(std::string_view command, char cls = '1');
// The command's line, with the CR; `digest` goes first when not empty.
[[nodiscard]] std::string encode(const request& r, std::string_view digest = {});

// A command as a projector reads it (for the simulator): the digest in front,
// if any, and the command. Commands are upper-cased.
struct received_request {
    std::string digest;
    request req;
};
[[nodiscard]] result<received_request> parse_request(std::string_view line);

// A reply line, with the CR.
[[nodiscard]] std::string encode_reply(char cls, std::string_view command, std::string_view body);

// A reply: class, command (upper case) and body. `PJLINK ERRA` is an
// authentication_failed error, and so is a body of ERRA.
struct reply {
    char cls = '1';
    std::string command;
    std::string body;
    bool operator==(const reply&) const = default;
};
[[nodiscard]] result<reply> parse_reply(std::string_view line);
// Whether the body is one of the ERRn answers, as an error; OK otherwise.
[[nodiscard]] result<void> check_body(const reply& r);

// Bytes from the socket in, lines out: NUL bytes dropped, lines split at CR
// (a LF alone too), empty lines skipped. A line over 136 bytes is an error,
// after which the reader resynchronises at the next CR.
class line_reader {
public:
    void feed(std::string_view bytes);
    // The next whole line, if one is there.
    [[nodiscard]] std::optional<result<std::string>> next();

private:
    std::string buffer_;
    bool discarding_ = false;
};

// Typed answers. Each takes a reply's body.
enum class power { standby = 0, on = 1, cooling = 2, warming = 3 };
[[nodiscard]] result<power> decode_power(std::string_view body);
[[nodiscard]] std::string_view to_string(power p) noexcept;

// ERST: fan, lamp, temperature, cover open, filter, other; 0 ok, 1 warning, 2 error.
struct error_status {
    std::array<uint8_t, 6> flags{};
    [[nodiscard]] bool any_warning() const noexcept;
    [[nodiscard]] bool any_error() const noexcept;
    bool operator==(const error_status&) const = default;
};
inline constexpr std::array<std::string_view, 6> error_status_parts{"fan",   "lamp",   "temperature",
                                                                    "cover", "filter", "other"};
[[nodiscard]] result<error_status> decode_error_status(std::string_view body);

struct lamp {
    int64_t hours = 0;
    bool on = false;
    bool operator==(const lamp&) const = default;
};
// LAMP: "<hours> <0|1>" per lamp, 1 to 8 lamps.
[[nodiscard]] result<std::vector<lamp>> decode_lamps(std::string_view body);

// An input: type 1 RGB, 2 video, 3 digital, 4 storage, 5 network, 6 internal
// (Class 2); terminal 1-9 (Class 2: also A-Z).
struct input {
    char type = '1';
    char terminal = '1';
    [[nodiscard]] std::string code() const { return {type, terminal}; }
    bool operator==(const input&) const = default;
};
[[nodiscard]] result<input> decode_input(std::string_view body);
[[nodiscard]] result<std::vector<input>> decode_inputs(std::string_view body);  // INST
[[nodiscard]] std::string_view input_type_name(char type) noexcept;

// AVMT: video and audio mute.
struct av_mute {
    bool video = false;
    bool audio = false;
    bool operator==(const av_mute&) const = default;
};
[[nodiscard]] result<av_mute> decode_av_mute(std::string_view body);

// CLSS: 1 or 2; "Class 1" and "Version1" count by their first digit.
[[nodiscard]] result<int> decode_class(std::string_view body);
// FILT and other hour counters: 1 to 5 digits.
[[nodiscard]] result<int64_t> decode_hours(std::string_view body);
// IRES/RRES: "WxH", "-" (no signal) or "*" (not known to the projector).
struct resolution {
    int width = 0;
    int height = 0;
    bool operator==(const resolution&) const = default;
};
struct resolution_reading {
    enum class state : uint8_t { size, no_signal, unknown };
    state what = state::unknown;
    resolution size;  // when `what` is `size`
    bool operator==(const resolution_reading&) const = default;
};
[[nodiscard]] result<resolution_reading> decode_resolution(std::string_view body);
// Class 2 over UDP 4352: the search a controller broadcasts ("%2SRCH", no
// parameter), and the projectors' answers (%2ACKN=<MAC>) and notices
// (%2LKUP=<MAC>, %2ERST=..., %2POWR=..., %2INPT=...), which read as replies.
[[nodiscard]] std::string search_line();
// "xx:xx:xx:xx:xx:xx", upper or lower case hex.
[[nodiscard]] result<std::string> decode_mac(std::string_view body);

// NAME, INF1, INF2, INFO, SNUM, SVER, RLMP, RFIL, INNM: text; bytes that are
// not UTF-8 are read as Latin-1, control characters dropped.
[[nodiscard]] std::string decode_text(std::string_view body);

}  // namespace bbt::drivers::pjlink

template <>
struct std::is_error_code_enum<bbt::drivers::pjlink::pjlink_errc> : std::true_type {};
