// bbt-county: the county's equipment inventory service. Agents enrol with a
// one-time code and then report over mutual TLS; the asset office reads it.
#include "accounts.hpp"
#include "server.hpp"
#include "store.hpp"
#include "web.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/config.hpp"
#include "bbt/base/file.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/base/versions.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <iostream>
#include <random>

namespace {

namespace i18n = bbt::i18n;
namespace asio = boost::asio;
const bbt::log::category lg{"county"};

struct county_config {
    std::string listen = "127.0.0.1";
    int64_t port = 8443;
    std::filesystem::path database = "/var/lib/bbt-county/county.db";
    std::filesystem::path pki = "/etc/bbt-county/pki";
    std::filesystem::path recordings;  // empty: "recordings" beside the database
    int64_t max_recording_mb = 64 * 1024;
    int64_t set_quota_mb = 128 * 1024;  // a set's unfinished uploads together
    int64_t min_free_mb = 1024;         // kept free on the recordings' disk
    int64_t keep_reports_days = 400;    // raw reports; 0: forever
    int64_t read_timeout_s = 30;
    std::chrono::milliseconds certificate_lifetime{std::chrono::hours(24 * 365)};  // a set's certificate
    std::string dashboard_listen = "127.0.0.1";
    int64_t dashboard_port = 8080;
    std::vector<std::string> dashboard_hosts;  // names it is reached by, beyond loopback's
    bbt::county::dashboard_options dashboard;
};

// "HH:MM" as minutes after midnight, or -1.
int minutes_of(std::string_view hhmm) {
    int h = 0, m = 0;
    char colon = 0;
    if (hhmm.size() != 5 || std::sscanf(std::string(hhmm).c_str(), "%2d%c%2d", &h, &colon, &m) != 3 || colon != ':' ||
        h < 0 || h > 24 || m < 0 || m > 59 || h * 60 + m > 24 * 60) {
        return -1;
    }
    return h * 60 + m;
}

bbt::result<county_config> load_config(const std::filesystem::path& path) {
    auto text = bbt::read_file(path);
    if (!text) return text.error();
    auto doc = bbt::config::document::parse(*text, path.string());
    if (!doc) return doc.error();
    county_config c;
    auto root = doc->root();
    auto server = root.table("server");
    server.get("listen", c.listen).get("port", c.port, 0, 65535).get("read_timeout", c.read_timeout_s, 1, 3600);
    server.finish();
    auto storage = root.table("storage");
    std::string db = c.database.string(), pki = c.pki.string();
    std::string recordings;
    storage.get("database", db).get("recordings", recordings);
    storage.get("max_recording_mb", c.max_recording_mb, 1, int64_t{1} << 30)
        .get("set_quota_mb", c.set_quota_mb, 1, int64_t{1} << 40)
        .get("min_free_mb", c.min_free_mb, 0, int64_t{1} << 30)
        .get("keep_reports_days", c.keep_reports_days, 0, 36500);
    storage.finish();
    auto p = root.table("pki");
    p.get("dir", pki).get_seconds("certificate_lifetime", c.certificate_lifetime, 30, 10.0 * 365 * 86400);
    p.finish();
    auto dash = root.table("dashboard");
    int64_t online_s = c.dashboard.online_window.count(), stale_days = c.dashboard.stale_days;
    double lamp_due_percent = c.dashboard.lamp_due_fraction * 100;
    std::string school_start = "08:00", school_end = "17:00";
    dash.get("listen", c.dashboard_listen)
        .get("port", c.dashboard_port, 0, 65535)
        .get("hosts", c.dashboard_hosts)
        .get("online_window", online_s, 30, 86400)
        .get("not_seen_days", stale_days, 1, 365)
        .get("school_day_start", school_start)
        .get("school_day_end", school_end)
        .get("lamp_due_percent", lamp_due_percent, 10.0, 100.0);
    dash.finish();
    root.finish();
    if (auto r = doc->outcome(); !r) return r.error();
    c.dashboard.online_window = std::chrono::seconds(online_s);
    c.dashboard.stale_days = static_cast<int>(stale_days);
    c.dashboard.lamp_due_fraction = lamp_due_percent / 100;
    c.dashboard.school_day_start_min = minutes_of(school_start);
    c.dashboard.school_day_end_min = minutes_of(school_end);
    if (c.dashboard.school_day_start_min < 0 || c.dashboard.school_day_end_min <= c.dashboard.school_day_start_min) {
        return bbt::error(std::make_error_code(std::errc::invalid_argument),
                          i18n::format({"{}: [dashboard] school_day_start and school_day_end must be times of day "
                                        "as HH:MM, the start before the end (they are \"{}\" and \"{}\")",
                                        "{}：[dashboard] school_day_start 和 school_day_end 须为 HH:MM 格式的时刻，"
                                        "且开始早于结束（现为“{}”和“{}”）"},
                                       path.string(), school_start, school_end));
    }
    c.database = db;
    c.pki = pki;
    c.recordings = recordings.empty() ? c.database.parent_path() / "recordings" : std::filesystem::path(recordings);
    return c;
}

void usage(std::FILE* out) {
    fmt::print(
        out, "{}",
        i18n::text(
            {"Usage:\n"
             "  bbt-county init --pki DIR [--host NAME]... [--force]\n"
             "                                               make the county CA, the server's certificate\n"
             "                                               for NAME(s) and the command key; --force\n"
             "                                               replaces existing ones (kept in DIR/backup-TIME)\n"
             "  bbt-county serve --config FILE               run the service\n"
             "  bbt-county code --config FILE --school S --classroom C [--hours N]\n"
             "                                               a one-time enrolment code for a classroom\n"
             "  bbt-county retire --config FILE --device ID   refuse a set from now on (its history is kept)\n"
             "  bbt-county replace --config FILE --device ID [--hours N]\n"
             "                                               retire a set and print a code for the set that\n"
             "                                               takes its classroom\n"
             "  bbt-county account add|password|remove|link|list --config FILE [--name NAME] [--school S]\n"
             "                                               dashboard accounts; passwords are read from\n"
             "                                               standard input; link prints a one-time sign-in\n"
             "                                               address\n"
             "  bbt-county command --config FILE --device ID --verb VERB [--args JSON] [--minutes N]\n"
             "                                               queue a command for a classroom's set\n"
             "  bbt-county catalogue --config FILE --file CATALOGUE.json\n"
             "                                               publish the courseware catalogue\n"
             "  bbt-county timetable --config FILE --school S --classroom C --file TIMETABLE.ics\n"
             "                                               publish a classroom's timetable (iCalendar)\n",
             "用法：\n"
             "  bbt-county init --pki 目录 [--host 名称]... [--force]\n"
             "                                               生成县级 CA、服务器证书和命令签名密钥；--force\n"
             "                                               替换已有密钥（旧密钥保存在 目录/backup-时间）\n"
             "  bbt-county serve --config 文件               运行服务\n"
             "  bbt-county code --config 文件 --school 学校 --classroom 教室 [--hours 小时]\n"
             "                                               为教室生成一次性注册码\n"
             "  bbt-county retire --config 文件 --device 设备     从此拒绝该设备（保留其历史）\n"
             "  bbt-county replace --config 文件 --device 设备 [--hours 小时]\n"
             "                                               停用设备，并为接替它的设备打印该教室的注册码\n"
             "  bbt-county account add|password|remove|link|list --config 文件 [--name 名称] [--school 学校]\n"
             "                                               看板账号；密码从标准输入读取；link 打印一次性登录地址\n"
             "  bbt-county command --config 文件 --device 设备 --verb 命令 [--args JSON] [--minutes 分钟]\n"
             "                                               为教室设备排队一条命令\n"
             "  bbt-county catalogue --config 文件 --file 目录.json\n"
             "                                               发布课件目录\n"
             "  bbt-county timetable --config 文件 --school 学校 --classroom 教室 --file 课表.ics\n"
             "                                               发布教室课表（iCalendar）\n"}));
}

std::string arg(const std::vector<std::string>& args, std::string_view name, std::string fallback = {}) {
    for (size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == name) return args[i + 1];
    }
    return fallback;
}

int fail(const bbt::error& e) {
    fmt::print(stderr, "bbt-county: {}\n", e.what());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    i18n::set(i18n::from_environment());
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        usage(args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        fmt::print("bbt-county {}\n", bbt::bbt_version());
        return 0;
    }
    const std::string& cmd = args[0];
    if (cmd == "init") {
        std::string dir = arg(args, "--pki");
        if (dir.empty()) return usage(stderr), 2;
        std::vector<std::string> hosts;
        for (size_t i = 0; i + 1 < args.size(); ++i) {
            if (args[i] == "--host") hosts.push_back(args[i + 1]);
        }
        if (hosts.empty()) hosts = {"localhost"};
        // Made again, every enrolled set would distrust the county: only on
        // purpose, and with the old keys kept beside.
        std::error_code ec;
        if (std::filesystem::exists(std::filesystem::path(dir) / "ca.key", ec)) {
            if (std::find(args.begin(), args.end(), "--force") == args.end()) {
                fmt::print(
                    stderr, "{}\n",
                    i18n::format({"bbt-county: {} already holds the county's keys; made again, every enrolled "
                                  "set would stop trusting the county. Give --force to replace them (the old "
                                  "ones are kept in {}/backup-TIME)",
                                  "bbt-county：{} 中已有县级平台密钥；重新生成后所有已注册设备将不再信任县级平台。"
                                  "如确需替换请加 --force（旧密钥保存在 {}/backup-时间）"},
                                 dir, dir));
                return 1;
            }
            auto backup =
                std::filesystem::path(dir) / fmt::format("backup-{}", bbt::clock::wall_now().count() / 1'000'000);
            std::filesystem::create_directories(backup, ec);
            for (const char* name : {"ca.pem", "ca.key", "server.pem", "server.key", "command.key"}) {
                if (std::filesystem::exists(std::filesystem::path(dir) / name, ec)) {
                    std::filesystem::copy_file(std::filesystem::path(dir) / name, backup / name,
                                               std::filesystem::copy_options::overwrite_existing, ec);
                    if (ec)
                        return fail(
                            bbt::errno_error(ec.value(), "backing up the county's keys", (backup / name).string()));
                }
            }
            fmt::print("{}\n", i18n::format({"the old keys are kept in {}", "旧密钥已保存在 {}"}, backup.string()));
        }
        auto p = bbt::county::pki_files::create(dir, hosts);
        if (!p) return fail(p.error());
        fmt::print("{}\n", i18n::format({"made the county CA, the server certificate and the command key in {}; "
                                         "install {}/ca.pem on every set",
                                         "已在 {} 生成县级 CA、服务器证书和命令签名密钥；请在每台设备上安装 {}/ca.pem"},
                                        dir, dir));
        return 0;
    }
    std::string config_path = arg(args, "--config", "/etc/bbt/county.toml");
    auto cfg = load_config(config_path);
    if (!cfg) return fail(cfg.error());
    auto db = bbt::county::store::open(cfg->database);
    if (!db) return fail(db.error());
    if (cmd == "code") {
        std::string school = arg(args, "--school"), classroom = arg(args, "--classroom");
        if (school.empty() || classroom.empty()) return usage(stderr), 2;
        int64_t hours = std::atoll(arg(args, "--hours", "24").c_str());
        if (hours < 1 || hours > 24 * 30) return usage(stderr), 2;
        auto code = db->new_code(school, classroom, bbt::clock::wall_now().count() + hours * 3'600'000'000LL);
        if (!code) return fail(code.error());
        fmt::print("{}\n", *code);
        return 0;
    }
    if (cmd == "retire" || cmd == "replace") {
        std::string device = arg(args, "--device");
        int64_t hours = std::atoll(arg(args, "--hours", "24").c_str());
        if (device.empty() || hours < 1 || hours > 24 * 30) return usage(stderr), 2;
        int64_t now = bbt::clock::wall_now().count();
        auto place = db->retire(device, now);
        if (!place) return fail(place.error());
        fmt::print(stderr, "{}\n",
                   place->was_retired
                       ? i18n::format({"{} was retired already", "{} 此前已停用"}, device)
                       : i18n::format({"retired {}: its certificates are refused from now on; its history stays",
                                       "已停用 {}：从此拒绝其证书；其历史记录保留"},
                                      device));
        if (cmd == "replace") {
            auto code = db->new_code(place->school, place->classroom, now + hours * 3'600'000'000LL);
            if (!code) return fail(code.error());
            fmt::print(stderr, "{}\n",
                       i18n::format({"the set that takes {} {} enrols with this code (valid {} h):",
                                     "接替 {} {} 的设备请用此注册码注册（{} 小时内有效）："},
                                    place->school, place->classroom, hours));
            fmt::print("{}\n", *code);
        }
        return 0;
    }
    if (cmd == "account") {
        std::string what = args.size() > 1 ? args[1] : "";
        std::string name = arg(args, "--name");
        auto& database = db->database();
        int64_t now = bbt::clock::wall_now().count();
        if (what == "list") {
            auto all = bbt::county::accounts(database);
            if (!all) return fail(all.error());
            for (const auto& a : *all) {
                fmt::print("{}\t{}\n", a.name,
                           a.school.empty() ? std::string(i18n::text({"(every school)", "（所有学校）"})) : a.school);
            }
            return 0;
        }
        if (name.empty()) return usage(stderr), 2;
        if (what == "add" || what == "password") {
            // From standard input (a pipe, or typed), never the command line.
            if (::isatty(STDIN_FILENO)) {
                fmt::print(stderr, "{}", i18n::format({"password for {}: ", "{} 的密码："}, name));
            }
            std::string password;
            if (!std::getline(std::cin, password)) return usage(stderr), 2;
            if (!password.empty() && password.back() == '\r') password.pop_back();
            auto r = what == "add" ? bbt::county::add_account(database, {name, arg(args, "--school")}, password, now)
                                   : bbt::county::set_password(database, name, password);
            if (!r) return fail(r.error());
            fmt::print(stderr, "{}\n",
                       what == "add" ? i18n::format({"added the account {}", "已添加账号 {}"}, name)
                                     : i18n::format({"changed the password of {}; its sessions ended",
                                                     "已修改 {} 的密码；其登录会话已结束"},
                                                    name));
            return 0;
        }
        if (what == "remove") {
            auto r = bbt::county::remove_account(database, name);
            if (!r) return fail(r.error());
            fmt::print(stderr, "{}\n",
                       *r ? i18n::format({"removed the account {}", "已删除账号 {}"}, name)
                          : i18n::format({"there was no account {}", "没有账号 {}"}, name));
            return *r ? 0 : 1;
        }
        if (what == "link") {
            int64_t minutes = std::atoll(arg(args, "--minutes", "30").c_str());
            if (minutes < 1 || minutes > 24 * 60) return usage(stderr), 2;
            auto token = bbt::county::make_sign_in_link(database, name, now, std::chrono::minutes(minutes));
            if (!token) return fail(token.error());
            fmt::print(stderr, "{}\n",
                       i18n::format({"a one-time sign-in for {}, valid {} minutes, at the dashboard's address:",
                                     "{} 的一次性登录地址（{} 分钟内有效），接在看板地址之后："},
                                    name, minutes));
            fmt::print("/login?token={}\n", *token);
            return 0;
        }
        return usage(stderr), 2;
    }
    if (cmd == "command") {
        std::string device = arg(args, "--device"), verb = arg(args, "--verb"), json_args = arg(args, "--args", "{}");
        boost::system::error_code ec;
        auto parsed = boost::json::parse(json_args, ec);
        if (device.empty() || verb.empty() || ec || !parsed.is_object()) return usage(stderr), 2;
        int64_t minutes = std::atoll(arg(args, "--minutes", "60").c_str());
        std::random_device rd;
        std::string id = fmt::format("c-{:08x}{:08x}", rd(), rd());
        auto r =
            db->queue_command({id, device, verb, json_args, bbt::clock::wall_now().count() + minutes * 60'000'000LL});
        if (!r) return fail(r.error());
        fmt::print("{}\n", id);
        return 0;
    }
    if (cmd == "catalogue" || cmd == "timetable") {
        std::string file = arg(args, "--file");
        std::string school = arg(args, "--school"), classroom = arg(args, "--classroom");
        if (file.empty() || (cmd == "timetable" && (school.empty() || classroom.empty()))) return usage(stderr), 2;
        auto text = bbt::read_file(file);
        if (!text) return fail(text.error());
        int64_t now = bbt::clock::wall_now().count();
        if (cmd == "catalogue") {
            auto n = db->publish_catalogue(*text, now);
            if (!n) return fail(n.error().with_context(file));
            fmt::print("{}\n",
                       i18n::format({"published the catalogue: {} resources", "已发布课件目录：{} 项资源"}, *n));
        } else {
            auto n = db->publish_timetable(school, classroom, *text, now);
            if (!n) return fail(n.error().with_context(file));
            fmt::print("{}\n", i18n::format({"published the timetable of {} {}: {} lessons in the coming year",
                                             "已发布 {} {} 的课表：未来一年共 {} 节课"},
                                            school, classroom, *n));
        }
        return 0;
    }
    if (cmd == "serve") {
        // One descriptor per connection: as many as the system lets this
        // process have (the unit's LimitNOFILE=), not the shell's default.
        if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
            nofile.rlim_cur = nofile.rlim_max;
            (void)::setrlimit(RLIMIT_NOFILE, &nofile);
        }
        // Under systemd the keys come as credentials (LoadCredential=), readable
        // by this service alone, wherever [pki] dir says they are kept.
        std::filesystem::path pki_dir = cfg->pki;
        std::error_code cec;
        if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY");
            creds && *creds && std::filesystem::exists(std::filesystem::path(creds) / "ca.key", cec)) {
            pki_dir = creds;
        }
        auto pki = bbt::county::pki_files::load(pki_dir);
        if (!pki) return fail(pki.error());
        asio::io_context ioc(1);
        bbt::county::server_options o;
        o.listen = cfg->listen;
        o.port = static_cast<uint16_t>(cfg->port);
        o.uploads.dir = cfg->recordings;
        o.uploads.max_bytes = cfg->max_recording_mb << 20;
        o.uploads.set_quota = cfg->set_quota_mb << 20;
        o.uploads.min_free = cfg->min_free_mb << 20;
        o.read_timeout = std::chrono::seconds(cfg->read_timeout_s);
        o.keep_reports = std::chrono::hours(24 * cfg->keep_reports_days);
        o.certificate_validity = std::chrono::duration_cast<std::chrono::seconds>(cfg->certificate_lifetime);
        bbt::county::server srv(ioc.get_executor(), *db, std::move(*pki), o);
        auto port = srv.start();
        if (!port) return fail(port.error());
        fmt::print(stderr, "<5>county: bbt-county {} listening on {}:{}\n", bbt::bbt_version(), o.listen, *port);
        bbt::county::web_options wo;
        wo.listen = cfg->dashboard_listen;
        wo.port = static_cast<uint16_t>(cfg->dashboard_port);
        wo.dashboard = cfg->dashboard;
        wo.hosts = cfg->dashboard_hosts;
        bbt::county::web_server web(cfg->database, wo);
        auto web_port = web.start();
        if (!web_port) return fail(web_port.error());
        asio::signal_set signals(ioc, SIGTERM, SIGINT);
        signals.async_wait([&](boost::system::error_code, int) {
            web.stop();
            srv.stop();
            ioc.stop();
        });
        ioc.run();
        return 0;
    }
    usage(stderr);
    return 2;
}
