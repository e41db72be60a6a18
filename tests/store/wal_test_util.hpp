#pragma once
// Helpers for the WAL tests: whole-file reads and
// writes, and a directory fingerprint to prove that a read-only path changed
// nothing.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <system_error>

#include "txflow/store/wal_store.hpp"
#include "txflow/testing/temp_dir.hpp"

namespace txflow::test {

// The test kit's scratch directory (the one TempDir of the tests).
using testing::TempDir;

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
