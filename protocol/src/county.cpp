#include "bbt/protocol/county.hpp"

#include "bbt/protocol/json_text.hpp"

#include "bbt/base/i18n.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <limits>

namespace bbt::protocol::county {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 6> device_kind_names{"pc",     "projector",  "whiteboard",
                                                            "camera", "microphone", "control-board"};
constexpr std::array<i18n::msg, 6> device_kind_texts{{{"PC", "电脑"},
                                                      {"projector", "投影机"},
                                                      {"whiteboard", "白板"},
                                                      {"camera", "摄像头"},
                                                      {"microphone", "麦克风"},
                                                      {"control board", "中控"}}};
constexpr std::array<std::string_view, 6> projector_state_names{"",   "standby", "warming",
                                                                "on", "cooling", "unreachable"};

constexpr std::array<std::string_view, 8> kind_names{"inventory", "heartbeat",      "usage",     "event",
                                                     "alert",     "command_result", "readiness", "recording"};

class county_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.county"; }
    std::string message(int ev) const override {
        switch (static_cast<county_errc>(ev)) {
            case county_errc::malformed: return "malformed county message";
            case county_errc::version: return "unsupported county protocol version";
            case county_errc::too_large: return "county message too large";
        }
        return "county protocol error";
    }
};

// Reads the fields of one object, keeping the first problem with its path.
class reader {
public:
    reader(const json::object& o, std::string path, std::optional<error>& problem)
        : o_(o), path_(std::move(path)), problem_(problem) {}

    std::string text(std::string_view key, bool required = true) {
        const auto* v = find(key, required);
        if (!v) return {};
        if (!v->is_string()) return fail(key, i18n::text({"must be a string", "必须是字符串"})), std::string();
        if (v->as_string().size() > max_text) {
            return fail(key, i18n::format({"is longer than {} bytes", "长度超过 {} 字节"}, max_text)), std::string();
        }
        return std::string(v->as_string());
    }
    int64_t integer(std::string_view key, int64_t min, int64_t max, bool required = true) {
        const auto* v = find(key, required);
        if (!v) return min;
        if (!v->is_int64() && !v->is_uint64()) {
            return fail(key, i18n::text({"must be a whole number", "必须是整数"})), min;
        }
        if (v->is_uint64() && v->as_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return fail(key, i18n::text({"is out of range", "超出范围"})), min;
        }
        int64_t n = v->is_int64() ? v->as_int64() : static_cast<int64_t>(v->as_uint64());
        if (n < min || n > max) {
            return fail(key, i18n::format({"must be from {} to {}", "必须在 {} 到 {} 之间"}, min, max)), min;
        }
        return n;
    }
    double number(std::string_view key, double min, double max) {
        const auto* v = find(key, true);
        if (!v) return min;
        double d = v->is_double()   ? v->as_double()
                   : v->is_int64()  ? static_cast<double>(v->as_int64())
                   : v->is_uint64() ? static_cast<double>(v->as_uint64())
                                    : -std::numeric_limits<double>::infinity();
        if (!(d >= min && d <= max)) {
            return fail(key, i18n::format({"must be a number from {} to {}", "必须是 {} 到 {} 之间的数"}, min, max)),
                   min;
        }
        return d;
    }
    bool boolean(std::string_view key) {
        const auto* v = find(key, true);
        if (!v) return false;
        if (!v->is_bool()) return fail(key, i18n::text({"must be true or false", "必须是 true 或 false"})), false;
        return v->as_bool();
    }
    const json::object* object(std::string_view key, bool required = true) {
        const auto* v = find(key, required);
        if (!v) return nullptr;
        if (!v->is_object()) return fail(key, i18n::text({"must be an object", "必须是对象"})), nullptr;
        return &v->as_object();
    }
    const json::array* array(std::string_view key, size_t max_size, bool required = true) {
        const auto* v = find(key, required);
        if (!v) return nullptr;
        if (!v->is_array()) return fail(key, i18n::text({"must be an array", "必须是数组"})), nullptr;
        if (v->as_array().size() > max_size) {
            return fail(key, i18n::format({"has more than {} entries", "条目超过 {} 个"}, max_size)), nullptr;
        }
        return &v->as_array();
    }
    void fail(std::string_view key, std::string_view what) {
        if (problem_) return;
        problem_ =
            error(county_errc::malformed, i18n::format({"county message: {}{}{}: {}", "县级平台消息：{}{}{}：{}"},
                                                       path_, path_.empty() ? "" : ".", key, what));
    }
    std::string path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    // A reader of an object inside this one, sharing its problem.
    reader nested(const json::object& o, std::string_view key) const { return reader(o, path(key), problem_); }
    [[nodiscard]] bool failed() const noexcept { return problem_.has_value(); }

private:
    const json::value* find(std::string_view key, bool required) {
        const auto* v = o_.if_contains(key);
        if (!v && required) fail(key, i18n::text({"is missing", "缺失"}));
        return v;
    }
    const json::object& o_;
    std::string path_;
    std::optional<error>& problem_;
};

constexpr int64_t max_time_us = int64_t{1} << 56;  // far beyond any real date
constexpr int64_t max_seq = std::numeric_limits<int64_t>::max();

result<json::value> parse(std::string_view text) {
    if (text.size() > max_batch_bytes) {
        return error(county_errc::too_large, i18n::format({"county message of {} bytes exceeds the limit of {}",
                                                           "县级平台消息长 {} 字节，超过上限 {}"},
                                                          text.size(), max_batch_bytes));
    }
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) {
        return error(
            county_errc::malformed,
            i18n::format({"county message is not valid JSON: {}", "县级平台消息不是有效的 JSON：{}"}, ec.message()));
    }
    if (!v.is_object()) {
        return error(county_errc::malformed,
                     i18n::text({"county message is not a JSON object", "县级平台消息不是 JSON 对象"}));
    }
    return v;
}

result<void> check_version(const json::object& o) {
    std::optional<error> problem;
    reader r(o, "", problem);
    int64_t v = r.integer("protocol", 0, std::numeric_limits<int32_t>::max());
    if (problem) return *problem;
    if (v != protocol_version) {
        return error(county_errc::version,
                     i18n::format({"county protocol version {} is not spoken here (this side speaks {}); update "
                                   "the older side",
                                   "不支持县级平台协议版本 {}（本端为 {}）；请升级较旧的一端"},
                                  v, protocol_version));
    }
    return {};
}

// A document of this protocol version, parsed.
result<json::value> parse_versioned(std::string_view text) {
    auto v = parse(text);
    if (!v) return v.error();
    if (auto r = check_version(v->as_object()); !r) return r.error();
    return v;
}

json::object body_json(const body& b) {
    return std::visit(
        [](const auto& x) -> json::object {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, inventory>) {
                json::array devices;
                for (const auto& d : x.devices) {
                    devices.push_back(json::object{{"kind", to_string(d.kind)},
                                                   {"vendor", d.vendor},
                                                   {"model", d.model},
                                                   {"serial", d.serial},
                                                   {"firmware", d.firmware}});
                }
                return {{"school", x.school}, {"classroom", x.classroom}, {"devices", std::move(devices)}};
            } else if constexpr (std::is_same_v<T, heartbeat>) {
                json::object health;
                for (const auto& [k, v] : x.health)
                    health[k] = v;
                json::object o{{"uptime_s", x.uptime_s},
                               {"clock_synchronized", x.clock_synchronized},
                               {"queue_depth", x.queue_depth},
                               {"health", std::move(health)}};
                if (!x.lamps.empty()) {
                    json::array lamps;
                    for (const auto& l : x.lamps) {
                        lamps.push_back(json::object{{"device", l.device},
                                                     {"index", l.index},
                                                     {"hours", l.hours},
                                                     {"rated_hours", l.rated_hours}});
                    }
                    o["lamps"] = std::move(lamps);
                }
                return o;
            } else if constexpr (std::is_same_v<T, usage>) {
                return {{"device", x.device}, {"state", x.state}, {"start_us", x.start_us}, {"end_us", x.end_us}};
            } else if constexpr (std::is_same_v<T, event>) {
                return {{"device", x.device}, {"type", x.type}, {"detail", x.detail}};
            } else if constexpr (std::is_same_v<T, alert>) {
                return {{"device", x.device},
                        {"code", x.code},
                        {"severity", x.severity},
                        {"message", x.message},
                        {"open", x.open}};
            } else if constexpr (std::is_same_v<T, recording>) {
                return {{"file", x.file},
                        {"lesson", x.lesson},
                        {"part", x.part},
                        {"started_us", x.started_us},
                        {"duration_s", x.duration_s},
                        {"bytes", x.bytes},
                        {"sha256", x.sha256},
                        {"state", x.state}};
            } else if constexpr (std::is_same_v<T, readiness>) {
                json::array missing;
                for (const auto& id : x.missing)
                    missing.push_back(json::string(id));
                return {{"day", x.day},
                        {"lessons", x.lessons},
                        {"resources", x.resources},
                        {"ready", x.ready},
                        {"missing", std::move(missing)}};
            } else {
                return {{"command_id", x.command_id}, {"verb", x.verb}, {"ok", x.ok}, {"detail", x.detail}};
            }
        },
        b);
}

body body_from(kind k, reader& r) {
    switch (k) {
        case kind::inventory: {
            inventory x;
            x.school = r.text("school");
            x.classroom = r.text("classroom");
            if (const auto* devices = r.array("devices", max_devices)) {
                for (size_t i = 0; i < devices->size(); ++i) {
                    const auto& d = (*devices)[i];
                    std::string key = "devices[" + std::to_string(i) + "]";
                    if (!d.is_object()) {
                        r.fail(key, i18n::text({"must be an object", "必须是对象"}));
                        break;
                    }
                    reader dr = r.nested(d.as_object(), key);
                    auto name = dr.text("kind");
                    auto dk = device_kind_from(name);
                    if (!dk) {
                        dr.fail("kind", i18n::format({"\"{}\" is not a device kind (pc, projector, whiteboard, camera, "
                                                      "microphone, control-board)",
                                                      "“{}”不是设备类型（pc、projector、whiteboard、camera、"
                                                      "microphone、control-board）"},
                                                     name));
                        break;
                    }
                    x.devices.push_back(
                        {*dk, dr.text("vendor"), dr.text("model"), dr.text("serial"), dr.text("firmware")});
                }
            }
            return x;
        }
        case kind::heartbeat: {
            heartbeat x;
            x.uptime_s = r.number("uptime_s", 0, 1e10);
            x.clock_synchronized = r.boolean("clock_synchronized");
            x.queue_depth = r.integer("queue_depth", 0, max_seq);
            if (const auto* h = r.object("health")) {
                if (h->size() > max_devices) r.fail("health", i18n::text({"has too many parts", "部件过多"}));
                for (const auto& [key, v] : *h) {
                    if (!v.is_string() || v.as_string().size() > max_text || key.size() > max_text) {
                        r.fail("health", i18n::text({"values must be short strings", "值必须是短字符串"}));
                        break;
                    }
                    x.health[std::string(key)] = std::string(v.as_string());
                }
            }
            if (const auto* lamps = r.array("lamps", max_lamps, false)) {
                for (size_t i = 0; i < lamps->size(); ++i) {
                    const auto& l = (*lamps)[i];
                    std::string key = "lamps[" + std::to_string(i) + "]";
                    if (!l.is_object()) {
                        r.fail(key, i18n::text({"must be an object", "必须是对象"}));
                        break;
                    }
                    reader lr = r.nested(l.as_object(), key);
                    x.lamps.push_back({lr.text("device"), lr.integer("index", 1, 8), lr.number("hours", 0, 1e7),
                                       lr.number("rated_hours", 0, 1e7)});
                }
            }
            return x;
        }
        case kind::usage: {
            usage x;
            x.device = r.text("device");
            x.state = r.text("state");
            x.start_us = r.integer("start_us", 0, max_time_us);
            x.end_us = r.integer("end_us", 0, max_time_us);
            if (x.end_us < x.start_us) r.fail("end_us", i18n::text({"is before start_us", "早于 start_us"}));
            return x;
        }
        case kind::event: return event{r.text("device"), r.text("type"), r.text("detail")};
        case kind::alert: {
            alert x{r.text("device"), r.text("code"), r.text("severity"), r.text("message"), r.boolean("open")};
            if (x.severity != "info" && x.severity != "warning" && x.severity != "critical" && !r.failed()) {
                r.fail("severity",
                       i18n::text({"must be info, warning or critical", "必须是 info、warning 或 critical"}));
            }
            return x;
        }
        case kind::command_result:
            return command_result{r.text("command_id"), r.text("verb"), r.boolean("ok"), r.text("detail")};
        case kind::recording: {
            recording x;
            x.file = r.text("file");
            x.lesson = r.text("lesson");
            x.part = r.integer("part", 1, 1000);
            x.started_us = r.integer("started_us", 0, max_time_us);
            x.duration_s = r.number("duration_s", 0, 1e6);
            x.bytes = r.integer("bytes", 0, int64_t{1} << 50);
            x.sha256 = r.text("sha256");
            x.state = r.text("state");
            if (x.file.empty() && !r.failed()) r.fail("file", i18n::text({"must not be empty", "不能为空"}));
            if (!x.sha256.empty() && !r.failed() &&
                (x.sha256.size() != 64 || x.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)) {
                r.fail("sha256",
                       i18n::text({"must be 64 lower-case hex digits or empty", "必须是 64 位小写十六进制或为空"}));
            }
            static constexpr std::string_view states[] = {"recorded", "interrupted", "uploaded", "removed"};
            if (std::find(std::begin(states), std::end(states), x.state) == std::end(states) && !r.failed()) {
                r.fail("state", i18n::text({"must be recorded, interrupted, uploaded or removed",
                                            "必须是 recorded、interrupted、uploaded 或 removed"}));
            }
            return x;
        }
        case kind::readiness: {
            readiness x;
            x.day = r.text("day");
            bool date = x.day.size() == 10 && x.day[4] == '-' && x.day[7] == '-';
            for (size_t i = 0; date && i < 10; ++i)
                date = i == 4 || i == 7 || (x.day[i] >= '0' && x.day[i] <= '9');
            if (!date && !r.failed()) r.fail("day", i18n::text({"must be a date YYYY-MM-DD", "必须是日期 YYYY-MM-DD"}));
            x.lessons = r.integer("lessons", 0, 1000);
            x.resources = r.integer("resources", 0, 100000);
            x.ready = r.integer("ready", 0, 100000);
            if (x.ready > x.resources && !r.failed()) {
                r.fail("ready", i18n::text({"is more than resources", "大于 resources"}));
            }
            if (const auto* missing = r.array("missing", max_missing)) {
                for (const auto& m : *missing) {
                    if (!m.is_string() || m.as_string().empty() || m.as_string().size() > max_text) {
                        r.fail("missing", i18n::text({"must hold short non-empty strings", "必须是非空短字符串"}));
                        break;
                    }
                    x.missing.emplace_back(m.as_string());
                }
            }
            return x;
        }
    }
    return event{};
}

result<message> message_at(const json::value& v, const std::string& path) {
    std::optional<error> problem;
    if (!v.is_object()) {
        return error(county_errc::malformed,
                     i18n::format({"county message: {}: must be an object", "县级平台消息：{}：必须是对象"}, path));
    }
    const auto& o = v.as_object();
    reader r(o, path, problem);
    message m;
    m.seq = r.integer("seq", 1, max_seq);
    m.at_us = r.integer("at_us", 0, max_time_us);
    std::string k = r.text("kind");
    const auto* b = r.object("body");
    if (problem) return *problem;
    auto parsed = kind_from(k);
    if (!parsed) {
        r.fail("kind", i18n::format({"\"{}\" is not a message kind", "“{}”不是消息类型"}, k));
        return *problem;
    }
    reader br(*b, r.path("body"), problem);
    m.content = body_from(*parsed, br);
    if (problem) return *problem;
    return m;
}

}  // namespace

const std::error_category& county_category() noexcept {
    static const county_category_impl c;
    return c;
}
std::error_code make_error_code(county_errc e) noexcept { return {static_cast<int>(e), county_category()}; }

std::string_view to_string(kind k) noexcept { return kind_names[static_cast<size_t>(k)]; }

std::string_view to_string(device_kind k) noexcept { return device_kind_names[static_cast<size_t>(k)]; }

std::optional<device_kind> device_kind_from(std::string_view s) noexcept {
    for (size_t i = 0; i < device_kind_names.size(); ++i) {
        if (device_kind_names[i] == s) return static_cast<device_kind>(i);
    }
    return std::nullopt;
}

i18n::msg display_name(device_kind k) noexcept { return device_kind_texts[static_cast<size_t>(k)]; }

std::string_view to_string(projector_state s) noexcept { return projector_state_names[static_cast<size_t>(s)]; }

std::optional<kind> kind_from(std::string_view s) noexcept {
    for (size_t i = 0; i < kind_names.size(); ++i) {
        if (kind_names[i] == s) return static_cast<kind>(i);
    }
    return std::nullopt;
}

bool is_priority(kind k) noexcept { return k == kind::event || k == kind::alert || k == kind::command_result; }

json::object to_json(const message& m) {
    return {{"seq", m.seq}, {"at_us", m.at_us}, {"kind", to_string(m.kind_of())}, {"body", body_json(m.content)}};
}

result<message> message_from_json(const json::value& v) { return message_at(v, "message"); }

std::string encode(const batch& b) {
    json::array messages;
    for (const auto& m : b.messages)
        messages.push_back(to_json(m));
    return json_text::serialize(json::object{{"protocol", protocol_version},
                                             {"device_id", b.device_id},
                                             {"agent_version", b.agent_version},
                                             {"messages", std::move(messages)}});
}

result<batch> decode_batch(std::string_view text) {
    auto v = parse_versioned(text);
    if (!v) return v.error();
    const auto& o = v->as_object();
    std::optional<error> problem;
    reader r(o, "", problem);
    batch b;
    b.device_id = r.text("device_id");
    b.agent_version = r.text("agent_version");
    const auto* messages = r.array("messages", max_batch_messages);
    if (problem) return *problem;
    if (b.device_id.empty()) {
        return error(county_errc::malformed,
                     i18n::text({"county message: device_id: must not be empty", "县级平台消息：device_id：不能为空"}));
    }
    for (size_t i = 0; i < messages->size(); ++i) {
        auto m = message_at((*messages)[i], "messages[" + std::to_string(i) + "]");
        if (!m) return m.error();
        b.messages.push_back(std::move(*m));
    }
    return b;
}

json::object to_json(const command& c) {
    return {{"id", c.id},
            {"verb", c.verb},
            {"args", c.args},
            {"device_id", c.device_id},
            {"expires_us", c.expires_us},
            {"nonce", c.nonce},
            {"signature", c.signature}};
}

result<command> command_from_json(const json::value& v) {
    if (!v.is_object()) {
        return error(county_errc::malformed,
                     i18n::text({"county message: command: must be an object", "县级平台消息：command：必须是对象"}));
    }
    std::optional<error> problem;
    reader r(v.as_object(), "command", problem);
    command c;
    c.id = r.text("id");
    c.verb = r.text("verb");
    if (const auto* a = r.object("args")) c.args = *a;
    c.device_id = r.text("device_id");
    c.expires_us = r.integer("expires_us", 0, max_time_us);
    c.nonce = r.text("nonce");
    c.signature = r.text("signature");
    if (problem) return *problem;
    if (json::serialize(c.args).size() > 4 * max_text) {
        return error(county_errc::too_large,
                     i18n::text({"county message: command.args: too large", "县级平台消息：command.args：过大"}));
    }
    return c;
}

std::string signing_input(const command& c) {
    // A fixed order of fixed fields; args as Boost.JSON serialises them
    // (object members in their order of arrival, which the signer fixes).
    return json::serialize(json::array{"bbt-command-v1", c.id, c.verb, c.args, c.device_id, c.expires_us, c.nonce});
}

std::string encode(const reply& r) {
    json::array acked;
    for (const auto& [from, to] : r.acked)
        acked.push_back(json::array{from, to});
    json::array commands;
    for (const auto& c : r.commands)
        commands.push_back(to_json(c));
    json::object o{{"protocol", protocol_version}, {"acked", std::move(acked)}, {"commands", std::move(commands)}};
    if (r.retry_after_s) o["retry_after_s"] = *r.retry_after_s;
    if (r.now_us) o["now_us"] = *r.now_us;
    return json_text::serialize(o);
}

result<reply> decode_reply(std::string_view text) {
    auto v = parse_versioned(text);
    if (!v) return v.error();
    const auto& o = v->as_object();
    std::optional<error> problem;
    reader rd(o, "", problem);
    reply out;
    const auto* acked = rd.array("acked", max_batch_messages);
    const auto* commands = rd.array("commands", 64);
    if (o.contains("retry_after_s")) out.retry_after_s = rd.integer("retry_after_s", 0, 86'400);
    if (o.contains("now_us")) out.now_us = rd.integer("now_us", 0, max_time_us);
    if (problem) return *problem;
    for (const auto& range : *acked) {
        if (!range.is_array() || range.as_array().size() != 2 || !range.as_array()[0].is_int64() ||
            !range.as_array()[1].is_int64() || range.as_array()[0].as_int64() < 1 ||
            range.as_array()[1].as_int64() < range.as_array()[0].as_int64()) {
            return error(county_errc::malformed, i18n::text({"county message: acked: each entry must be [first, last] "
                                                             "with 1 <= first <= last",
                                                             "县级平台消息：acked：每项须为 [first, last] 且 1 <= "
                                                             "first <= last"}));
        }
        out.acked.emplace_back(range.as_array()[0].as_int64(), range.as_array()[1].as_int64());
    }
    for (const auto& c : *commands) {
        auto cmd = command_from_json(c);
        if (!cmd) return cmd.error();
        out.commands.push_back(std::move(*cmd));
    }
    return out;
}

}  // namespace bbt::protocol::county
