#include "bbt/board/relays.hpp"

#include "bbt/base/clock.hpp"
#include "bbt/base/i18n.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>

namespace bbt::board {

std::string_view to_string(relay r) noexcept {
    switch (r) {
        case relay::projector: return "projector";
        case relay::pc: return "pc";
        case relay::amplifier: return "amplifier";
    }
    return "?";
}

result<void> sim_relays::set(relay r, bool on) {
    state_[static_cast<size_t>(r)] = on;
    std::string line = fmt::format("{} {} {}\n", clock::wall_now().count(), to_string(r), on ? "on" : "off");
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error(errno, i18n::text({"recording a relay change", "记录继电器动作"}), log_.string());
    ssize_t n = ::write(fd, line.data(), line.size());
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(line.size())) {
        return errno_error(err, i18n::text({"recording a relay change", "记录继电器动作"}), log_.string());
    }
    return {};
}

}  // namespace bbt::board
