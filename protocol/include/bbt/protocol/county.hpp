// The county link's messages, version 1: what an agent reports (inventory,
// heartbeats with health, usage intervals, events, alerts, command results)
// in batches, and what the county answers (the sequence numbers it has
// stored, and signed commands). Each has a JSON Schema under
// protocol/schema/, published for county integrators.
//
// Times are microseconds since the Unix epoch (UTC). Every message carries
// the sequence number the agent's outbox gave it; the county de-duplicates
// by device and sequence.
//
// Encoding and decoding are pure (text in, values or an error naming the
// field out) and fuzzed.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/base/i18n.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace bbt::protocol::county {

inline constexpr int64_t protocol_version = 1;

// Limits a county enforces and an agent keeps to.
inline constexpr size_t max_batch_messages = 1024;
inline constexpr size_t max_text = 512;             // any string field
inline constexpr size_t max_devices = 64;           // in one inventory
inline constexpr size_t max_lamps = 8;              // in one heartbeat
inline constexpr size_t max_batch_bytes = 4 << 20;  // a batch, uncompressed

enum class kind : uint8_t { inventory, heartbeat, usage, event, alert, command_result, readiness, recording };
[[nodiscard]] std::string_view to_string(kind k) noexcept;
[[nodiscard]] std::optional<kind> kind_from(std::string_view s) noexcept;
// Events, alerts and command results go first and are never dropped;
// inventory, heartbeats and usage are routine (usage is never dropped
// either: it is what the county's figures are made of).
[[nodiscard]] bool is_priority(kind k) noexcept;

// What a set's devices are. The agent, bbt-county and bbtctl name them
// alike: these names are the wire's ("pc", "control-board" ...).
enum class device_kind : uint8_t { pc, projector, whiteboard, camera, microphone, control_board };
inline constexpr std::array<device_kind, 6> all_device_kinds{device_kind::pc,         device_kind::projector,
                                                             device_kind::whiteboard, device_kind::camera,
                                                             device_kind::microphone, device_kind::control_board};
[[nodiscard]] std::string_view to_string(device_kind k) noexcept;
[[nodiscard]] std::optional<device_kind> device_kind_from(std::string_view s) noexcept;
// As people call it, in English and Chinese ("microphone", "麦克风").
[[nodiscard]] i18n::msg display_name(device_kind k) noexcept;

// A projector's state, as the usage ledger keeps it and the API shows it.
// `unknown` is before the first answer (shown as an empty string).
enum class projector_state : uint8_t { unknown, standby, warming, on, cooling, unreachable };
[[nodiscard]] std::string_view to_string(projector_state s) noexcept;

struct device {
    device_kind kind = device_kind::pc;
    std::string vendor;
    std::string model;
    std::string serial;
    std::string firmware;
    bool operator==(const device&) const = default;
};

struct inventory {
    std::string school;
    std::string classroom;
    std::vector<device> devices;
    bool operator==(const inventory&) const = default;
};

// A projector lamp (or a laser light source) and its hours, from PJLink LAMP.
struct lamp {
    std::string device;  // "projector"
    int64_t index = 1;   // 1..8, as PJLink numbers them
    double hours = 0;
    double rated_hours = 0;  // the lamp's rated life from the tender; 0 when not known
    bool operator==(const lamp&) const = default;
};

struct heartbeat {
    double uptime_s = 0;
    bool clock_synchronized = false;
    int64_t queue_depth = 0;
    std::map<std::string, std::string> health;  // part -> state ("whiteboard" -> "in-use" ...)
    std::vector<lamp> lamps;                    // optional on the wire; absent when empty
    bool operator==(const heartbeat&) const = default;
};

// A closed interval of the usage ledger.
struct usage {
    std::string device;
    std::string state;
    int64_t start_us = 0;
    int64_t end_us = 0;
    bool operator==(const usage&) const = default;
};

struct event {
    std::string device;
    std::string type;  // connected, disconnected, class-started, lamp-replaced ...
    std::string detail;
    bool operator==(const event&) const = default;
};

struct alert {
    std::string device;
    std::string code;      // stable, e.g. "projector.lamp-hours"
    std::string severity;  // info, warning, critical
    std::string message;
    bool open = true;  // false: the alert has cleared
    bool operator==(const alert&) const = default;
};

struct command_result {
    std::string command_id;
    std::string verb;
    bool ok = false;
    std::string detail;
    bool operator==(const command_result&) const = default;
};

inline constexpr size_t max_missing = 64;  // resource ids in one readiness report

// Whether the courseware of a day's lessons is in the set's cache, verified.
struct readiness {
    std::string day;  // YYYY-MM-DD, the school's local date
    int64_t lessons = 0;
    int64_t resources = 0;             // courseware the lessons name
    int64_t ready = 0;                 // of those, verified and playable in the cache
    std::vector<std::string> missing;  // ids not ready (the first max_missing)
    bool operator==(const readiness&) const = default;
};

// A lesson recorded on the set, and how far its upload to the county is; sent
// when it is recorded and each time that changes.
struct recording {
    std::string file;  // the name on the set
    std::string lesson;
    int64_t part = 1;  // a lesson broken by a restart goes on in parts
    int64_t started_us = 0;
    double duration_s = 0;
    int64_t bytes = 0;
    std::string sha256;  // hex; empty until hashed
    std::string state;   // recorded, interrupted, uploaded (the county confirmed it), removed (deleted on the set)
    bool operator==(const recording&) const = default;
};

using body = std::variant<inventory, heartbeat, usage, event, alert, command_result, readiness, recording>;

struct message {
    int64_t seq = 0;
    int64_t at_us = 0;
    body content;
    [[nodiscard]] kind kind_of() const noexcept { return static_cast<kind>(content.index()); }
    bool operator==(const message&) const = default;
};

struct batch {
    std::string device_id;
    std::string agent_version;
    std::vector<message> messages;
    bool operator==(const batch&) const = default;
};

// A command from the county, signed by its command key (Ed25519) over
// signing_input(); valid until `expires_us`, once (`nonce`).
struct command {
    std::string id;
    std::string verb;  // class.start, class.end, projector.power, courseware.prefetch, logs.upload
    boost::json::object args;
    std::string device_id;
    int64_t expires_us = 0;
    std::string nonce;
    std::string signature;  // base64
    bool operator==(const command&) const = default;
};

struct reply {
    // Sequence numbers the county now holds (of this batch and before), as
    // inclusive ranges.
    std::vector<std::pair<int64_t, int64_t>> acked;
    std::vector<command> commands;
    std::optional<int64_t> retry_after_s;  // the county asks for a pause
    // The county's wall clock when it answered: commands expire by it, not
    // by a set's clock that may be off by hours.
    std::optional<int64_t> now_us;
    bool operator==(const reply&) const = default;
};

// One message's JSON (as the outbox stores it) and back.
[[nodiscard]] boost::json::object to_json(const message& m);
[[nodiscard]] result<message> message_from_json(const boost::json::value& v);

[[nodiscard]] std::string encode(const batch& b);
[[nodiscard]] result<batch> decode_batch(std::string_view text);

[[nodiscard]] std::string encode(const reply& r);
[[nodiscard]] result<reply> decode_reply(std::string_view text);

[[nodiscard]] boost::json::object to_json(const command& c);
[[nodiscard]] result<command> command_from_json(const boost::json::value& v);
// The exact bytes a command's signature covers: its fields but the
// signature, serialised in a fixed order.
[[nodiscard]] std::string signing_input(const command& c);

enum class county_errc {
    malformed = 1,  // not JSON, or a field missing, of the wrong type or out of range
    version,        // a protocol version this side does not speak
    too_large,      // over a limit above
};
const std::error_category& county_category() noexcept;
std::error_code make_error_code(county_errc e) noexcept;

}  // namespace bbt::protocol::county

template <>
struct std::is_error_code_enum<bbt::protocol::county::county_errc> : std::true_type {};
