#include "bbt/base/file.hpp"

#include "bbt/base/i18n.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace bbt {

result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content) {
    std::string tmp = path.string() + ".tmp-XXXXXX";
    int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) return errno_error(errno, i18n::text({"creating the file", "创建文件"}), path.string());
    auto fail = [&](std::string_view what) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return errno_error(err, what, path.string());
    };
    for (size_t done = 0; done < content.size();) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(i18n::text({"writing the file", "写入文件"}));
        done += static_cast<size_t>(n);
    }
    if (::fchmod(fd, 0640) != 0 || ::fsync(fd) != 0) return fail(i18n::text({"writing the file", "写入文件"}));
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return errno_error(err, i18n::text({"renaming the file into place", "重命名文件"}), path.string());
    }
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

result<std::string> read_file(const std::filesystem::path& path, size_t max_bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, i18n::text({"reading the file", "读取文件"}), path.string());
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return errno_error(err, i18n::text({"reading the file", "读取文件"}), path.string());
        }
        if (n == 0) break;
        if (out.size() + static_cast<size_t>(n) > max_bytes) {
            ::close(fd);
            return error(base_errc::io,
                         i18n::format({"the file is larger than {} bytes; is it the right file?",
                                       "文件超过 {} 字节；是否选错了文件？"},
                                      max_bytes),
                         path.string());
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

}  // namespace bbt
