#include "bbt/agent/config.hpp"

#include "bbt/base/config.hpp"
#include "bbt/base/i18n.hpp"
#include "bbt/base/log.hpp"
#include "bbt/drivers/projector/serial_protocol.hpp"
#include "bbt/drivers/whiteboard/mt_decoder.hpp"
#include "bbt/drivers/whiteboard/usb_boards.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bbt::agent {

result<agent_config> parse_agent_config(std::string_view text, std::string source) {
    auto doc = config::document::parse(text, std::move(source));
    if (!doc) return doc.error();

    agent_config c;
    auto root = doc->root();

    auto agent = root.table("agent");
    std::string state_dir;
    agent.get("state_dir", state_dir).get("board", c.board).get_seconds("stop_timeout", c.stop_timeout, 0.5, 600);
    std::string watchdog;
    agent.get("watchdog", watchdog).get_seconds("watchdog_timeout", c.watchdog_timeout, 2, 3600);
    agent.get("debug_commands", c.debug_commands);
    c.watchdog = watchdog;
    if (agent.has("state_dir") && state_dir.empty()) {
        agent.fail("state_dir", i18n::text({"must not be empty; leave the key out for the default",
                                            "不能为空；如需默认值请删除此键"}));
    }
    c.state_dir = state_dir;
    agent.finish();

    auto api = root.table("api");
    std::string socket;
    api.get("socket", socket)
        .get("allow_users", c.allow_users)
        .get("allow_groups", c.allow_groups)
        .get("teacher_users", c.teacher_users)
        .get("teacher_groups", c.teacher_groups);
    if (!socket.empty() && socket.size() >= 108) {
        api.fail("socket", i18n::text({"is longer than a Unix socket path may be (107 bytes)",
                                       "超过 Unix 套接字路径的最大长度（107 字节）"}));
    }
    c.socket = socket;
    api.finish();

    auto ledger = root.table("ledger");
    ledger.get_seconds("heartbeat", c.heartbeat, 1, 300);
    ledger.finish();

    auto ct = root.table("county");
    std::string ca = c.county.ca.string();
    ct.get("url", c.county.url).get("ca", ca).get_seconds("heartbeat", c.county.heartbeat, 5, 3600);
    ct.get("outbox_max_mb", c.county.outbox_max_mb, 1, 1024);
    ct.get_seconds("retry_min", c.county.retry_min, 0.1, 600).get_seconds("retry_max", c.county.retry_max, 0.1, 86400);
    c.county.ca = ca;
    if (!c.county.url.empty() && !c.county.url.starts_with("https://")) {
        ct.fail("url", i18n::text({"must start with https:// (the county link is always TLS)",
                                   "必须以 https:// 开头（县级平台链路总是使用 TLS）"}));
    }
    if (c.county.retry_max < c.county.retry_min) {
        ct.fail("retry_max", i18n::text({"must not be below retry_min", "不能小于 retry_min"}));
    }
    ct.finish();

    auto cc = root.table("cache");
    auto& k = c.cache;
    std::string cache_dir = k.dir.string();
    cc.get("enabled", k.enabled).get("dir", cache_dir).get("quota_mb", k.quota_mb, 16, int64_t{1} << 24);
    cc.get("keep_free_mb", k.keep_free_mb, 0, int64_t{1} << 24).get("downloads", k.downloads, 1, 8);
    cc.get("bandwidth_mbit", k.bandwidth_mbit, 0, 100'000)
        .get("class_bandwidth_mbit", k.class_bandwidth_mbit, 0, 100'000);
    cc.get_seconds("refresh", k.refresh, 10, 86400).get_seconds("prefetch", k.prefetch, 3600, 14 * 86400);
    cc.get_seconds("download_timeout", k.download_timeout, 1, 3600);
    std::string cache_ca;
    cc.get("ca", cache_ca);
    k.ca = cache_ca;
    cc.get("utc_offset_minutes", k.utc_offset_minutes, -720, 840);
    k.dir = cache_dir;
    cc.finish();

    auto rc = root.table("recorder");
    auto& rv = c.recorder;
    std::string rec_dir = rv.dir.string();
    rc.get("enabled", rv.enabled).get("dir", rec_dir);
    rc.get("video_format", rv.video_format).get("video_input", rv.video_input).get("video_options", rv.video_options);
    rc.get("screen_format", rv.screen_format).get("screen_input", rv.screen_input);
    rc.get("screen_options", rv.screen_options).get("picture_in_picture", rv.picture_in_picture);
    if (rv.picture_in_picture && rv.screen_format.empty()) {
        rc.fail("picture_in_picture", i18n::text({"needs the screen as a source: set screen_format and screen_input",
                                                  "需要屏幕信号源：请设置 screen_format 与 screen_input"}));
    }
    rc.get("audio_format", rv.audio_format).get("audio_input", rv.audio_input).get("audio_options", rv.audio_options);
    rc.get("width", rv.width, 0, 7680).get("height", rv.height, 0, 4320).get("fps", rv.fps, 0, 120);
    rc.get("video_bitrate_kbit", rv.video_bitrate_kbit, 100, 100'000).get("preset", rv.preset);
    rc.get("audio_bitrate_kbit", rv.audio_bitrate_kbit, 32, 512).get("encoder", rv.encoder);
    static constexpr std::string_view encoders[] = {"auto", "libx264", "h264_vaapi", "h264_v4l2m2m"};
    if (std::find(std::begin(encoders), std::end(encoders), rv.encoder) == std::end(encoders)) {
        rc.fail("encoder", i18n::text({"must be auto, libx264, h264_vaapi or h264_v4l2m2m",
                                       "必须是 auto、libx264、h264_vaapi 或 h264_v4l2m2m"}));
    }
    rc.get_seconds("max_duration", rv.max_duration, 60, 12 * 3600);
    rc.get("upload", rv.upload).get("upload_chunk_kb", rv.upload_chunk_kb, 16, 65536);
    rc.get("upload_bandwidth_mbit", rv.upload_bandwidth_mbit, 0.0, 100'000.0)
        .get("class_upload_bandwidth_mbit", rv.class_upload_bandwidth_mbit, 0.0, 100'000.0);
    rc.get_seconds("keep_after_upload", rv.keep_after_upload, 0, 365 * 86400.0);
    rc.get("min_free_mb", rv.min_free_mb, 0, int64_t{1} << 24);
    rc.get_seconds("silence_alarm", rv.silence_alarm, 0, 3600);
    rc.get("with_class", rv.with_class);
    rv.dir = rec_dir;
    if (rv.enabled && rv.video_format.empty()) {
        rc.fail("video_format", i18n::text({"must name a libavdevice input (v4l2, x11grab, lavfi ...)",
                                            "必须是 libavdevice 输入（v4l2、x11grab、lavfi 等）"}));
    }
    static constexpr std::string_view presets[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                                   "medium",    "slow",      "slower",   "veryslow"};
    if (std::find(std::begin(presets), std::end(presets), rv.preset) == std::end(presets)) {
        rc.fail("preset", i18n::text({"must be an x264 preset (ultrafast ... veryslow)",
                                      "必须是 x264 预设（ultrafast ... veryslow）"}));
    }
    rc.finish();

    auto wb = root.table("whiteboard");
    auto& w = c.whiteboard;
    std::string device = w.device.string(), uinput = w.uinput.string();
    wb.get("device", device).get("loop", w.loop).get("output", w.output).get("uinput", uinput);
    wb.get("screen_width", w.screen_width, 1, 32768).get("screen_height", w.screen_height, 1, 32768);
    wb.get("area_x", w.area_x, 0, 32768).get("area_y", w.area_y, 0, 32768);
    wb.get("area_width", w.area_width, 0, 32768).get("area_height", w.area_height, 0, 32768);
    wb.get("tools_by_size", w.tools_by_size).get("pen_max_mm", w.pen_max_mm, 0, 100);
    wb.get("eraser_min_mm", w.eraser_min_mm, 0, 1000).get("palm_min_mm", w.palm_min_mm, 0, 2000);
    wb.get_seconds("release_after", w.release_after, 0.02, 5).get_seconds("activity_idle", w.activity_idle, 1, 3600);
    wb.get("quirks", w.quirks);
    w.device = device;
    w.uinput = uinput;
    if (w.output != "uinput" && w.output != "none") {
        wb.fail("output", i18n::text({"must be \"uinput\" or \"none\"", "必须为“uinput”或“none”"}));
    }
    if (w.eraser_min_mm > 0 && w.eraser_min_mm <= w.pen_max_mm) {
        wb.fail("eraser_min_mm", i18n::text({"must be larger than pen_max_mm (or 0 for no eraser by size)",
                                             "必须大于 pen_max_mm（或为 0，表示不按大小识别板擦）"}));
    }
    if (w.palm_min_mm > 0 && w.palm_min_mm <= std::max(w.pen_max_mm, w.eraser_min_mm)) {
        wb.fail("palm_min_mm", i18n::text({"must be larger than eraser_min_mm and pen_max_mm (or 0 for no palm "
                                           "rejection by size)",
                                           "必须大于 eraser_min_mm 和 pen_max_mm（或为 0，表示不按大小拒绝手掌）"}));
    }
    if ((w.area_width > 0) != (w.area_height > 0)) {
        wb.fail("area_width", i18n::text({"area_width and area_height are given together, or neither",
                                          "area_width 与 area_height 须同时给出或同时省略"}));
    } else if (w.area_width > 0 &&
               (w.area_x + w.area_width > w.screen_width || w.area_y + w.area_height > w.screen_height)) {
        wb.fail("area_width", i18n::text({"the area reaches past the screen (screen_width x screen_height)",
                                          "区域超出了屏幕范围（screen_width x screen_height）"}));
    }
    if (w.area_width == 0) {
        w.area_x = w.area_y = 0;
        w.area_width = w.screen_width;
        w.area_height = w.screen_height;
    }
    if (auto usb = drivers::whiteboard::parse_usb_device(device); !usb) wb.fail("device", usb.error().message());
    if (wb.has("quirks")) {
        if (auto q = drivers::hid::quirks_from_names(w.quirks); !q) wb.fail("quirks", q.error().message());
    }
    wb.finish();

    auto pj = root.table("projector");
    auto& p = c.projector;
    pj.get("protocol", p.protocol).get("host", p.host).get("port", p.port, 1, 65535).get("password", p.password);
    pj.get("input", p.input).get("device", p.device).get("command_set", p.command_set);
    pj.get("baud", p.baud, 0, 921600).get("notify_port", p.notify_port, 0, 65535);
    if (p.baud != 0 && p.baud != 1200 && p.baud != 2400 && p.baud != 4800 && p.baud != 9600 && p.baud != 19200 &&
        p.baud != 38400 && p.baud != 57600 && p.baud != 115200) {
        pj.fail(
            "baud",
            i18n::text({"must be 0 (the command set's own) or one of 1200, 2400, 4800, 9600, 19200, 38400, "
                        "57600, 115200",
                        "必须为 0（使用命令集默认值）或 1200、2400、4800、9600、19200、38400、57600、115200 之一"}));
    }
    pj.get_seconds("poll", p.poll, 1, 3600).get_seconds("lamp_poll", p.lamp_poll, 10, 86400);
    pj.get_seconds("reply_timeout", p.reply_timeout, 0.2, 60);
    pj.get_seconds("warmup_timeout", p.warmup_timeout, 1, 1800)
        .get_seconds("cooldown_timeout", p.cooldown_timeout, 1, 3600);
    pj.get_seconds("mains_wait", p.mains_wait, 0, 600);
    pj.get("lamp_rated_hours", p.lamp_rated_hours, 0, 100000).get("lamp_alert_percent", p.lamp_alert_percent, 1, 100);
    pj.get("unreachable_after", p.unreachable_after, 1, 100);
    if (p.protocol != "pjlink" && p.protocol != "serial" && p.protocol != "none") {
        pj.fail("protocol",
                i18n::text({"must be \"pjlink\", \"serial\" or \"none\"", "必须为“pjlink”、“serial”或“none”"}));
    }
    if (p.protocol == "serial") {
        if (p.device.empty()) {
            pj.fail("device", i18n::text({"the serial port is needed with protocol = \"serial\" (e.g. /dev/ttyUSB0)",
                                          "protocol = “serial”时需要串口设备（例如 /dev/ttyUSB0）"}));
        }
        if (auto cs = drivers::serial::find_command_set(p.command_set); !cs)
            pj.fail("command_set", cs.error().message());
    }
    if (p.protocol == "pjlink" && p.host.empty()) {
        pj.fail("host", i18n::text({"the projector's address is needed with protocol = \"pjlink\"",
                                    "protocol = “pjlink”时需要投影机地址"}));
    }
    if (p.protocol == "serial" ? p.input.empty() || p.input.size() > 16
                               : (p.input.size() != 2 || p.input[0] < '1' || p.input[0] > '6' ||
                                  !std::isalnum(static_cast<unsigned char>(p.input[1])))) {
        pj.fail("input",
                i18n::text({"must be a PJLink input code: a type 1-6 and a terminal, e.g. \"32\" (HDMI1 on Epson); "
                            "with protocol = \"serial\", the command set's own code (Epson ESC/VP21: \"30\" HDMI1)",
                            "必须为 PJLink 输入代码：类型 1-6 加端子号，例如“32”（爱普生 HDMI1）；"
                            "protocol = “serial”时为命令集自己的代码（爱普生 ESC/VP21：“30”为 HDMI1）"}));
    }
    pj.finish();

    auto gp = root.table("gpio");
    gp.get("chip", c.gpio.chip).get_seconds("key_debounce", c.gpio.key_debounce, 0, 1);
    const std::pair<const char*, std::optional<board::gpio_line>*> lines[] = {
        {"projector_relay", &c.gpio.projector_relay},
        {"pc_relay", &c.gpio.pc_relay},
        {"amplifier_relay", &c.gpio.amplifier_relay},
        {"class_key", &c.gpio.class_key},
        {"class_led", &c.gpio.class_led},
        {"fault_led", &c.gpio.fault_led}};
    bool any_line = false;
    for (const auto& [key, line] : lines) {
        std::string spec;
        gp.get(key, spec);
        if (auto l = board::parse_gpio_line(spec)) {
            *line = *l;
            any_line = any_line || l->has_value();
        } else {
            gp.fail(key, l.error().message());
        }
    }
    if (any_line && c.gpio.chip.empty()) {
        gp.fail("chip", i18n::text({"the GPIO chip the lines are on is needed (e.g. \"gpiochip0\"; see gpioinfo)",
                                    "需要这些线所在的 GPIO 芯片（例如“gpiochip0”；可用 gpioinfo 查看）"}));
    }
    gp.finish();

    auto log = root.table("log");
    log.get("level", c.log_level);
    if (log.has("level")) {
        if (auto r = log::validate(c.log_level); !r) {
            log.fail("level", r.error().message());
        }
    }
    log.finish();

    root.finish();
    if (auto r = doc->outcome(); !r) return r.error();
    return c;
}

result<agent_config> load_agent_config(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        int err = errno;
        return error(std::error_code(err, std::system_category()),
                     i18n::format({"cannot read the configuration file: {}; give another with --config",
                                   "无法读取配置文件：{}；可用 --config 指定其他文件"},
                                  std::strerror(err)),
                     path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_agent_config(text.str(), path.string());
}

void resolve_environment_defaults(agent_config& c) {
    // systemd's StateDirectory= and RuntimeDirectory= may list several paths,
    // separated by ':'; ours is the first.
    auto first = [](const char* name) -> std::string {
        const char* v = std::getenv(name);
        if (v == nullptr || *v == '\0') return {};
        std::string s(v);
        return s.substr(0, s.find(':'));
    };
    if (c.state_dir.empty()) {
        std::string dir = first("STATE_DIRECTORY");
        c.state_dir = dir.empty() ? "/var/lib/bbt" : dir;
    }
    if (c.cache.dir.empty()) c.cache.dir = c.state_dir / "cache";
    if (c.recorder.dir.empty()) c.recorder.dir = c.state_dir / "recordings";
    if (c.socket.empty()) {
        std::string dir = first("RUNTIME_DIRECTORY");
        c.socket = std::filesystem::path(dir.empty() ? "/run/bbt" : dir) / "agent.sock";
    }
}

}  // namespace bbt::agent
