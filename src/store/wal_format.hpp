#pragma once
// The WAL's on-disk format (documented in docs/wal-format.md):
// encoding of segment headers, records and snapshot headers, and the segment
// reader that checks them. The reader works on any ByteSource, so the fuzzer
// (fuzz/wal_record_fuzz.cpp) can drive it from memory.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

#include "txflow/store/store.hpp"

namespace txflow::store::wal {

inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr std::string_view kSegmentMagic = "TXFLOWAL";
inline constexpr std::string_view kSnapshotMagic = "TXFLOWSN";
inline constexpr std::size_t kSegmentHeaderSize = 32;
inline constexpr std::size_t kRecordHeaderSize = 28;
// The largest payload a writer accepts (WalStore::kMaxPayload); a reader
// treats a longer length as damage instead of reading that far.
inline constexpr std::size_t kMaxRecordPayload = std::size_t{256} << 20;
inline constexpr std::size_t kSnapshotHeaderSize = 32;

// ------------------------------------------------------------ file names

[[nodiscard]] TXFLOW_EXPORT std::string segment_file_name(std::uint64_t first_seq);  // 00000000000000000001.wal
[[nodiscard]] TXFLOW_EXPORT std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);
[[nodiscard]] TXFLOW_EXPORT std::string snapshot_file_name(std::uint64_t seq);  // snapshot-00000000000000000042.snap
[[nodiscard]] TXFLOW_EXPORT std::optional<std::uint64_t> parse_snapshot_file_name(std::string_view name);
inline constexpr std::string_view kTempSuffix = ".tmp";

// ------------------------------------------------------------ encoding

struct TXFLOW_EXPORT SegmentHeader {
    std::uint64_t first_seq = 0;
    std::uint64_t prev_hash = 0;  // the chain hash before first_seq's record
};

[[nodiscard]] TXFLOW_EXPORT std::string encode_segment_header(const SegmentHeader& header);

// The chain hash of an encoded record: XXH3-64 of its bytes after the crc field.
[[nodiscard]] TXFLOW_EXPORT std::uint64_t chain_hash(std::string_view record_after_crc) noexcept;

// Appends one encoded record to out and returns its chain hash.
TXFLOW_EXPORT std::uint64_t append_record(std::string& out, std::uint64_t seq, std::uint64_t prev_hash,
                                          std::uint16_t type, std::string_view payload);

struct TXFLOW_EXPORT SnapshotHeader {
    std::uint64_t seq = 0;
    std::uint64_t state_size = 0;
    std::uint32_t crc = 0;  // as stored
};

[[nodiscard]] TXFLOW_EXPORT std::string encode_snapshot_header(std::uint64_t seq, std::string_view state);
// Checks magic, version and flags; the crc needs the state: snapshot_crc().
[[nodiscard]] TXFLOW_EXPORT std::optional<std::string> decode_snapshot_header(std::string_view bytes,
                                                                              SnapshotHeader& out);
// CRC of a snapshot: the header's bytes around its crc field, then the state (extend with crc32c).
[[nodiscard]] TXFLOW_EXPORT std::uint32_t snapshot_header_crc(std::string_view header) noexcept;

// ------------------------------------------------------------ reading

class TXFLOW_EXPORT ByteSource {
public:
    virtual ~ByteSource() = default;
    // Up to size bytes at offset; fewer only at the end of the source.
    virtual StoreResult<std::size_t> read_at(std::uint64_t offset, char* dst, std::size_t size) = 0;
};

class TXFLOW_EXPORT MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
    StoreResult<std::size_t> read_at(std::uint64_t offset, char* dst, std::size_t size) override;

private:
    std::string_view bytes_;
};

class TXFLOW_EXPORT FileSource final : public ByteSource {
public:
    FileSource(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
    StoreResult<std::size_t> read_at(std::uint64_t offset, char* dst, std::size_t size) override;

private:
    int fd_;
    std::filesystem::path path_;
};

struct TXFLOW_EXPORT RecordView {
    std::uint64_t offset = 0;  // of the record in its segment file
    std::uint64_t seq = 0;
    std::uint64_t prev_hash = 0;
    std::uint64_t hash = 0;  // this record's chain hash
    std::uint16_t type = 0;
    std::string_view payload;  // valid only during the visit
};

// What a segment scan expects of the segment, from its file name and the
// segment before it.
struct TXFLOW_EXPORT SegmentExpectation {
    std::optional<std::uint64_t> name_seq;   // the first seq its file name gives
    std::optional<std::uint64_t> first_seq;  // previous segment's last seq + 1
    std::optional<std::uint64_t> prev_hash;  // previous segment's last chain hash
    // The log's last segment: a damaged end may be a torn write or preallocated zeros.
    bool last = false;
};

enum class DefectKind : std::uint8_t {
    corrupt,  // damage a crash cannot explain: open() fails unless repairing
    torn,     // an interrupted write at the end of the log: truncated on open
    zeros,    // only zeros from here to the end: preallocated space, no data lost
};

struct TXFLOW_EXPORT SegmentDefect {
    DefectKind kind = DefectKind::corrupt;
    std::uint64_t offset = 0;
    std::string reason;
};

struct TXFLOW_EXPORT SegmentScan {
    bool header_ok = false;
    SegmentHeader header;
    std::uint64_t records = 0;
    std::uint64_t last_seq = 0;           // header.first_seq - 1 when there are no records
    std::uint64_t last_hash = 0;          // header.prev_hash when there are no records
    std::uint64_t valid_end = 0;          // offset just past the last valid record (0: no valid header)
    std::optional<SegmentDefect> defect;  // the first problem; the scan stops there
    bool stopped = false;                 // the visitor returned false
};

using RecordVisitor = std::function<bool(const RecordView&)>;

// Reads and checks bytes [0, end) of a segment, calling visit (if any) for each
// valid record in order until it returns false. Errors are only the source's
// (I/O); damage is a defect in the result.
TXFLOW_EXPORT StoreResult<SegmentScan> scan_segment(ByteSource& source, std::uint64_t end,
                                                    const SegmentExpectation& expect, const RecordVisitor& visit);

}  // namespace txflow::store::wal
