// A temporary directory, removed with everything in it when the object dies.
#pragma once

#include <filesystem>

namespace bbt::test {

class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    [[nodiscard]] std::filesystem::path operator/(const std::filesystem::path& p) const { return path_ / p; }

private:
    std::filesystem::path path_;
};

// Writes `text` to `path`, replacing it.
void write_file(const std::filesystem::path& path, std::string_view text);
[[nodiscard]] std::string read_file(const std::filesystem::path& path);
// `n` bytes of noise, the same for the same seed.
[[nodiscard]] std::string random_bytes(size_t n, unsigned seed);

// Real HID data from real devices, beside the repository (../shared/data/hid);
// tests that need it skip with a message where it is absent.
[[nodiscard]] std::filesystem::path hid_data_dir();

}  // namespace bbt::test
