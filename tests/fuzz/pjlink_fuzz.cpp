// libFuzzer target: the PJLink codec and the serial command sets' answers. Any bytes from a projector (or, for the
// simulator, from a controller) give lines, and each line a value or an
// error; a reply that parses encodes to a line that parses to the same reply.
#include "bbt/drivers/projector/pjlink.hpp"
#include "bbt/drivers/projector/serial_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace bbt::drivers::pjlink;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    line_reader lines;
    // Fed in two pieces, as a socket may deliver them.
    lines.feed(bytes.substr(0, size / 2));
    lines.feed(bytes.substr(size / 2));
    while (auto line = lines.next()) {
        if (!*line) continue;
        const std::string& l = **line;
        if (l.size() + 1 > max_line) std::abort();
        (void)parse_greeting(l);
        (void)parse_request(l);
        if (auto r = parse_reply(l)) {
            (void)check_body(*r);
            (void)decode_power(r->body);
            (void)decode_error_status(r->body);
            (void)decode_lamps(r->body);
            (void)decode_inputs(r->body);
            (void)decode_av_mute(r->body);
            (void)decode_class(r->body);
            (void)decode_hours(r->body);
            (void)decode_resolution(r->body);
            (void)decode_text(r->body);
            std::string again = encode_reply(r->cls, r->command, r->body);
            auto r2 = parse_reply(std::string_view(again).substr(0, again.size() - 1));
            if (!r2 || !(*r2 == *r)) std::abort();
        }
    }
    // The same bytes as answers on a serial line, in each command set.
    for (const auto& cs : bbt::drivers::serial::command_sets()) {
        std::string buffer(bytes);
        bool echo = false;
        while (auto a = bbt::drivers::serial::take_answer(cs, buffer, cs.power_query, echo)) {
            (void)bbt::drivers::serial::parse_power(cs, *a);
            (void)bbt::drivers::serial::parse_lamp_hours(cs, *a);
            (void)bbt::drivers::serial::parse_ack(cs, *a);
        }
    }
    return 0;
}
