#pragma once
// Helpers for the WAL tests: scratch directories, whole-file reads and
// writes, and a directory fingerprint to prove that a read-only path changed
// nothing.

#include <unistd.h>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <system_error>

#include "txflow/store/wal_store.hpp"

namespace txflow::test {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    explicit TempDir(const std::string& tag = "wal") {
        static std::atomic<unsigned> counter{0};
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() / ("txflow-test-" + tag + "-" + std::to_string(::getpid()) +
                                                          "-" + std::to_string(counter++) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// name -> content of every file in dir.
inline std::map<std::string, std::string> fingerprint(const std::filesystem::path& dir) {
    std::map<std::string, std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        files[entry.path().filename().string()] = read_file(entry.path());
    }
    return files;
}

// Files deleted while it runs (a concurrent compaction) are skipped.
inline std::uint64_t dir_bytes(const std::filesystem::path& dir) {
    std::uint64_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::error_code ec;
        const std::uintmax_t size = entry.file_size(ec);
        if (!ec) total += size;
    }
    return total;
}

inline std::size_t count_files(const std::filesystem::path& dir, const std::string& suffix) {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().filename().string().ends_with(suffix)) ++n;
    }
    return n;
}

inline std::unique_ptr<store::WalStore> open_wal(store::WalOptions options) {
    auto wal = store::WalStore::open(std::move(options));
    if (!wal) throw std::runtime_error("WalStore::open failed: " + wal.error().message);
    return std::move(*wal);
}

}  // namespace txflow::test
