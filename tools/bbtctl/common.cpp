#include "common.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>

namespace bbtctl {

namespace i18n = bbt::i18n;
namespace json = boost::json;

int report(const bbt::error& e, const options& opt) {
    if (opt.json) {
        fmt::print("{}\n", json::serialize(json::object{
                               {"error", json::object{{"code", e.code().message()}, {"message", e.what()}}}}));
    } else {
        fmt::print(stderr, "bbtctl: {}\n", e.what());
    }
    if (e.code() == client_errc::not_running) return exit_not_running;
    if (e.code() == client_errc::forbidden || e.code() == client_errc::no_access) return exit_forbidden;
    if (e.code() == client_errc::timeout || e.code() == client_errc::protocol) return exit_no_answer;
    return exit_failed;
}

bbt::result<json::object> request(const options& opt, const std::string& method, json::object params,
                                  std::chrono::milliseconds timeout) {
    auto resp = call(opt.socket, {1, method, std::move(params)}, timeout);
    if (!resp) return resp.error();
    if (resp->error_code) return bbt::error(client_errc::failed, resp->error_message, opt.socket.string());
    if (!resp->result || !resp->result->is_object()) {
        return bbt::error(client_errc::protocol,
                          i18n::text({"the agent's answer is not an object", "代理程序的应答不是对象"}));
    }
    return resp->result->as_object();
}

int run_request(const options& opt, const std::string& method, json::object params,
                void (*print)(const json::object&)) {
    auto r = request(opt, method, std::move(params), opt.timeout);
    if (!r) return report(r.error(), opt);
    if (opt.json) {
        fmt::print("{}\n", json::serialize(*r));
    } else {
        print(*r);
    }
    return exit_ok;
}

std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

double num(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return 0;
    if (v->is_double()) return v->as_double();
    if (v->is_int64()) return static_cast<double>(v->as_int64());
    if (v->is_uint64()) return static_cast<double>(v->as_uint64());
    return 0;
}

bool flag(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_bool() && v->as_bool();
}

}  // namespace bbtctl
