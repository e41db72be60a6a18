#include "store/wal_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include <fmt/format.h>

namespace txflow::store::wal {

void Fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

StoreError io_error(std::string_view what, const std::filesystem::path& path, int err) {
    return StoreError{StoreError::Code::io,
                      fmt::format("{} {}: {}", what, path.string(), std::generic_category().message(err))};
}

StoreResult<Fd> open_file(const std::filesystem::path& path, int flags, unsigned mode) {
    for (;;) {
        const int fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
        if (fd >= 0) {
            Fd owned{fd};
            // The umask may have taken bits away (or, at 0, none): set them as asked.
            if ((flags & O_CREAT) != 0 && ::fchmod(fd, static_cast<mode_t>(mode)) != 0)
                return unexpected(io_error("chmod", path, errno));
            return owned;
        }
        if (errno != EINTR) return unexpected(io_error("open", path, errno));
    }
}

StoreResult<Ok> prepare_state_dir(const std::filesystem::path& given) {
    std::filesystem::path dir = given.lexically_normal();
    if (!dir.has_filename() && dir.has_parent_path()) dir = dir.parent_path();  // "state/"
    std::error_code ec;
    if (dir.has_parent_path() && dir.parent_path() != dir) {
        std::filesystem::create_directories(dir.parent_path(), ec);
        if (ec) return unexpected(io_error("create directory", dir.parent_path(), ec.value()));
    }
    if (::mkdir(dir.c_str(), 0700) == 0) {
        if (::chmod(dir.c_str(), 0700) != 0) return unexpected(io_error("chmod", dir, errno));
        return Ok{};
    }
    if (errno != EEXIST) return unexpected(io_error("create directory", dir, errno));
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return unexpected(io_error("stat", dir, errno));
    if (!S_ISDIR(st.st_mode)) return unexpected(io_error("open", dir, ENOTDIR));
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return unexpected(StoreError{
            StoreError::Code::io,
            fmt::format("state directory {} is writable by group or others (mode {:04o}): run `chmod 700 {}`",
                        dir.string(), static_cast<unsigned>(st.st_mode) & 07777U, dir.string())});
    }
    return Ok{};
}

StoreResult<Fd> open_directory(const std::filesystem::path& path) {
    return open_file(path, O_RDONLY | O_DIRECTORY);
}

StoreResult<Ok> pwrite_all(int fd, std::string_view data, std::uint64_t offset, const std::filesystem::path& path) {
    while (!data.empty()) {
        const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return unexpected(io_error("write", path, errno));
        }
        if (n == 0) return unexpected(io_error("write", path, EIO));
        data.remove_prefix(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return Ok{};
}

StoreResult<std::size_t> pread_full(int fd, char* dst, std::size_t size, std::uint64_t offset,
                                    const std::filesystem::path& path) {
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(fd, dst + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return unexpected(io_error("read", path, errno));
        }
        if (n == 0) break;  // end of file
        done += static_cast<std::size_t>(n);
    }
    return done;
}

StoreResult<std::uint64_t> file_size(int fd, const std::filesystem::path& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return unexpected(io_error("stat", path, errno));
    return static_cast<std::uint64_t>(st.st_size);
}

StoreResult<Ok> data_sync(int fd, const std::filesystem::path& path) {
    while (::fdatasync(fd) != 0) {
        if (errno != EINTR) return unexpected(io_error("fdatasync", path, errno));
    }
    return Ok{};
}

StoreResult<Ok> full_sync(int fd, const std::filesystem::path& path) {
    while (::fsync(fd) != 0) {
        if (errno != EINTR) return unexpected(io_error("fsync", path, errno));
    }
    return Ok{};
}

StoreResult<Ok> truncate_file(int fd, std::uint64_t size, const std::filesystem::path& path) {
    while (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        if (errno != EINTR) return unexpected(io_error("truncate", path, errno));
    }
    return Ok{};
}

StoreResult<bool> preallocate(int fd, std::uint64_t size, const std::filesystem::path& path) {
    for (;;) {
        // posix_fallocate would emulate an unsupported fallocate by writing
        // zeros; plain fallocate(2) tells us instead.
        if (::fallocate(fd, 0, 0, static_cast<off_t>(size)) == 0) return true;
        if (errno == EINTR) continue;
        if (errno == EOPNOTSUPP || errno == ENOSYS) return false;
        return unexpected(io_error("fallocate", path, errno));
    }
}

StoreResult<Ok> remove_file(const std::filesystem::path& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return unexpected(io_error("unlink", path, errno));
    return Ok{};
}

StoreResult<Ok> rename_file(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (std::rename(from.c_str(), to.c_str()) != 0) {
        const int err = errno;
        return unexpected(StoreError{
            StoreError::Code::io,
            fmt::format("rename {} to {}: {}", from.string(), to.string(), std::generic_category().message(err))});
    }
    return Ok{};
}

}  // namespace txflow::store::wal
