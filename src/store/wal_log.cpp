#include "store/wal_log.hpp"

#include <fcntl.h>

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "store/crc32c.hpp"
#include "store/wal_io.hpp"

namespace txflow::store::wal {
namespace {

struct SnapshotCheck {
    SnapshotHeader header;
    std::optional<std::string> problem;
};

// Checks a snapshot file's header, size and crc, streaming the state (it is
// not kept). The state goes to `state` when given.
StoreResult<SnapshotCheck> check_snapshot(const std::filesystem::path& path, std::string* state) {
    auto fd = open_file(path, O_RDONLY);
    if (!fd) return unexpected(std::move(fd.error()));
    auto size = file_size(fd->get(), path);
    if (!size) return unexpected(std::move(size.error()));

    SnapshotCheck check;
    std::string header(kSnapshotHeaderSize, '\0');
    auto got = pread_full(fd->get(), header.data(), header.size(), 0, path);
    if (!got) return unexpected(std::move(got.error()));
    header.resize(*got);
    if (auto problem = decode_snapshot_header(header, check.header)) {
        check.problem = std::move(problem);
        return check;
    }
    if (check.header.state_size != *size - kSnapshotHeaderSize) {
        check.problem = fmt::format("the header gives a {} byte state, the file holds {}", check.header.state_size,
                                    *size - kSnapshotHeaderSize);
        return check;
    }
    if (state != nullptr) state->resize(check.header.state_size);
    std::uint32_t crc = snapshot_header_crc(header);
    std::string chunk;
    for (std::uint64_t offset = 0; offset < check.header.state_size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(check.header.state_size - offset, 1u << 20));
        char* dst = nullptr;
        if (state != nullptr) {
            dst = state->data() + offset;
        } else {
            chunk.resize(n);
            dst = chunk.data();
        }
        auto read = pread_full(fd->get(), dst, n, kSnapshotHeaderSize + offset, path);
        if (!read) return unexpected(std::move(read.error()));
        if (*read != n) {
            check.problem = "the file ended early";  // shrank under us
            return check;
        }
        crc = detail::crc32c(crc, dst, n);
        offset += n;
    }
    if (crc != check.header.crc) {
        check.problem = fmt::format("bad crc (stored 0x{:08x}, computed 0x{:08x})", check.header.crc, crc);
    }
    return check;
}

}  // namespace

StoreError corrupt_error(const WalCut& cut) {
    if (parse_snapshot_file_name(cut.segment.filename().string())) {
        return StoreError{StoreError::Code::corrupt,
                          fmt::format("corrupt WAL snapshot {}: {}", cut.segment.string(), cut.reason)};
    }
    return StoreError{StoreError::Code::corrupt, fmt::format("corrupt WAL segment {} at byte {}: {}",
                                                             cut.segment.string(), cut.offset, cut.reason)};
}

StoreResult<Listing> list_dir(const std::filesystem::path& dir) {
    Listing listing;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) return unexpected(io_error("list directory", dir, ec.value()));
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const std::string name = it->path().filename().string();
        std::error_code type_ec;
        if (!it->is_regular_file(type_ec)) continue;
        if (auto seq = parse_segment_file_name(name)) {
            listing.segments.emplace_back(*seq, name);
        } else if (auto snap = parse_snapshot_file_name(name)) {
            listing.snapshots.emplace_back(*snap, name);
        } else if (name.starts_with("snapshot-") && name.ends_with(kTempSuffix)) {
            listing.temp_files.push_back(name);
        }
    }
    if (ec) return unexpected(io_error("list directory", dir, ec.value()));
    std::sort(listing.segments.begin(), listing.segments.end());
    std::sort(listing.snapshots.begin(), listing.snapshots.end());
    return listing;
}

StoreResult<LogScan> scan_log(const std::filesystem::path& dir, const LogScanOptions& options) {
    auto listing = list_dir(dir);
    if (!listing) return unexpected(std::move(listing.error()));

    LogScan scan;
    scan.stale_files = listing->temp_files;

    // ---- the newest snapshot; older ones are stale.
    if (!listing->snapshots.empty()) {
        const auto& [seq, name] = listing->snapshots.back();
        for (std::size_t i = 0; i + 1 < listing->snapshots.size(); ++i) {
            scan.stale_files.push_back(listing->snapshots[i].second);
        }
        auto check = check_snapshot(dir / name, nullptr);
        if (!check) return unexpected(std::move(check.error()));
        if (!check->problem && check->header.seq != seq) {
            check->problem = fmt::format("the header gives seq {}, the file name {}", check->header.seq, seq);
        }
        if (check->problem) {
            scan.corruption = WalCut{dir / name, 0, 0, *check->problem};
            scan.corruption_repairable = false;
            return scan;
        }
        scan.snapshot = SnapshotInfo{seq, check->header.state_size, name};
        scan.report.snapshot_seq = seq;
        scan.report.snapshot_bytes = check->header.state_size;
    }

    // ---- the segments, oldest first.
    const auto& segments = listing->segments;
    const std::uint64_t first_needed = scan.snapshot ? scan.snapshot->seq + 1 : 1;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const auto& [name_seq, name] = segments[i];
        const std::filesystem::path path = dir / name;
        const bool last = i + 1 == segments.size();

        auto fd = open_file(path, O_RDONLY);
        if (!fd) return unexpected(std::move(fd.error()));
        auto size = file_size(fd->get(), path);
        if (!size) return unexpected(std::move(size.error()));

        SegmentExpectation expect;
        expect.name_seq = name_seq;
        expect.last = last;
        if (!scan.segments.empty()) {
            expect.first_seq = scan.segments.back().last_seq + 1;
            expect.prev_hash = scan.segments.back().last_hash;
        }

        SegmentScan seg;
        if (scan.segments.empty() && name_seq > first_needed) {
            // Records before this segment are gone and no snapshot covers them.
            seg.defect = SegmentDefect{
                DefectKind::corrupt, 0,
                scan.snapshot ? fmt::format("seq gap: the log starts at seq {}, the snapshot covers only up to seq {}",
                                            name_seq, scan.snapshot->seq)
                              : fmt::format("seq gap: the log starts at seq {} and there is no snapshot", name_seq)};
        } else {
            FileSource source(fd->get(), path);
            auto scanned = scan_segment(source, *size, expect, options.visit);
            if (!scanned) return unexpected(std::move(scanned.error()));
            seg = std::move(*scanned);
        }

        SegmentInfo info{name_seq, seg.valid_end, *size, seg.records, seg.last_seq, seg.last_hash};
        const bool keep = seg.header_ok;  // a file without a valid header goes entirely
        if (seg.stopped) {
            scan.stopped = true;
            scan.segments.push_back(info);
            break;
        }
        if (!seg.defect) {
            scan.segments.push_back(info);
            continue;
        }

        const SegmentDefect& defect = *seg.defect;
        if (defect.kind == DefectKind::zeros || defect.kind == DefectKind::torn) {
            // Only ever in the last segment (scan_segment's rule).
            if (defect.kind == DefectKind::zeros) {
                scan.report.unused_tail_bytes = *size - defect.offset;
            } else {
                scan.report.torn_tail = WalCut{path, defect.offset, *size - defect.offset, defect.reason};
            }
            if (keep) {
                scan.truncate = std::make_pair(name, defect.offset);
                scan.segments.push_back(info);
            } else {
                scan.remove_segments.push_back(name);
            }
            break;
        }

        // Corruption: reported; with repair, the cut.
        std::uint64_t dropped = *size - defect.offset;
        std::vector<std::string> later;
        for (std::size_t j = i + 1; j < segments.size(); ++j) {
            std::error_code ec;
            const auto later_size = std::filesystem::file_size(dir / segments[j].second, ec);
            if (!ec) dropped += later_size;
            later.push_back(segments[j].second);
        }
        WalCut cut{path, defect.offset, dropped, defect.reason};
        scan.corruption = cut;
        if (keep) scan.segments.push_back(info);  // its records before the cut count
        if (options.repair) {
            scan.report.repaired = cut;
            if (keep) {
                scan.truncate = std::make_pair(name, defect.offset);
            } else {
                scan.remove_segments.push_back(name);
                scan.report.removed_segments.push_back(path);
            }
            for (const auto& l : later) {
                scan.remove_segments.push_back(l);
                scan.report.removed_segments.push_back(dir / l);
            }
        }
        break;
    }

    RecoveryReport& r = scan.report;
    r.segments = scan.segments.size();
    for (const auto& s : scan.segments) {
        if (s.records > 0 && r.first_seq == 0) r.first_seq = s.first_seq;
        if (s.records > 0) r.last_seq = s.last_seq;
        r.records += s.records;
        r.bytes += s.size;
    }
    return scan;
}

StoreResult<Snapshot> read_snapshot_file(const std::filesystem::path& path) {
    Snapshot snapshot;
    auto check = check_snapshot(path, &snapshot.state);
    if (!check) return unexpected(std::move(check.error()));
    if (check->problem) return unexpected(corrupt_error(WalCut{path, 0, 0, *check->problem}));
    snapshot.seq = check->header.seq;
    return snapshot;
}

}  // namespace txflow::store::wal
