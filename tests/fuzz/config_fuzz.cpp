// libFuzzer target: bbt-agent's configuration parser must turn any bytes
// into a configuration or an error naming a line, never crash or hang.
#include "bbt/agent/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto c = bbt::agent::parse_agent_config(text, "fuzz.toml");
    if (!c) {
        // Every error reaches a person: it must say something, and where.
        if (c.error().message().empty()) std::abort();
        if (c.error().message().find("fuzz.toml") == std::string::npos) std::abort();
    } else if (c->heartbeat.count() < 1000 || c->heartbeat.count() > 300'000) {
        std::abort();  // a value outside its documented range got through
    }
    return 0;
}
