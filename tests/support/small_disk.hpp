// A small tmpfs of its own, as a disk that fills up; needs the right to
// mount (root). Tests skip with a message where it is not mounted.
#pragma once

#include <sys/mount.h>

#include <filesystem>
#include <string>

namespace bbt::test {

class small_disk {
public:
    small_disk(const std::filesystem::path& at, const std::string& size) : at_(at) {
        std::filesystem::create_directories(at);
        mounted_ = ::mount("tmpfs", at.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, ("size=" + size).c_str()) == 0;
    }
    ~small_disk() {
        if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
    }
    small_disk(const small_disk&) = delete;
    small_disk& operator=(const small_disk&) = delete;
    [[nodiscard]] bool mounted() const { return mounted_; }

private:
    std::filesystem::path at_;
    bool mounted_ = false;
};

}  // namespace bbt::test
