// Child processes for tests: spawn a program with its output in files, wait
// for it with a cap so that a hung child fails the test instead of hanging it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bbt::test {

struct spawn_options {
    std::map<std::string, std::string> env;  // added to (or replacing) the parent's
    std::vector<std::string> unset_env;
    std::filesystem::path stdout_path;  // empty: /dev/null
    std::filesystem::path stderr_path;
    std::filesystem::path stdin_path;  // empty: the parent's
    std::optional<uid_t> uid;          // switch user (and group) in the child; needs root
    std::optional<gid_t> gid;
};

class child {
public:
    child() = default;
    explicit child(pid_t pid) : pid_(pid) {}
    child(child&& o) noexcept : pid_(std::exchange(o.pid_, -1)), status_(o.status_) {}
    child& operator=(child&& o) noexcept;
    ~child();  // kills (SIGKILL) and reaps a child still running

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // Waits up to `cap`; the exit status (as from waitpid), or nothing on timeout.
    std::optional<int> wait(std::chrono::milliseconds cap);
    void signal(int signo) const;

private:
    void reap() noexcept;  // kills and waits for a child still running
    pid_t pid_ = -1;
    std::optional<int> status_;
};

[[nodiscard]] child spawn(const std::vector<std::string>& argv, const spawn_options& options = {});

// Runs to completion (capped) and returns the exit code, -1 on a signal or timeout.
int run(const std::vector<std::string>& argv, const spawn_options& options = {},
        std::chrono::milliseconds cap = std::chrono::seconds(30));

// Where ffprobe is (scripts/setup installs ffmpeg); tests that need it skip without it.
inline constexpr const char* ffprobe_binary = "/usr/bin/ffprobe";
// `ffprobe -v error ARGS... FILE` with CSV output without keys: what it
// printed, trailing newlines and commas cut; "ffprobe failed" when it failed.
[[nodiscard]] std::string ffprobe(const std::filesystem::path& file, const std::vector<std::string>& args);

// Whether this process may switch users (tests that need it skip otherwise).
[[nodiscard]] bool running_as_root();

}  // namespace bbt::test
