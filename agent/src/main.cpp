// bbt-agent: the classroom set's daemon.
#include "bbt/agent/config.hpp"
#include "bbt/agent/daemon.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/versions.hpp"
#include "bbt/board/profile.hpp"
#include "bbt/drivers/versions.hpp"
#include "bbt/media/versions.hpp"
#include "bbt/protocol/versions.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

using namespace bbt;
namespace i18n = bbt::i18n;

const log::category lg{"agent"};

void print_usage(std::FILE* out) {
    fmt::print(out, "{}",
               i18n::text({"Usage: bbt-agent [--config FILE] [--state-dir DIR] [--check-config] [--version] [--help]\n"
                           "\n"
                           "Runs the classroom set's agent: whiteboard, projector, courseware, recording,\n"
                           "usage ledger and the county link.\n"
                           "\n"
                           "  --config FILE     configuration file (default /etc/bbt/agent.toml)\n"
                           "  --state-dir DIR   where the agent keeps its databases (overrides agent.state_dir)\n"
                           "  --check-config    check the configuration, print every problem, and exit\n"
                           "  --version         print the versions of bbt and of the libraries it uses\n"
                           "  --help            print this help\n"
                           "\n"
                           "Log levels come from BBT_LOG, e.g. BBT_LOG=debug or BBT_LOG=info,ledger=debug.\n",
                           "用法：bbt-agent [--config 文件] [--state-dir 目录] [--check-config] [--version] [--help]\n"
                           "\n"
                           "运行班班通设备的代理程序：白板、投影机、课件、录课、使用台账以及与县级平台的连接。\n"
                           "\n"
                           "  --config 文件     配置文件（默认 /etc/bbt/agent.toml）\n"
                           "  --state-dir 目录  代理程序保存数据库的位置（覆盖 agent.state_dir）\n"
                           "  --check-config    检查配置，列出所有问题后退出\n"
                           "  --version         显示 bbt 及其所用库的版本\n"
                           "  --help            显示本帮助\n"
                           "\n"
                           "日志级别由 BBT_LOG 指定，例如 BBT_LOG=debug 或 BBT_LOG=info,ledger=debug。\n"}));
}

void print_versions() {
    fmt::print("bbt-agent {}\n", bbt_version());
    std::vector<library_version> all = base_library_versions();
    for (auto* part : {&drivers::library_versions, &media::library_versions, &protocol::library_versions}) {
        auto more = part();
        all.insert(all.end(), more.begin(), more.end());
    }
    fmt::print("{:<12} {:<16} {}\n", i18n::text({"library", "库"}), i18n::text({"built with", "编译时"}),
               i18n::text({"loaded", "运行时"}));
    for (const auto& v : all) {
        fmt::print("{:<12} {:<16} {}\n", v.name, v.built, v.loaded.empty() ? "-" : v.loaded);
    }
}

}  // namespace

int main(int argc, char** argv) {
    i18n::set(i18n::from_environment());
    log::configure_from_environment();

    const char* config_path = nullptr;
    const char* state_dir = nullptr;
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if ((arg == "--config" || arg == "--state-dir") && i + 1 < argc) {
            (arg == "--config" ? config_path : state_dir) = argv[++i];
        } else if (arg == "--check-config") {
            check_only = true;
        } else if (arg == "--version") {
            print_versions();
            return agent::exit_ok;
        } else if (arg == "--help" || arg == "-h") {
            print_usage(stdout);
            return agent::exit_ok;
        } else {
            fmt::print(stderr, "{}",
                       i18n::format({"bbt-agent: unknown or incomplete option \"{}\"\n\n",
                                     "bbt-agent：未知或不完整的选项“{}”\n\n"},
                                    arg));
            print_usage(stderr);
            return agent::exit_usage;
        }
    }

    agent::agent_config config;
    std::string source = config_path ? config_path : agent::default_config_path;
    bool exists = std::filesystem::exists(source);
    if (config_path != nullptr || exists) {
        auto loaded = agent::load_agent_config(source);
        if (!loaded) {
            fmt::print(stderr, "{}\n", loaded.error().what());
            if (check_only) {
                fmt::print(stderr, "{}",
                           i18n::text({"The configuration has problems; nothing was started.\n",
                                       "配置有问题；未启动任何服务。\n"}));
            }
            return agent::exit_config;
        }
        config = std::move(*loaded);
    } else {
        log::notice(lg, "no {} found; running with the built-in defaults (board profile \"sim\")", source);
    }
    if (state_dir != nullptr) config.state_dir = state_dir;
    agent::resolve_environment_defaults(config);
    if (std::getenv("BBT_LOG") == nullptr) {
        (void)log::configure(config.log_level);  // validated by the parser
    }

    if (auto profile = board::find_profile(config.board); !profile) {
        fmt::print(stderr, "{}: agent.board: {}\n", source, profile.error().what());
        return agent::exit_config;
    }
    if (check_only) {
        fmt::print("{}", i18n::format({"{}: configuration is valid (board {}, state in {}, API socket {})\n",
                                       "{}：配置有效（板卡 {}，状态目录 {}，接口套接字 {}）\n"},
                                      exists || config_path ? source : "(built-in defaults)", config.board,
                                      config.state_dir.string(), config.socket.string()));
        return agent::exit_ok;
    }
    return agent::run_daemon(config);
}
