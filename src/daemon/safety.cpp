// The daemon's file rules: who may write a schedule file run as root, and
// who may read a secret file (txflow/daemon/safety.hpp).

#include "txflow/daemon/safety.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "txflow/schedule_file/schedule.hpp"

namespace txflow::daemon {
namespace {

unsigned permission_bits(const struct stat& st) {
    return static_cast<unsigned>(st.st_mode) & 07777U;
}

}  // namespace

std::optional<std::string> unsafe_schedule_file(const std::filesystem::path& path) {
    if (::geteuid() != 0) return std::nullopt;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;  // the loader reports what cannot be read
    const std::string p = path.string();
    if (st.st_uid != 0) {
        return fmt::format(
            "{}: refused: the daemon runs as root and the file is owned by uid {}, who could then run "
            "commands as root (run `chown root {}`, or run the daemon as that user)",
            p, st.st_uid, p);
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return fmt::format(
            "{}: refused: the daemon runs as root and the file is writable by group or others (mode {:04o}) "
            "(run `chmod go-w {}`)",
            p, permission_bits(st), p);
    }
    return std::nullopt;
}

Result<std::string, std::string> read_secret(const std::filesystem::path& path) {
    const std::string p = path.string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return unexpected(fmt::format("secret file {}: {}", p, std::strerror(errno)));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return unexpected(fmt::format("secret file {}: {}", p, std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) return unexpected(fmt::format("secret file {}: not a regular file", p));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return unexpected(
            fmt::format("secret file {} is accessible by group or others (mode {:04o}): run `chmod 600 {}`", p,
                        permission_bits(st), p));
    }
    if (static_cast<std::uintmax_t>(st.st_size) > schedule_file::kMaxSecretBytes) {
        return unexpected(
            fmt::format("secret file {} is over the {} KiB limit", p, schedule_file::kMaxSecretBytes >> 10U));
    }
    std::string value;
    std::array<char, 4096> buf{};
    while (true) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            return unexpected(fmt::format("secret file {}: {}", p, std::strerror(errno)));
        }
        value.append(buf.data(), static_cast<std::size_t>(n));
        if (value.size() > schedule_file::kMaxSecretBytes) {
            return unexpected(
                fmt::format("secret file {} is over the {} KiB limit", p, schedule_file::kMaxSecretBytes >> 10U));
        }
    }
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (value.find('\0') != std::string::npos)
        return unexpected(fmt::format("secret file {}: contains a NUL byte (an environment value cannot)", p));
    return value;
}

}  // namespace txflow::daemon
