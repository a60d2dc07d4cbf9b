#include "bbt/base/i18n.hpp"
#include "bbt/drivers/whiteboard/board_source.hpp"

#include <array>

namespace bbt::drivers::whiteboard {
namespace {

constexpr std::array<i18n::msg, 13> texts{{
    {"the transfer failed", "传输失败"},
    {"permission denied; the agent's user needs the whiteboard udev rules (70-bbt-whiteboard.rules) and its group",
     "权限不足；代理程序的用户需要白板 udev 规则（70-bbt-whiteboard.rules）及其用户组"},
    {"the whiteboard was unplugged", "白板已拔出"},
    {"no such device, interface or endpoint", "没有该设备、接口或端点"},
    {"another program holds the whiteboard; stop it, or unbind its driver",
     "另一个程序占用了白板；请关闭它或解除其驱动"},
    {"the whiteboard did not answer in time", "白板未及时应答"},
    {"the whiteboard sent more than was asked for", "白板发送的数据超出请求"},
    {"the whiteboard's endpoint stalled", "白板端点已停止（stall）"},
    {"interrupted", "被中断"},
    {"out of memory", "内存不足"},
    {"not supported on this system", "本系统不支持该操作"},
    {"not a whiteboard this agent can drive", "不是本程序可驱动的白板"},
    {"USB error", "USB 错误"},
}};

class usb_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "bbt.usb"; }
    std::string message(int ev) const override {
        if (ev < 1 || ev > static_cast<int>(texts.size())) return "USB error";
        return texts[static_cast<size_t>(ev) - 1].en;
    }
};

}  // namespace

const std::error_category& usb_category() noexcept {
    static const usb_category_impl c;
    return c;
}

std::error_code make_error_code(usb_errc e) noexcept { return {static_cast<int>(e), usb_category()}; }

std::string_view advice(usb_errc e) noexcept {
    auto i = static_cast<size_t>(e);
    if (i < 1 || i > texts.size()) i = texts.size();
    return i18n::text(texts[i - 1]);
}

}  // namespace bbt::drivers::whiteboard
