#include "county.hpp"

#include "bbt/base/i18n.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

namespace bbtctl {
namespace {

namespace i18n = bbt::i18n;
namespace json = boost::json;

void print_status(const json::object& o) {
    if (!flag(o, "configured")) {
        fmt::print("{}\n", i18n::text({"county: not configured (county.url in agent.toml); reports wait here",
                                       "县级平台：未配置（agent.toml 中的 county.url）；上报在本机排队"}));
    } else if (!flag(o, "enrolled")) {
        fmt::print("{}\n", i18n::format({"county: {} — not enrolled yet: bbtctl county enrol CODE",
                                         "县级平台：{} —— 尚未注册：bbtctl county enrol 注册码"},
                                        str(o, "url")));
    } else {
        fmt::print("{}\n",
                   i18n::format({"county: {} as {}", "县级平台：{}，设备标识 {}"}, str(o, "url"), str(o, "device_id")));
    }
    fmt::print("  {:<14} {}\n", i18n::text({"waiting:", "待发送："}),
               i18n::format({"{} reports ({} KB){}", "{} 条（{} KB）{}"}, num(o, "queue_depth"),
                            static_cast<int64_t>(num(o, "queue_bytes") / 1024),
                            str(o, "oldest_waiting").empty()
                                ? std::string()
                                : i18n::format({", the oldest from {}", "，最早的来自 {}"}, str(o, "oldest_waiting"))));
    fmt::print("  {:<14} {}\n", i18n::text({"delivered:", "已送达："}), num(o, "delivered"));
    fmt::print("  {:<14} {}\n", i18n::text({"last success:", "最近成功："}),
               str(o, "last_success").empty() ? i18n::text({"never since the agent started", "代理程序启动以来尚无"})
                                              : str(o, "last_success"));
    if (!str(o, "last_error").empty()) {
        fmt::print("  {:<14} {}\n", i18n::text({"last error:", "最近错误："}), str(o, "last_error"));
        fmt::print("  {:<14} {}\n", i18n::text({"next attempt:", "下次尝试："}), str(o, "next_attempt"));
    }
    if (!str(o, "certificate_expires").empty()) {
        fmt::print("  {:<14} {}\n", i18n::text({"certificate:", "证书："}),
                   flag(o, "certificate_expired")
                       ? i18n::format({"expired {}: re-enrol with a code from the county (bbtctl county enrol CODE)",
                                       "已于 {} 过期：请用县级平台的注册码重新注册（bbtctl county enrol 注册码）"},
                                      str(o, "certificate_expires"))
                       : i18n::format({"valid until {}, renewed from {}", "有效期至 {}，自 {} 起自动续期"},
                                      str(o, "certificate_expires"), str(o, "renew_at")));
    }
    if (!str(o, "renewal_error").empty()) {
        fmt::print("  {:<14} {}\n", i18n::text({"renewal:", "续期："}), str(o, "renewal_error"));
    }
}

}  // namespace

int run_county(const options& opt) {
    std::string_view cmd = opt.args.size() > 1 ? opt.args[1] : "status";
    if (cmd == "status" && opt.args.size() <= 2) return run_request(opt, "county.status", {}, print_status);
    if (cmd == "enrol" && (opt.args.size() == 2 || opt.args.size() == 3)) {
        // The code from standard input (typed at a prompt, or piped) keeps it
        // out of the process list and the shell's history; as an argument it
        // still works.
        std::string code = opt.args.size() == 3 ? std::string(opt.args[2]) : "-";
        if (code == "-") {
            if (::isatty(STDIN_FILENO)) {
                fmt::print(stderr, "{}", i18n::text({"enrolment code: ", "注册码："}));
            }
            code.clear();
            std::getline(std::cin, code);
            while (!code.empty() && (code.back() == '\r' || code.back() == ' '))
                code.pop_back();
        }
        auto r = request(opt, "county.enrol", {{"code", code}}, opt.timeout * 6);
        if (!r) return report(r.error(), opt);
        if (opt.json) {
            fmt::print("{}\n", json::serialize(*r));
        } else {
            fmt::print("{}\n", i18n::format({"enrolled with the county as {}", "已在县级平台注册，设备标识 {}"},
                                            str(*r, "device_id")));
        }
        return exit_ok;
    }
    fmt::print(
        stderr, "bbtctl: {}\n",
        i18n::text({"usage: bbtctl county enrol [CODE|-] (without CODE: read from standard input) | bbtctl "
                    "county status",
                    "用法：bbtctl county enrol [注册码|-]（不给注册码则从标准输入读取）| bbtctl county status"}));
    return exit_usage;
}

}  // namespace bbtctl
