#include "process.hpp"
#include "temp_dir.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace bbt::test {

child& child::operator=(child&& o) noexcept {
    if (this != &o) {
        reap();
        pid_ = std::exchange(o.pid_, -1);
        status_ = o.status_;
    }
    return *this;
}

child::~child() { reap(); }

void child::reap() noexcept {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        status_ = st;
    }
}

std::optional<int> child::wait(std::chrono::milliseconds cap) {
    if (status_) return status_;
    auto until = std::chrono::steady_clock::now() + cap;
    for (;;) {
        int st = 0;
        pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = st;
            return status_;
        }
        if (std::chrono::steady_clock::now() >= until) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

void child::signal(int signo) const {
    if (pid_ > 0 && !status_) ::kill(pid_, signo);
}

child spawn(const std::vector<std::string>& argv, const spawn_options& options) {
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        auto redirect = [](const std::filesystem::path& p, int target) {
            int fd = p.empty() ? ::open("/dev/null", O_WRONLY) : ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, target);
                ::close(fd);
            }
        };
        redirect(options.stdout_path, STDOUT_FILENO);
        redirect(options.stderr_path, STDERR_FILENO);
        if (!options.stdin_path.empty()) {
            int fd = ::open(options.stdin_path.c_str(), O_RDONLY);
            if (fd >= 0) {
                ::dup2(fd, STDIN_FILENO);
                ::close(fd);
            }
        }
        for (const auto& name : options.unset_env)
            ::unsetenv(name.c_str());
        for (const auto& [k, v] : options.env)
            ::setenv(k.c_str(), v.c_str(), 1);
        if (options.gid) {
            ::setgroups(0, nullptr);
            if (::setgid(*options.gid) != 0) ::_exit(126);
        }
        if (options.uid && ::setuid(*options.uid) != 0) ::_exit(126);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return child(pid);
}

std::string ffprobe(const std::filesystem::path& file, const std::vector<std::string>& args) {
    temp_dir dir;
    spawn_options o;
    o.stdout_path = dir / "out";
    std::vector<std::string> argv{ffprobe_binary, "-v", "error"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-of", "csv=p=0", file.string()});
    if (run(argv, o) != 0) return "ffprobe failed";
    auto s = read_file(dir / "out");
    while (!s.empty() && (s.back() == '\n' || s.back() == ','))
        s.pop_back();
    return s;
}

int run(const std::vector<std::string>& argv, const spawn_options& options, std::chrono::milliseconds cap) {
    child c = spawn(argv, options);
    auto st = c.wait(cap);
    if (!st || !WIFEXITED(*st)) return -1;
    return WEXITSTATUS(*st);
}

bool running_as_root() { return ::geteuid() == 0; }

}  // namespace bbt::test
