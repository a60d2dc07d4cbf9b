// nginx (Debian's package) serving a directory on a loopback port, as a
// school's or county's courseware server would; for the cache tests and the
// download benchmark.
#pragma once

#include "process.hpp"
#include "temp_dir.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

namespace bbt::test {

inline constexpr const char* nginx_binary = "/usr/sbin/nginx";

inline int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// nginx serving dir/www on a loopback port, in the foreground of a child.
// Throws when it does not come up.
class nginx {
public:
    // With `cert` and `key` (PEM files), over TLS only.
    explicit nginx(const std::filesystem::path& dir, const std::filesystem::path& cert = {},
                   const std::filesystem::path& key = {})
        : dir_(dir), port_(free_port()), tls_(!cert.empty()) {
        namespace fs = std::filesystem;
        fs::create_directories(dir_ / "www");
        fs::create_directories(dir_ / "nginx");
        auto d = (dir_ / "nginx").string();
        write_file(
            dir_ / "nginx/nginx.conf",
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid " + d + "/nginx.pid;\nerror_log " + d +
                "/error.log;\nevents { worker_connections 64; }\nhttp {\n  access_log " + d +
                "/access.log;\n  sendfile on;\n  client_body_temp_path " + d + "/body;\n  proxy_temp_path " + d +
                "/proxy;\n  fastcgi_temp_path " + d + "/fastcgi;\n  uwsgi_temp_path " + d +
                "/uwsgi;\n  scgi_temp_path " + d + "/scgi;\n  server {\n    listen 127.0.0.1:" + std::to_string(port_) +
                (tls_ ? " ssl" : "") + ";\n" +
                (tls_ ? "    ssl_certificate " + cert.string() + ";\n    ssl_certificate_key " + key.string() + ";\n"
                      : std::string()) +
                "    root " + (dir_ / "www").string() + ";\n  }\n}\n");
        spawn_options o;
        o.stderr_path = dir_ / "nginx/stderr";
        child_ = spawn({nginx_binary, "-p", d, "-c", d + "/nginx.conf"}, o);
        // Ready when it answers.
        for (int i = 0; i < 200; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a.sin_port = htons(static_cast<uint16_t>(port_));
            bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(fd);
            if (up) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("nginx did not start: " + read_file(dir_ / "nginx/stderr"));
    }
    [[nodiscard]] std::string url(const std::string& name) const {
        return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) + "/" + name;
    }
    [[nodiscard]] std::string access_log() const { return read_file(dir_ / "nginx/access.log"); }
    [[nodiscard]] std::filesystem::path www() const { return dir_ / "www"; }
    void stop() { child_ = child{}; }

private:
    std::filesystem::path dir_;
    int port_;
    bool tls_ = false;
    child child_;
};

}  // namespace bbt::test
