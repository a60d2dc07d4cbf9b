#include "bbt/board/local_devices.hpp"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bbt::board {
namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return std::string(s);
}

std::string cstr(const unsigned char* p, size_t n) {
    const auto* c = reinterpret_cast<const char*>(p);
    return std::string(c, strnlen(c, n));
}

}  // namespace

std::vector<local_device> find_cameras(const std::filesystem::path& dev_dir) {
    std::vector<local_device> out;
    std::vector<std::filesystem::path> nodes;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dev_dir, ec)) {
        auto name = e.path().filename().string();
        if (name.starts_with("video") && name.size() > 5 &&
            std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            nodes.push_back(e.path());
        }
    }
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) {
        return std::stoi(a.filename().string().substr(5)) < std::stoi(b.filename().string().substr(5));
    });
    for (const auto& p : nodes) {
        int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        v4l2_capability cap{};
        bool ok = ::ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0;
        ::close(fd);
        if (!ok) continue;
        uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
        if ((caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) == 0) continue;
        out.push_back(
            {capture_kind::camera, cstr(cap.driver, sizeof cap.driver), cstr(cap.card, sizeof cap.card), p.string()});
    }
    return out;
}

// " 0 [Loopback       ]: Loopback - Loopback
//                       Loopback 1"
std::vector<local_device> parse_sound_cards(std::string_view text) {
    std::vector<local_device> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        std::string t = trim(line);
        if (t.empty() || !std::isdigit(static_cast<unsigned char>(t[0]))) continue;
        size_t i = 0;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])))
            ++i;
        std::string index = t.substr(0, i);
        auto colon = t.find("]: ");
        if (colon == std::string::npos) continue;
        std::string rest = t.substr(colon + 3);
        auto dash = rest.find(" - ");
        local_device d;
        d.kind = capture_kind::sound_card;
        d.driver = trim(rest.substr(0, dash));
        d.name = dash == std::string::npos ? d.driver : trim(rest.substr(dash + 3));
        d.node = "card " + index;
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<local_device> find_sound_cards(const std::filesystem::path& cards) {
    std::ifstream in(cards);
    std::ostringstream text;
    text << in.rdbuf();
    return parse_sound_cards(text.str());
}

}  // namespace bbt::board
