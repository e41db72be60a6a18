#include "store/wal_format.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <xxhash.h>

#include "store/crc32c.hpp"
#include "store/wal_io.hpp"

namespace txflow::store::wal {
namespace {

// ------------------------------------------------------------ little-endian

template <class T>
void put_le(std::string& out, T value) {
    const std::uint64_t v = value;
    for (std::size_t i = 0; i < sizeof(T); ++i)
        out.push_back(static_cast<char>(static_cast<unsigned char>(v >> (8 * i))));
}

template <class T>
T get_le(const char* p) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = sizeof(T); i-- > 0;) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return static_cast<T>(v);
}

template <class T>
void set_le(char* p, T value) noexcept {
    const std::uint64_t v = value;
    for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>(static_cast<unsigned char>(v >> (8 * i)));
}

// Both file headers: the crc covers the bytes before and after its field (12..16).
std::uint32_t header_crc(std::string_view header) noexcept {
    return detail::crc32c(detail::crc32c(0, header.substr(0, 12)), header.substr(16));
}

std::optional<std::uint64_t> parse_digits(std::string_view digits) {
    if (digits.size() != 20) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

// ------------------------------------------------------------ buffered reads

// A window over bytes [0, end) of a source, refilled with large reads, so a
// scan costs about one read(2) per MiB.
class Window {
public:
    Window(ByteSource& source, std::uint64_t end) : source_(source), end_(end) {}

    // Bytes [offset, offset + size). The caller checks offset + size <= end.
    StoreResult<std::string_view> get(std::uint64_t offset, std::size_t size) {
        if (offset >= begin_ && offset + size <= begin_ + length_) {
            return std::string_view(buffer_.data() + (offset - begin_), size);
        }
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(std::max<std::size_t>(size, kChunk), end_ - offset));
        std::size_t keep = 0;
        if (offset >= begin_ && offset < begin_ + length_) {
            keep = static_cast<std::size_t>(begin_ + length_ - offset);
            std::memmove(buffer_.data(), buffer_.data() + (offset - begin_), keep);
        }
        if (buffer_.size() < want) buffer_.resize(want);
        auto got = source_.read_at(offset + keep, buffer_.data() + keep, want - keep);
        if (!got) return unexpected(std::move(got.error()));
        begin_ = offset;
        length_ = keep + *got;
        if (length_ < size) {
            return unexpected(StoreError{
                StoreError::Code::io,
                fmt::format("file ended at byte {} while reading up to {}", offset + length_, offset + size)});
        }
        return std::string_view(buffer_.data(), size);
    }

private:
    static constexpr std::size_t kChunk = std::size_t{1} << 20;
    ByteSource& source_;
    std::uint64_t end_;
    std::string buffer_;
    std::uint64_t begin_ = 0;
    std::size_t length_ = 0;
};

StoreResult<bool> only_zeros(Window& window, std::uint64_t from, std::uint64_t end) {
    constexpr std::size_t kStep = 64 * 1024;
    while (from < end) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kStep, end - from));
        auto bytes = window.get(from, n);
        if (!bytes) return unexpected(std::move(bytes.error()));
        if (std::any_of(bytes->begin(), bytes->end(), [](char c) { return c != 0; })) return false;
        from += n;
    }
    return true;
}

struct Found {
    std::uint64_t offset = 0;
    std::uint64_t seq = 0;
};

// The first offset after `from` holding a record with a valid crc and a seq
// that could follow after_seq. Used to tell a torn write (nothing valid after
// it) from damage in the middle of the log. A payload that embeds a whole
// encoded record with a plausible seq could make a torn tail look like
// corruption: open() then fails naming both offsets, and repair cuts there.
StoreResult<std::optional<Found>> find_valid_record(Window& window, std::uint64_t from, std::uint64_t end,
                                                    std::uint64_t after_seq) {
    const std::uint64_t max_seq = after_seq + (end - from) / kRecordHeaderSize + 1;
    for (std::uint64_t q = from + 1; q + kRecordHeaderSize <= end; ++q) {
        auto header = window.get(q, kRecordHeaderSize);
        if (!header) return unexpected(std::move(header.error()));
        const char* h = header->data();
        const auto length = get_le<std::uint32_t>(h + 4);
        const auto seq = get_le<std::uint64_t>(h + 8);
        const auto flags = get_le<std::uint16_t>(h + 26);
        if (flags != 0 || seq <= after_seq || seq > max_seq) continue;
        if (length > kMaxRecordPayload || length > end - q - kRecordHeaderSize) continue;
        auto record = window.get(q, kRecordHeaderSize + length);
        if (!record) return unexpected(std::move(record.error()));
        if (detail::crc32c(0, record->substr(4)) == get_le<std::uint32_t>(record->data())) {
            return std::optional<Found>(Found{q, seq});
        }
    }
    return std::optional<Found>();
}

}  // namespace

// ------------------------------------------------------------ file names

std::string segment_file_name(std::uint64_t first_seq) {
    return fmt::format("{:020}.wal", first_seq);
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
    constexpr std::string_view suffix = ".wal";
    if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) return std::nullopt;
    return parse_digits(name.substr(0, 20));
}

std::string snapshot_file_name(std::uint64_t seq) {
    return fmt::format("snapshot-{:020}.snap", seq);
}

std::optional<std::uint64_t> parse_snapshot_file_name(std::string_view name) {
    constexpr std::string_view prefix = "snapshot-";
    constexpr std::string_view suffix = ".snap";
    if (name.size() != prefix.size() + 20 + suffix.size()) return std::nullopt;
    if (name.substr(0, prefix.size()) != prefix || name.substr(prefix.size() + 20) != suffix) return std::nullopt;
    return parse_digits(name.substr(prefix.size(), 20));
}

// ------------------------------------------------------------ encoding

std::string encode_segment_header(const SegmentHeader& header) {
    std::string out;
    out.reserve(kSegmentHeaderSize);
    out.append(kSegmentMagic);
    put_le<std::uint16_t>(out, kFormatVersion);
    put_le<std::uint16_t>(out, 0);  // flags
    put_le<std::uint32_t>(out, 0);  // crc, below
    put_le<std::uint64_t>(out, header.first_seq);
    put_le<std::uint64_t>(out, header.prev_hash);
    set_le<std::uint32_t>(out.data() + 12, header_crc(out));
    return out;
}

std::uint64_t chain_hash(std::string_view record_after_crc) noexcept {
    return XXH3_64bits(record_after_crc.data(), record_after_crc.size());
}

std::uint64_t append_record(std::string& out, std::uint64_t seq, std::uint64_t prev_hash, std::uint16_t type,
                            std::string_view payload) {
    const std::size_t start = out.size();
    put_le<std::uint32_t>(out, 0);  // crc, below
    put_le<std::uint32_t>(out, static_cast<std::uint32_t>(payload.size()));
    put_le<std::uint64_t>(out, seq);
    put_le<std::uint64_t>(out, prev_hash);
    put_le<std::uint16_t>(out, type);
    put_le<std::uint16_t>(out, 0);  // flags
    out.append(payload);
    const std::string_view covered = std::string_view(out).substr(start + 4);
    set_le<std::uint32_t>(out.data() + start, detail::crc32c(0, covered));
    return chain_hash(covered);
}

std::string encode_snapshot_header(std::uint64_t seq, std::string_view state) {
    std::string out;
    out.reserve(kSnapshotHeaderSize);
    out.append(kSnapshotMagic);
    put_le<std::uint16_t>(out, kFormatVersion);
    put_le<std::uint16_t>(out, 0);  // flags
    put_le<std::uint32_t>(out, 0);  // crc, below
    put_le<std::uint64_t>(out, seq);
    put_le<std::uint64_t>(out, state.size());
    set_le<std::uint32_t>(out.data() + 12, detail::crc32c(snapshot_header_crc(out), state));
    return out;
}

std::uint32_t snapshot_header_crc(std::string_view header) noexcept {
    return header_crc(header);
}

std::optional<std::string> decode_snapshot_header(std::string_view bytes, SnapshotHeader& out) {
    if (bytes.size() < kSnapshotHeaderSize) {
        return fmt::format("short snapshot header: {} of {} bytes", bytes.size(), kSnapshotHeaderSize);
    }
    if (bytes.substr(0, 8) != kSnapshotMagic) return std::string("bad magic (not a txflow snapshot)");
    const char* p = bytes.data();
    if (const auto version = get_le<std::uint16_t>(p + 8); version != kFormatVersion) {
        return fmt::format("unsupported snapshot format version {}", version);
    }
    if (const auto flags = get_le<std::uint16_t>(p + 10); flags != 0) {
        return fmt::format("unknown snapshot flags 0x{:04x}", flags);
    }
    out.crc = get_le<std::uint32_t>(p + 12);
    out.seq = get_le<std::uint64_t>(p + 16);
    out.state_size = get_le<std::uint64_t>(p + 24);
    return std::nullopt;
}

// ------------------------------------------------------------ reading

StoreResult<std::size_t> MemorySource::read_at(std::uint64_t offset, char* dst, std::size_t size) {
    if (offset >= bytes_.size()) return std::size_t{0};
    const std::size_t n = std::min<std::size_t>(size, bytes_.size() - static_cast<std::size_t>(offset));
    std::memcpy(dst, bytes_.data() + offset, n);
    return n;
}

StoreResult<std::size_t> FileSource::read_at(std::uint64_t offset, char* dst, std::size_t size) {
    return pread_full(fd_, dst, size, offset, path_);
}

StoreResult<SegmentScan> scan_segment(ByteSource& source, std::uint64_t end, const SegmentExpectation& expect,
                                      const RecordVisitor& visit) {
    SegmentScan scan;
    Window window(source, end);
    auto fail = [&](DefectKind kind, std::uint64_t offset, std::string reason) -> StoreResult<SegmentScan> {
        scan.defect = SegmentDefect{kind, offset, std::move(reason)};
        return scan;
    };
    // Damage a crash can leave at the end of the log: zeros, a torn write, or
    // (with valid records after it) corruption.
    auto damaged = [&](std::uint64_t offset, std::string reason) -> StoreResult<SegmentScan> {
        if (!expect.last) return fail(DefectKind::corrupt, offset, std::move(reason));
        auto zeros = only_zeros(window, offset, end);
        if (!zeros) return unexpected(std::move(zeros.error()));
        if (*zeros) return fail(DefectKind::zeros, offset, "preallocated zeros");
        if (!scan.header_ok) return fail(DefectKind::torn, offset, std::move(reason));
        auto found = find_valid_record(window, offset, end, scan.last_seq);
        if (!found) return unexpected(std::move(found.error()));
        if (*found) {
            return fail(
                DefectKind::corrupt, offset,
                fmt::format("{}; a valid record (seq {}) follows at byte {}", reason, (*found)->seq, (*found)->offset));
        }
        return fail(DefectKind::torn, offset, std::move(reason));
    };

    // ---- header
    if (end < kSegmentHeaderSize) {
        return damaged(0, fmt::format("short segment header: {} of {} bytes", end, kSegmentHeaderSize));
    }
    auto header = window.get(0, kSegmentHeaderSize);
    if (!header) return unexpected(std::move(header.error()));
    const char* h = header->data();
    if (header->substr(0, 8) != kSegmentMagic) {
        if (expect.last) {
            auto zeros = only_zeros(window, 0, end);
            if (!zeros) return unexpected(std::move(zeros.error()));
            if (*zeros) return fail(DefectKind::zeros, 0, "preallocated zeros");
        }
        return fail(DefectKind::corrupt, 0, "bad magic (not a txflow WAL segment)");
    }
    if (const auto version = get_le<std::uint16_t>(h + 8); version != kFormatVersion) {
        return fail(DefectKind::corrupt, 0, fmt::format("unsupported segment format version {}", version));
    }
    if (const auto flags = get_le<std::uint16_t>(h + 10); flags != 0) {
        return fail(DefectKind::corrupt, 0, fmt::format("unknown segment flags 0x{:04x}", flags));
    }
    if (const auto stored = get_le<std::uint32_t>(h + 12), computed = header_crc(*header); stored != computed) {
        return fail(DefectKind::corrupt, 0,
                    fmt::format("bad segment header crc (stored 0x{:08x}, computed 0x{:08x})", stored, computed));
    }
    scan.header.first_seq = get_le<std::uint64_t>(h + 16);
    scan.header.prev_hash = get_le<std::uint64_t>(h + 24);
    if (scan.header.first_seq == 0) return fail(DefectKind::corrupt, 0, "segment header gives first seq 0");
    if (expect.name_seq && *expect.name_seq != scan.header.first_seq) {
        return fail(DefectKind::corrupt, 0,
                    fmt::format("segment header gives first seq {}, its file name {}", scan.header.first_seq,
                                *expect.name_seq));
    }
    if (expect.first_seq && *expect.first_seq != scan.header.first_seq) {
        return fail(DefectKind::corrupt, 0,
                    fmt::format("seq gap: the segment starts at seq {}, the previous one ends at seq {}",
                                scan.header.first_seq, *expect.first_seq - 1));
    }
    if (expect.prev_hash && *expect.prev_hash != scan.header.prev_hash) {
        return fail(DefectKind::corrupt, 0,
                    fmt::format("chain mismatch: the segment header's prev hash 0x{:016x} is not the hash "
                                "0x{:016x} of seq {} that ends the previous segment",
                                scan.header.prev_hash, *expect.prev_hash, scan.header.first_seq - 1));
    }
    scan.header_ok = true;
    scan.last_seq = scan.header.first_seq - 1;
    scan.last_hash = scan.header.prev_hash;
    scan.valid_end = kSegmentHeaderSize;

    // ---- records
    std::uint64_t pos = kSegmentHeaderSize;
    while (pos < end) {
        const std::uint64_t remaining = end - pos;
        if (remaining < kRecordHeaderSize) {
            return damaged(pos, fmt::format("short record header: {} of {} bytes before the end of the file", remaining,
                                            kRecordHeaderSize));
        }
        auto head = window.get(pos, kRecordHeaderSize);
        if (!head) return unexpected(std::move(head.error()));
        const auto stored_crc = get_le<std::uint32_t>(head->data());
        const auto length = get_le<std::uint32_t>(head->data() + 4);
        if (length > kMaxRecordPayload) {
            return damaged(pos, fmt::format("record length {} is over the {} byte limit", length, kMaxRecordPayload));
        }
        if (length > remaining - kRecordHeaderSize) {
            return damaged(
                pos, fmt::format("short payload: the record gives {} bytes, the file has {} after its header", length,
                                 remaining - kRecordHeaderSize));
        }
        auto bytes = window.get(pos, kRecordHeaderSize + length);
        if (!bytes) return unexpected(std::move(bytes.error()));
        const std::string_view covered = bytes->substr(4);
        if (const auto computed = detail::crc32c(0, covered); computed != stored_crc) {
            return damaged(pos, fmt::format("bad crc (stored 0x{:08x}, computed 0x{:08x})", stored_crc, computed));
        }
        const char* r = bytes->data();
        const auto seq = get_le<std::uint64_t>(r + 8);
        const auto prev = get_le<std::uint64_t>(r + 16);
        const auto type = get_le<std::uint16_t>(r + 24);
        if (const auto flags = get_le<std::uint16_t>(r + 26); flags != 0) {
            return fail(DefectKind::corrupt, pos, fmt::format("unknown record flags 0x{:04x}", flags));
        }
        // The chain before the seq: a record moved from elsewhere in this log
        // or copied from another one is a chain mismatch whatever its seq.
        if (prev != scan.last_hash) {
            return fail(DefectKind::corrupt, pos,
                        fmt::format("chain mismatch: the record (seq {}) gives prev hash 0x{:016x}, but the "
                                    "record before it (seq {}) hashes to 0x{:016x}",
                                    seq, prev, scan.last_seq, scan.last_hash));
        }
        if (seq != scan.last_seq + 1) {
            return fail(DefectKind::corrupt, pos,
                        fmt::format("seq gap: expected seq {}, found {}", scan.last_seq + 1, seq));
        }
        const std::uint64_t hash = chain_hash(covered);
        scan.records += 1;
        scan.last_seq = seq;
        scan.last_hash = hash;
        scan.valid_end = pos + kRecordHeaderSize + length;
        if (visit && !visit(RecordView{pos, seq, prev, hash, type, bytes->substr(kRecordHeaderSize)})) {
            scan.stopped = true;
            return scan;
        }
        pos = scan.valid_end;
    }
    return scan;
}

}  // namespace txflow::store::wal
