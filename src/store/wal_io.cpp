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
        if (fd >= 0) return Fd{fd};
        if (errno != EINTR) return unexpected(io_error("open", path, errno));
    }
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
