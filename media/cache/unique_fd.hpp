// A file descriptor closed when it goes out of scope; private to media/cache.
#pragma once

#include <unistd.h>

namespace bbt::media::cache {

struct unique_fd {
    explicit unique_fd(int f) : fd(f) {}
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() {
        if (fd >= 0) ::close(fd);
    }
    int fd;
};

}  // namespace bbt::media::cache
