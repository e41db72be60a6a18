#pragma once
// A WAL directory as a whole: which files it holds, whether they form one
// valid log (snapshot, then segments whose seqs and hash chain continue
// across files), and what recovery would change to make it one. open()
// applies that plan; inspect() and read_dir() only look.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/wal_format.hpp"
#include "txflow/store/wal_store.hpp"

namespace txflow::store::wal {

struct Listing {
    std::vector<std::pair<std::uint64_t, std::string>> segments;   // (first seq, file name), ascending
    std::vector<std::pair<std::uint64_t, std::string>> snapshots;  // (seq, file name), ascending
    std::vector<std::string> temp_files;                           // left by a snapshot write that did not finish
};

StoreResult<Listing> list_dir(const std::filesystem::path& dir);

struct SegmentInfo {
    std::uint64_t first_seq = 0;
    std::uint64_t size = 0;       // bytes of valid data (after recovery's cut)
    std::uint64_t file_size = 0;  // bytes in the file now
    std::uint64_t records = 0;
    std::uint64_t last_seq = 0;   // first_seq - 1 when it holds no record
    std::uint64_t last_hash = 0;  // the chain hash after its last record
};

struct SnapshotInfo {
    std::uint64_t seq = 0;
    std::uint64_t state_size = 0;
    std::string file;
};

struct LogScan {
    std::optional<SnapshotInfo> snapshot;
    std::vector<SegmentInfo> segments;  // what stays, in order, with valid sizes
    RecoveryReport report;
    std::optional<WalCut> corruption;
    bool corruption_repairable = true;  // a damaged snapshot is not
    bool stopped = false;               // the visitor returned false

    // The plan that turns the directory into `segments` (open() applies it).
    std::vector<std::string> remove_segments;                       // whole files
    std::optional<std::pair<std::string, std::uint64_t>> truncate;  // file, new size
    std::vector<std::string> stale_files;                           // older snapshots, temp files
};

struct LogScanOptions {
    bool repair = false;  // plan a cut at the first corruption instead of reporting only
    // Every valid record of the kept log, in order; false stops the scan.
    RecordVisitor visit;
};

StoreResult<LogScan> scan_log(const std::filesystem::path& dir, const LogScanOptions& options);

// "corrupt WAL segment <path> at byte <offset>: <reason>"
[[nodiscard]] StoreError corrupt_error(const WalCut& cut);

// Reads and checks a snapshot file.
StoreResult<Snapshot> read_snapshot_file(const std::filesystem::path& path);

}  // namespace txflow::store::wal
