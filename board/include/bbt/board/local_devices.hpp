// The set's own capture devices, for the inventory and the acceptance check:
// V4L2 cameras that capture video (by VIDIOC_QUERYCAP) and ALSA sound cards.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bbt::board {

// A sound card is what a lesson's microphone is recorded through.
enum class capture_kind { camera, sound_card };

struct local_device {
    capture_kind kind = capture_kind::camera;
    std::string driver;  // uvcvideo, vivid, snd_usb_audio, snd_aloop ...
    std::string name;    // as the device names itself
    std::string node;    // /dev/video0, or "card 0"
};

// Video capture devices among dev_dir/video*; others (output, metadata) left out.
[[nodiscard]] std::vector<local_device> find_cameras(const std::filesystem::path& dev_dir = "/dev");

// Sound cards from /proc/asound/cards' text. Pure.
[[nodiscard]] std::vector<local_device> parse_sound_cards(std::string_view text);
[[nodiscard]] std::vector<local_device> find_sound_cards(const std::filesystem::path& cards = "/proc/asound/cards");

}  // namespace bbt::board
