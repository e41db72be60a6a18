#pragma once
// POSIX file helpers for the WAL: an owning fd, and reads, writes and syncs
// that retry on EINTR and short transfers and turn errno into a StoreError
// naming the operation and the file.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "txflow/store/store.hpp"

namespace txflow::store::wal {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset(int fd = -1) noexcept;  // closes the old fd (close(2) is not retried: Linux frees it anyway)

private:
    int fd_ = -1;
};

[[nodiscard]] StoreError io_error(std::string_view what, const std::filesystem::path& path, int err);

// open(2) with O_CLOEXEC added. A file it creates gets exactly `mode`,
// whatever the umask: the WAL holds saga inputs and step data, so 0600.
StoreResult<Fd> open_file(const std::filesystem::path& path, int flags, unsigned mode = 0600);
// Creates `dir` (and its missing parents) and makes the directory itself
// 0700; an existing `dir` is refused when group or others may write it
// (they could plant or remove segments), the message naming the fix.
StoreResult<Ok> prepare_state_dir(const std::filesystem::path& dir);
StoreResult<Fd> open_directory(const std::filesystem::path& path);

StoreResult<Ok> pwrite_all(int fd, std::string_view data, std::uint64_t offset, const std::filesystem::path& path);
// Reads up to size bytes at offset; fewer only at end of file.
StoreResult<std::size_t> pread_full(int fd, char* dst, std::size_t size, std::uint64_t offset,
                                    const std::filesystem::path& path);
StoreResult<std::uint64_t> file_size(int fd, const std::filesystem::path& path);
StoreResult<Ok> data_sync(int fd, const std::filesystem::path& path);  // fdatasync
StoreResult<Ok> full_sync(int fd, const std::filesystem::path& path);  // fsync (directories, snapshots)
StoreResult<Ok> truncate_file(int fd, std::uint64_t size, const std::filesystem::path& path);
// Extends the file to at least `size` with allocated zeros. Returns false when
// the file system cannot (EOPNOTSUPP): callers then simply append.
StoreResult<bool> preallocate(int fd, std::uint64_t size, const std::filesystem::path& path);
StoreResult<Ok> remove_file(const std::filesystem::path& path);  // ENOENT is fine
StoreResult<Ok> rename_file(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace txflow::store::wal
