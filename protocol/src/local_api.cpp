#include "bbt/protocol/local_api.hpp"

#include "bbt/protocol/json_text.hpp"

#include "bbt/base/i18n.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cmath>

namespace bbt::protocol {
namespace {

constexpr std::array<std::pair<api_errc, std::string_view>, 7> names = {{
    {api_errc::malformed, "malformed"},
    {api_errc::unknown_method, "unknown_method"},
    {api_errc::forbidden, "forbidden"},
    {api_errc::internal, "internal"},
    {api_errc::too_large, "too_large"},
    {api_errc::unavailable, "unavailable"},
    {api_errc::refused, "refused"},
}};

class api_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.local_api"; }
    std::string message(int ev) const override { return std::string(wire_name(static_cast<api_errc>(ev))); }
};

error malformed(std::string_view what) {
    return error(api_errc::malformed,
                 i18n::format({"malformed local API message: {}", "本地接口消息格式错误：{}"}, what));
}

// Boost.JSON reads a literal beyond a double's range (1e999) as infinity, and
// would write it back out as "Infinity", which is not JSON: such a number is
// refused where it comes in.
bool all_finite(const boost::json::value& v) {
    if (v.is_double()) return std::isfinite(v.get_double());
    if (v.is_array()) return std::all_of(v.get_array().begin(), v.get_array().end(), all_finite);
    if (v.is_object()) {
        return std::all_of(v.get_object().begin(), v.get_object().end(),
                           [](const boost::json::key_value_pair& kv) { return all_finite(kv.value()); });
    }
    return true;
}

result<boost::json::object> parse_object(std::string_view line) {
    if (line.size() > max_line_bytes) {
        return error(api_errc::too_large, i18n::format({"local API message of {} bytes exceeds the limit of {}",
                                                        "本地接口消息长度 {} 字节，超过上限 {}"},
                                                       line.size(), max_line_bytes));
    }
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (ec) return malformed(ec.message());
    if (!all_finite(v)) {
        return malformed(i18n::text({"a number is too large (beyond 1.7e308)", "数值过大（超过 1.7e308）"}));
    }
    if (!v.is_object()) return malformed(i18n::text({"not a JSON object", "不是 JSON 对象"}));
    return std::move(v.as_object());
}

result<int64_t> parse_id(const boost::json::object& o) {
    const auto* id = o.if_contains("id");
    if (id == nullptr) return 0;
    if (!id->is_int64()) return malformed(i18n::text({"\"id\" must be an integer", "“id”必须是整数"}));
    return id->as_int64();
}

bool valid_method(std::string_view m) {
    return !m.empty() && m.size() <= 64 && std::all_of(m.begin(), m.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    });
}

}  // namespace

const std::error_category& api_category() noexcept {
    static const api_category_impl c;
    return c;
}

std::error_code make_error_code(api_errc e) noexcept { return {static_cast<int>(e), api_category()}; }

std::string_view wire_name(api_errc e) noexcept {
    for (const auto& [code, name] : names) {
        if (code == e) return name;
    }
    return "internal";
}

std::optional<api_errc> from_wire_name(std::string_view name) noexcept {
    for (const auto& [code, n] : names) {
        if (n == name) return code;
    }
    return std::nullopt;
}

result<request> parse_request(std::string_view line) {
    auto o = parse_object(line);
    if (!o) return o.error();
    request r;
    auto id = parse_id(*o);
    if (!id) return id.error();
    r.id = *id;
    const auto* method = o->if_contains("method");
    if (method == nullptr || !method->is_string() || !valid_method(method->as_string())) {
        return malformed(i18n::text({"\"method\" must be a name of lower-case letters, digits, '.', '_' or '-'",
                                     "“method”必须是由小写字母、数字、“.”、“_”或“-”组成的名称"}));
    }
    r.method = std::string(method->as_string());
    if (const auto* params = o->if_contains("params"); params != nullptr) {
        if (!params->is_object()) return malformed(i18n::text({"\"params\" must be an object", "“params”必须是对象"}));
        r.params = params->as_object();
    }
    for (const auto& [key, value] : *o) {
        if (key != "id" && key != "method" && key != "params") {
            return malformed(i18n::format({"unknown field \"{}\"", "未知字段“{}”"}, std::string_view(key)));
        }
    }
    return r;
}

result<response> parse_response(std::string_view line) {
    auto o = parse_object(line);
    if (!o) return o.error();
    response r;
    auto id = parse_id(*o);
    if (!id) return id.error();
    r.id = *id;
    const auto* res = o->if_contains("result");
    const auto* err = o->if_contains("error");
    if ((res == nullptr) == (err == nullptr)) {
        return malformed(i18n::text(
            {"a response needs exactly one of \"result\" and \"error\"", "响应必须且只能包含“result”或“error”之一"}));
    }
    if (res != nullptr) {
        r.result = *res;
        return r;
    }
    if (!err->is_object()) return malformed(i18n::text({"\"error\" must be an object", "“error”必须是对象"}));
    const auto& eo = err->as_object();
    const auto* code = eo.if_contains("code");
    const auto* message = eo.if_contains("message");
    if (code == nullptr || !code->is_string() || message == nullptr || !message->is_string()) {
        return malformed(i18n::text(
            {"\"error\" needs string fields \"code\" and \"message\"", "“error”需要字符串字段“code”和“message”"}));
    }
    // An unknown code from a newer agent is still an error, just not a known one.
    r.error_code = from_wire_name(code->as_string()).value_or(api_errc::internal);
    r.error_message = std::string(message->as_string());
    return r;
}

std::string serialize(const request& r) {
    boost::json::object o;
    o["id"] = r.id;
    o["method"] = r.method;
    if (!r.params.empty()) o["params"] = r.params;
    return json_text::serialize(o);
}

std::string serialize(const response& r) {
    boost::json::object o;
    o["id"] = r.id;
    if (r.error_code) {
        o["error"] = boost::json::object{{"code", wire_name(*r.error_code)}, {"message", r.error_message}};
    } else {
        o["result"] = r.result.value_or(boost::json::value());
    }
    return json_text::serialize(o);
}

}  // namespace bbt::protocol
