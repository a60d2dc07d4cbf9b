// libFuzzer target: every encoder of the county link and the local API, fed
// text that need not be UTF-8 (the input, cut into fields at NUL bytes). Each
// output must be valid UTF-8 that a JSON reader takes back: Boost.JSON writes
// a string's bytes as they are and refuses invalid UTF-8 when it reads, so one
// broken byte from outside would otherwise make a whole batch, reply or answer
// unreadable. Where a string came in valid, it must come back unchanged.
#include "bbt/base/utf8.hpp"
#include "bbt/protocol/county.hpp"
#include "bbt/protocol/json_text.hpp"
#include "bbt/protocol/local_api.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace county = bbt::protocol::county;
namespace json = boost::json;

// Fields of the input, separated by NUL bytes; at least eight (some empty).
std::vector<std::string> fields_of(std::string_view in) {
    std::vector<std::string> out;
    for (;;) {
        auto nul = in.find('\0');
        out.emplace_back(in.substr(0, nul));
        if (nul == std::string_view::npos) break;
        in.remove_prefix(nul + 1);
    }
    while (out.size() < 8)
        out.emplace_back();
    return out;
}

// The text reads back as JSON and is valid UTF-8.
json::value readable(const std::string& text) {
    if (!bbt::utf8::valid(text)) std::abort();
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) std::abort();
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto f = fields_of(std::string_view(reinterpret_cast<const char*>(data), size));
    const auto& a = f[0];
    const auto& b = f[1];
    const auto& c = f[2];
    const auto& d = f[3];

    county::batch batch{a, b, {}};
    int64_t seq = 0;
    auto add = [&](county::body body) { batch.messages.push_back({++seq, 1, std::move(body)}); };
    add(county::inventory{a, b, {{county::device_kind::pc, c, d, f[4], f[5]}}});
    add(county::heartbeat{1, true, 0, {{a, b}, {c, d}}, {{f[4], 1, 2, 3}}});
    add(county::usage{a, b, 1, 2});
    add(county::event{a, b, c});
    add(county::alert{a, b, c, d, true});
    add(county::command_result{a, b, true, c});
    add(county::readiness{"2026-12-07", 1, 1, 0, {a, b}});
    add(county::recording{a, b, 1, 0, 1.5, 10, f[4], c});
    auto text = county::encode(batch);
    auto v = readable(text);
    // Valid fields pass unchanged.
    if (bbt::utf8::valid(a) && v.at("device_id").as_string() != a) std::abort();
    for (const auto& m : batch.messages)
        readable(bbt::protocol::json_text::serialize(county::to_json(m)));

    county::reply reply;
    reply.acked = {{1, 2}};
    county::command cmd;
    cmd.id = a;
    cmd.verb = b;
    cmd.args = json::object{{c, d}, {"lesson", f[5]}};
    cmd.device_id = f[6];
    cmd.nonce = f[7];
    reply.commands.push_back(cmd);
    readable(county::encode(reply));

    bbt::protocol::request req{7, a, json::object{{b, c}, {"list", json::array{d, f[4]}}}};
    auto back = readable(bbt::protocol::serialize(req));
    if (bbt::utf8::valid(a) && back.at("method").as_string() != a) std::abort();
    bbt::protocol::response ok{8, json::value(json::object{{a, json::array{b, c}}}), std::nullopt, {}};
    readable(bbt::protocol::serialize(ok));
    bbt::protocol::response failed{9, std::nullopt, bbt::protocol::api_errc::internal, d};
    readable(bbt::protocol::serialize(failed));
    return 0;
}
