#include "bbt/board/profile.hpp"

#include "bbt/base/i18n.hpp"

namespace bbt::board {
namespace {

class board_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.board"; }
    std::string message(int ev) const override {
        return static_cast<board_errc>(ev) == board_errc::unknown_profile ? "unknown board profile"
                                                                          : "unknown bbt.board error";
    }
};

}  // namespace

const std::error_category& board_category() noexcept {
    static const board_category_impl c;
    return c;
}

std::error_code make_error_code(board_errc e) noexcept { return {static_cast<int>(e), board_category()}; }

const std::vector<profile>& profiles() {
    // The "set" device is the classroom set itself: on while the agent runs.
    static const std::vector<profile> all = {
        {"sim",
         "simulated classroom: every device is a simulator on this machine",
         "模拟教室：所有设备均为本机上的模拟器",
         true,
         false,
         {{"set", "the classroom set", "班班通设备"}}},
        {"generic-pc",
         "classroom PC with a USB whiteboard and a networked projector",
         "配有 USB 白板和网络投影机的教室电脑",
         false,
         false,
         {{"set", "the classroom set", "班班通设备"}}},
        {"gpio-control",
         "classroom set with a control board on GPIO lines: mains relays, class key and LEDs as [gpio] wires them",
         "通过 GPIO 线连接中控板的班班通：电源继电器、上课键和指示灯按 [gpio] 配置接线",
         false,
         true,
         {{"set", "the classroom set", "班班通设备"}}},
    };
    return all;
}

result<profile> find_profile(std::string_view name) {
    std::string known;
    for (const auto& p : profiles()) {
        if (p.name == name) return p;
        known += (known.empty() ? "" : ", ") + p.name;
    }
    return error(board_errc::unknown_profile,
                 i18n::format({"no board profile is named \"{}\"; the known profiles are: {}",
                               "没有名为“{}”的板卡配置；可用的配置为：{}"},
                              name, known));
}

}  // namespace bbt::board
