// bbt-agent's configuration (/etc/bbt/agent.toml). Every key is documented in
// the shipped example, systemd/agent.toml.example.
#pragma once

#include "bbt/base/error.hpp"
#include "bbt/board/gpio.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::agent {

struct agent_config {
    // [agent]
    std::filesystem::path state_dir;  // empty: $STATE_DIRECTORY, else /var/lib/bbt
    std::string board = "sim";
    std::chrono::milliseconds stop_timeout{10'000};
    std::filesystem::path watchdog;  // the hardware watchdog fed from the control loop; empty: none
    std::chrono::milliseconds watchdog_timeout{60'000};
    bool debug_commands = false;  // debug.* API methods (debug.hang), for tests of the watchdog

    // [api]
    std::filesystem::path socket;  // empty: $RUNTIME_DIRECTORY/agent.sock, else /run/bbt/agent.sock
    std::vector<std::string> allow_users;
    std::vector<std::string> allow_groups{"bbt"};  // technicians; with root and the agent's user
    std::vector<std::string> teacher_users;
    std::vector<std::string> teacher_groups;  // the class, the timetable, courseware, recording

    // [ledger]
    std::chrono::milliseconds heartbeat{5'000};

    // [log]
    std::string log_level = "info";  // BBT_LOG overrides it

    // [county]
    struct county_config {
        std::string url;                                      // https://host:port of bbt-county; empty: no county link
        std::filesystem::path ca = "/etc/bbt/county-ca.pem";  // the county CA, the only trust anchor
        std::chrono::milliseconds heartbeat{60'000};
        int64_t outbox_max_mb = 20;
        std::chrono::milliseconds retry_min{1'000};
        std::chrono::milliseconds retry_max{3'600'000};
    } county;

    // [whiteboard]
    struct whiteboard_config {
        // A hid-recorder file replayed (looped) or a FIFO streamed live; empty:
        // no whiteboard. (The USB transport comes with the board rig.)
        std::filesystem::path device;
        bool loop = true;
        std::string output = "uinput";  // "uinput" or "none"
        std::filesystem::path uinput = "/dev/uinput";
        double screen_width = 1920;
        double screen_height = 1080;
        // The part of the screen the board covers; a width of 0: all of it.
        double area_x = 0, area_y = 0, area_width = 0, area_height = 0;
        bool tools_by_size = true;
        double pen_max_mm = 6;
        double eraser_min_mm = 30;
        double palm_min_mm = 100;
        std::chrono::milliseconds release_after{100};
        // A board counts as in use from a touch until this long without one.
        std::chrono::milliseconds activity_idle{60'000};
        // hid-multitouch quirk names replacing the board's class; empty: the
        // override table, else the descriptor decides.
        std::vector<std::string> quirks;
    } whiteboard;

    // [projector]
    struct projector_config {
        std::string protocol = "none";  // "pjlink" (LAN), "serial" (RS-232) or "none"
        std::string host;
        int64_t port = 4352;
        std::string password;                       // PJLink's; never logged
        std::string input = "32";                   // input selected when a class starts (PJLink code; Epson: HDMI1)
        std::string device;                         // serial: the port, e.g. /dev/ttyUSB0
        std::string command_set = "epson-escvp21";  // serial: the projector's command set
        int64_t baud = 0;                           // serial: 0 for the command set's own rate
        // Class 2 status notices (UDP) are listened for on this port; 0: not.
        int64_t notify_port = 0;
        std::chrono::milliseconds poll{30'000};        // power and error status
        std::chrono::milliseconds lamp_poll{600'000};  // lamp and filter hours
        std::chrono::milliseconds reply_timeout{5'000};
        std::chrono::milliseconds warmup_timeout{180'000};
        std::chrono::milliseconds cooldown_timeout{300'000};
        std::chrono::milliseconds mains_wait{90'000};  // after mains on, until the projector answers
        double lamp_rated_hours = 0;                   // from the tender; 0: not known
        double lamp_alert_percent = 90;
        int64_t unreachable_after = 3;  // failed polls before the "unreachable" alert
    } projector;

    // [cache]: courseware, fetched by the timetable from the county's catalogue.
    struct cache_config {
        bool enabled = true;
        std::filesystem::path dir;  // empty: state_dir/cache
        int64_t quota_mb = 20'480;
        int64_t keep_free_mb = 1'024;
        int64_t downloads = 2;                               // at once
        double bandwidth_mbit = 0;                           // outside lessons; 0: no limit
        double class_bandwidth_mbit = 2;                     // while a lesson is on; 0: no limit
        std::chrono::milliseconds refresh{900'000};          // catalogue and timetable asked for again
        std::chrono::milliseconds prefetch{36 * 3'600'000};  // courseware of lessons this far ahead
        std::chrono::milliseconds download_timeout{60'000};
        // https:// courseware: the system's CA store, and this CA (PEM) besides.
        std::filesystem::path ca;
        int64_t utc_offset_minutes = 480;  // the school's local time (China: +8, no daylight saving)
    } cache;
    // [recorder]: lessons recorded from a camera (or the screen) and a microphone.
    struct recorder_config {
        bool enabled = true;
        std::filesystem::path dir;  // empty: state_dir/recordings
        // libavdevice inputs: "v4l2" + "/dev/video0", "x11grab" + ":0.0", "alsa" + "hw:0",
        // or FFmpeg's test sources ("lavfi"), the default on the simulated board.
        std::string video_format = "lavfi";
        std::string video_input = "testsrc2=size=1280x720:rate=25";
        std::string video_options;  // "video_size=1920x1080:framerate=30" ...
        // The screen as a second picture track ("x11grab" + ":0.0", "kmsgrab" ...); empty: none.
        std::string screen_format;
        std::string screen_input;
        std::string screen_options;
        // A third track: the screen with the camera in its corner.
        bool picture_in_picture = false;
        std::string audio_format = "lavfi";
        std::string audio_input = "sine=frequency=440:sample_rate=48000";
        std::string audio_options;
        int64_t width = 0, height = 0, fps = 0;  // 0: the source's
        int64_t video_bitrate_kbit = 4000;
        std::string preset = "veryfast";
        std::string encoder = "auto";  // auto, libx264, h264_vaapi, h264_v4l2m2m
        int64_t audio_bitrate_kbit = 128;
        std::chrono::milliseconds max_duration{3 * 3'600'000};
        // Uploads to the county (tus): chunk size, bandwidth (0: no limit) out
        // of class and while a lesson is on, and how long a copy the county
        // has confirmed stays here.
        bool upload = true;
        int64_t upload_chunk_kb = 4096;
        double upload_bandwidth_mbit = 0;
        double class_upload_bandwidth_mbit = 2;
        std::chrono::milliseconds keep_after_upload{7 * 86'400'000LL};
        // The disk guard: recording stops (and does not start) with less free.
        int64_t min_free_mb = 1024;
        // An alert when the microphone stays silent this long (0: never).
        std::chrono::milliseconds silence_alarm{120'000};
        // The class key (class start/end) starts and ends a recording too.
        bool with_class = false;
    } recorder;
    // [gpio]: the control board's wiring, on a board profile that drives
    // relays, the class key and LEDs on GPIO lines.
    board::gpio_wiring gpio;
};

inline constexpr const char* default_config_path = "/etc/bbt/agent.toml";

// Parses a configuration text; `source` names it in errors. Pure: no I/O.
// Every problem is reported at once, each naming the file, line and key.
[[nodiscard]] result<agent_config> parse_agent_config(std::string_view text, std::string source);

// Reads and parses a configuration file.
[[nodiscard]] result<agent_config> load_agent_config(const std::filesystem::path& path);

// Fills the defaults that depend on the environment (state and runtime directories).
void resolve_environment_defaults(agent_config& config);

}  // namespace bbt::agent
