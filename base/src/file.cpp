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

}  // namespace bbt
