// WalStore's public face: open (check, repair, recover a directory), submit
// and sync, reads, snapshots and compaction, close. The write path is in
// wal_writer.cpp, the shared state in wal_store_impl.hpp; checking a
// directory lives in wal_log.cpp, the format in wal_format.cpp.

#include "txflow/store/wal_store.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "store/wal_log.hpp"
#include "store/wal_store_impl.hpp"

namespace txflow::store {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

static_assert(WalStore::kMaxPayload == wal::kMaxRecordPayload, "the reader checks what the writer accepts");

namespace {

constexpr std::uint64_t kMinSegmentBytes = 64;
constexpr std::size_t kMaxPendingBytes = std::size_t{16} << 20;  // submit() writes out beyond this

StoreError invalid(std::string message) {
    return StoreError{StoreError::Code::invalid, std::move(message)};
}

std::uint64_t random_genesis() {
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ std::uint64_t{device()};
}

}  // namespace

// ---------------------------------------------------------------------- open

WalStore::WalStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WalStore::~WalStore() {
    if (impl_) (void)close();
}

StoreResult<std::unique_ptr<WalStore>> WalStore::open(WalOptions options) {
    if (options.dir.empty()) return unexpected(invalid("WalOptions::dir is empty"));
    if (options.segment_bytes < kMinSegmentBytes) {
        return unexpected(invalid(fmt::format("WalOptions::segment_bytes is {}, the minimum is {}",
                                              options.segment_bytes, kMinSegmentBytes)));
    }
    if (options.durability.kind() == Durability::Kind::interval && options.durability.period() <= 0ns) {
        return unexpected(invalid("Durability::interval needs a positive period"));
    }

    std::error_code ec;
    if (auto prepared = wal::prepare_state_dir(options.dir); !prepared) return unexpected(std::move(prepared.error()));
    // Reads open segment files by path: a later chdir() must not matter.
    fs::path absolute = fs::absolute(options.dir, ec);
    if (ec) return unexpected(wal::io_error("resolve", options.dir, ec.value()));
    options.dir = std::move(absolute);

    auto impl = std::make_unique<Impl>();
    Impl& s = *impl;
    s.options = std::move(options);
    const fs::path& dir = s.options.dir;

    auto dir_fd = wal::open_directory(dir);
    if (!dir_fd) return unexpected(std::move(dir_fd.error()));
    s.dir_fd = std::move(*dir_fd);
    while (::flock(s.dir_fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) {
            return unexpected(StoreError{StoreError::Code::io,
                                         fmt::format("WAL directory {} is in use by another WalStore", dir.string())});
        }
        return unexpected(wal::io_error("lock", dir, errno));
    }

    // Check everything; note the payload size of every record for bytes_since_snapshot().
    std::uint64_t first_visited = 0;
    std::deque<std::uint64_t> totals;
    std::uint64_t running = 0;
    wal::LogScanOptions scan_options;
    scan_options.repair = s.options.repair;
    scan_options.visit = [&](const wal::RecordView& r) {
        if (totals.empty()) first_visited = r.seq;
        running += r.payload.size();
        totals.push_back(running);
        return true;
    };
    auto scan = wal::scan_log(dir, scan_options);
    if (!scan) return unexpected(std::move(scan.error()));
    if (scan->corruption && (!s.options.repair || !scan->corruption_repairable)) {
        StoreError error = wal::corrupt_error(*scan->corruption);
        if (scan->corruption_repairable)
            error.message +=
                fmt::format(" (`txflow wal repair {}` or WalOptions::repair cuts the log there)", dir.string());
        return unexpected(std::move(error));
    }
    s.report = scan->report;

    // Apply recovery's plan.
    bool dir_changed = false;
    auto remove = [&](const std::string& name) -> StoreResult<Ok> {
        dir_changed = true;
        return wal::remove_file(s.path_of(name));
    };
    for (const auto& name : scan->stale_files) {
        if (auto r = remove(name); !r) return unexpected(std::move(r.error()));
    }
    for (const auto& name : scan->remove_segments) {
        if (auto r = remove(name); !r) return unexpected(std::move(r.error()));
    }
    if (scan->truncate) {
        const fs::path path = s.path_of(scan->truncate->first);
        auto fd = wal::open_file(path, O_WRONLY);
        if (!fd) return unexpected(std::move(fd.error()));
        if (auto r = wal::truncate_file(fd->get(), scan->truncate->second, path); !r) {
            return unexpected(std::move(r.error()));
        }
        if (auto r = wal::data_sync(fd->get(), path); !r) return unexpected(std::move(r.error()));
    }

    // Where the log continues.
    std::vector<wal::SegmentInfo>& kept = scan->segments;
    const std::uint64_t snapshot_seq = scan->snapshot ? scan->snapshot->seq : 0;
    s.snapshot_seq = scan->snapshot ? std::optional<std::uint64_t>(snapshot_seq) : std::nullopt;
    const std::uint64_t log_last = kept.empty() ? 0 : kept.back().last_seq;
    s.next_seq = std::max(log_last, snapshot_seq) + 1;
    s.last_hash = kept.empty() ? random_genesis() : kept.back().last_hash;
    for (const auto& seg : kept) s.segments.push_back({seg.first_seq, seg.size});
    if (!kept.empty() && log_last < snapshot_seq) {
        // A cut log the snapshot entirely covers (after repair, say): start afresh after the snapshot.
        for (const auto& seg : kept) {
            if (auto r = remove(wal::segment_file_name(seg.first_seq)); !r) return unexpected(std::move(r.error()));
        }
        s.segments.clear();
    }
    s.retire_covered_segments(snapshot_seq);
    for (const auto& name : s.take_unpinned_retired()) {
        if (auto r = remove(name); !r) return unexpected(std::move(r.error()));
    }
    if (dir_changed) {
        if (auto r = wal::full_sync(s.dir_fd.get(), dir); !r) return unexpected(std::move(r.error()));
    }

    if (s.segments.empty()) {
        if (auto r = s.create_segment(s.next_seq, s.last_hash); !r) return unexpected(std::move(r.error()));
        if (auto r = wal::data_sync(s.tail_fd.get(), s.tail_path); !r) return unexpected(std::move(r.error()));
        s.segments.push_back({s.next_seq, s.tail_written});
    } else {
        const Impl::SegmentFile& tail = s.segments.back();
        s.tail_path = s.path_of(wal::segment_file_name(tail.first_seq));
        auto fd = wal::open_file(s.tail_path, O_WRONLY);
        if (!fd) return unexpected(std::move(fd.error()));
        auto size = wal::file_size(fd->get(), s.tail_path);
        if (!size) return unexpected(std::move(size.error()));
        s.tail_fd = std::move(*fd);
        s.tail_file_first_seq = tail.first_seq;
        s.tail_written = tail.size;
        s.tail_allocated = *size;
    }
    s.tail_first_seq = s.segments.back().first_seq;
    s.tail_bytes = s.segments.back().size;
    s.tail_records = s.next_seq - s.tail_first_seq;
    s.written_seq = s.durable_seq = s.next_seq - 1;

    // bytes_since_snapshot(): the payload of the records after the snapshot.
    s.payload_total = running;
    s.totals = std::move(totals);
    s.totals_base = first_visited == 0 ? s.next_seq - 1 : first_visited - 1;
    s.forget_totals_through(snapshot_seq);
    if (s.totals_base < snapshot_seq) s.totals_base = snapshot_seq;
    if (s.totals.empty()) s.payload_at_snapshot = s.payload_total;

    s.publish_writer_stats();

    std::unique_ptr<WalStore> store(new WalStore(std::move(impl)));
    store->impl_->background = std::thread([&s] { s.background_loop(); });
    return store;
}

// ---------------------------------------------------------------------- writes

StoreResult<std::uint64_t> WalStore::submit(std::uint16_t type, std::string_view payload) {
    if (payload.size() > kMaxPayload) {
        return unexpected(
            invalid(fmt::format("payload of {} bytes is over the {} byte limit", payload.size(), kMaxPayload)));
    }
    Impl& s = *impl_;
    std::unique_lock lock(s.mutex);
    // Back-pressure: when the disk falls behind, submitters write out what
    // is waiting (or wait for the writer) instead of buffering without bound.
    for (;;) {
        if (s.closed || s.stopping) return unexpected(s.closed_error());
        if (s.failed) return unexpected(s.failed_error());
        if (s.pending_bytes < kMaxPendingBytes) break;
        if (!s.writing) {
            s.flush_locked(lock, false);
        } else {
            s.flushed.wait(lock);
        }
    }

    const std::uint64_t seq = s.next_seq;
    const std::uint64_t size = wal::kRecordHeaderSize + payload.size();
    if (s.tail_records > 0 && s.tail_bytes + size > s.options.segment_bytes) s.start_segment_locked();
    if (s.pending.empty()) s.pending.push_back(Impl::Chunk{false, seq, s.last_hash, s.take_spare()});
    s.last_hash = wal::append_record(s.pending.back().bytes, seq, s.last_hash, type, payload);
    s.next_seq = seq + 1;
    s.stats.records_submitted += 1;
    s.tail_bytes += size;
    s.tail_records += 1;
    s.pending_bytes += size;
    s.payload_total += payload.size();
    s.totals.push_back(s.payload_total);
    s.wake_background_locked();
    return seq;
}

StoreResult<Ok> WalStore::sync(std::uint64_t seq) {
    Impl& s = *impl_;
    std::unique_lock lock(s.mutex);
    if (seq >= s.next_seq) {
        return unexpected(invalid(fmt::format("sync({}) is beyond the last record {}", seq, s.next_seq - 1)));
    }
    return s.wait_for(lock, seq, s.every_record());
}

// ---------------------------------------------------------------------- reads

StoreResult<Ok> WalStore::read(std::uint64_t after, const std::function<bool(const Record&)>& visit) {
    Impl& s = *impl_;
    struct Part {
        std::uint64_t first_seq;
        std::uint64_t size;
        std::uint64_t last_seq;
    };
    std::vector<Part> parts;
    std::uint64_t bound = 0;
    std::optional<Impl::ReadPin> pin;  // keeps compaction off the files in `parts` until they are open
    {
        std::unique_lock lock(s.mutex);
        if (s.closed) return unexpected(s.closed_error());
        if (!s.failed) {
            // Records still in memory go to the file first: reads come from disk only.
            auto written = s.wait_for(lock, s.next_seq - 1, false);
            if (!written) return written;
        }
        bound = s.written_seq;
        // Records after `after` already compacted away: say so rather than skip them.
        const std::uint64_t first_kept = s.segments.front().first_seq;
        if (after < first_kept - 1) {
            return unexpected(invalid(fmt::format(
                "read after seq {}: records {} to {} were compacted away{}; read from the snapshot's seq", after,
                after + 1, first_kept - 1,
                s.snapshot_seq ? fmt::format(" (the snapshot at seq {} covers them)", *s.snapshot_seq) : "")));
        }
        for (std::size_t i = 0; i < s.segments.size(); ++i) {
            const std::uint64_t last = i + 1 < s.segments.size() ? s.segments[i + 1].first_seq - 1 : bound;
            if (last > after) parts.push_back({s.segments[i].first_seq, s.segments[i].size, last});
        }
        if (!parts.empty()) pin.emplace(s, parts.front().first_seq);
    }

    Record record;
    bool stop = false;
    std::optional<std::uint64_t> expect_first;
    std::optional<std::uint64_t> expect_hash;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Part& part = parts[i];
        const fs::path path = s.path_of(wal::segment_file_name(part.first_seq));
        auto fd = wal::open_file(path, O_RDONLY);
        if (!fd) return unexpected(std::move(fd.error()));  // pinned: never deleted, so a real error
        // Open, so the file may go: let compaction have it.
        pin->move_to(i + 1 < parts.size() ? std::optional(parts[i + 1].first_seq) : std::nullopt);
        wal::FileSource source(fd->get(), path);
        wal::SegmentExpectation expect;
        expect.name_seq = part.first_seq;
        expect.first_seq = expect_first;
        expect.prev_hash = expect_hash;
        auto scan = wal::scan_segment(source, part.size, expect, [&](const wal::RecordView& r) {
            if (r.seq > bound) return false;
            if (r.seq <= after) return true;
            record.seq = r.seq;
            record.type = r.type;
            record.payload.assign(r.payload);
            if (!visit(record)) stop = true;
            return !stop;
        });
        if (!scan) return unexpected(std::move(scan.error()));
        if (scan->defect) {
            return unexpected(wal::corrupt_error(WalCut{path, scan->defect->offset, 0, scan->defect->reason}));
        }
        if (stop || scan->stopped) return Ok{};
        expect_first = scan->last_seq + 1;
        expect_hash = scan->last_hash;
    }
    return Ok{};
}

StoreResult<std::optional<Snapshot>> WalStore::load_snapshot() {
    Impl& s = *impl_;
    std::lock_guard snapshot_lock(s.snapshot_mutex);  // the file stays while we read it
    std::optional<std::uint64_t> seq;
    {
        std::lock_guard lock(s.mutex);
        if (s.closed) return unexpected(s.closed_error());
        seq = s.snapshot_seq;
    }
    if (!seq) return std::optional<Snapshot>();
    auto snapshot = wal::read_snapshot_file(s.path_of(wal::snapshot_file_name(*seq)));
    if (!snapshot) return unexpected(std::move(snapshot.error()));
    return std::optional<Snapshot>(std::move(*snapshot));
}

// ---------------------------------------------------------------------- snapshots

StoreResult<Ok> WalStore::write_snapshot(std::uint64_t seq, std::string_view state) {
    Impl& s = *impl_;
    std::lock_guard snapshot_lock(s.snapshot_mutex);
    std::optional<std::uint64_t> old_seq;
    {
        std::unique_lock lock(s.mutex);
        if (s.closed) return unexpected(s.closed_error());
        if (s.failed) return unexpected(s.failed_error());
        if (seq >= s.next_seq) {
            return unexpected(invalid(fmt::format("snapshot at {} is beyond the last record {}", seq, s.next_seq - 1)));
        }
        if (s.snapshot_seq && seq < *s.snapshot_seq) {
            return unexpected(invalid(fmt::format("snapshot at {} is older than the one at {}", seq, *s.snapshot_seq)));
        }
        // Close the tail if the snapshot covers some of it, so it can go at
        // the next snapshot at the latest (at this one if it covers it all).
        std::optional<std::uint64_t> segment_start;
        if (s.tail_records > 0 && s.tail_first_seq <= seq) {
            s.start_segment_locked();
            segment_start = s.next_seq;
        }
        // The log must never end before the snapshot's seq, whatever the policy.
        auto flushed = s.flush_through(lock, s.next_seq - 1, segment_start);
        if (!flushed) return flushed;
        old_seq = s.snapshot_seq;
    }

    const std::string name = wal::snapshot_file_name(seq);
    const fs::path path = s.path_of(name);
    const fs::path tmp = s.path_of(name + std::string(wal::kTempSuffix));
    auto write_file = [&]() -> StoreResult<Ok> {
        auto fd = wal::open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
        if (!fd) return unexpected(std::move(fd.error()));
        const std::string header = wal::encode_snapshot_header(seq, state);
        if (auto r = wal::pwrite_all(fd->get(), header, 0, tmp); !r) return r;
        if (auto r = wal::pwrite_all(fd->get(), state, header.size(), tmp); !r) return r;
        if (auto r = wal::full_sync(fd->get(), tmp); !r) return r;
        fd->reset();
        if (auto r = wal::rename_file(tmp, path); !r) return r;
        return wal::full_sync(s.dir_fd.get(), s.options.dir);
    };
    if (auto r = write_file(); !r) {
        (void)wal::remove_file(tmp);
        return r;
    }

    std::vector<std::string> doomed;
    {
        std::lock_guard lock(s.mutex);
        s.snapshot_seq = seq;
        s.forget_totals_through(seq);
        s.retire_covered_segments(seq);
        doomed = s.take_unpinned_retired();  // a reader deletes the others when it is past them
    }
    if (old_seq && *old_seq != seq) doomed.push_back(wal::snapshot_file_name(*old_seq));
    StoreResult<Ok> result = Ok{};
    for (const auto& victim : doomed) {
        auto r = wal::remove_file(s.path_of(victim));
        if (!r && result) result = std::move(r);
    }
    if (!doomed.empty()) {
        auto r = wal::full_sync(s.dir_fd.get(), s.options.dir);
        if (!r && result) result = std::move(r);
    }
    return result;
}

std::uint64_t WalStore::last_seq() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->next_seq - 1;
}

void WalStore::set_observer(std::shared_ptr<StoreObserver> observer) {
    const std::lock_guard lock(impl_->mutex);
    impl_->observer = std::move(observer);
}

WalStats WalStore::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

std::uint64_t WalStore::bytes_since_snapshot() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->payload_total - impl_->payload_at_snapshot;
}

// ---------------------------------------------------------------------- close

StoreResult<Ok> WalStore::close() {
    Impl& s = *impl_;
    std::lock_guard snapshot_lock(s.snapshot_mutex);  // a snapshot in progress finishes first
    {
        std::lock_guard lock(s.mutex);
        if (s.closed || s.stopping) return Ok{};
        s.stopping = true;
        s.background_cv.notify_all();
    }
    if (s.background.joinable()) s.background.join();

    std::unique_lock lock(s.mutex);
    while (s.writing) s.flushed.wait(lock);
    StoreResult<Ok> result = Ok{};
    if (!s.failed) {
        if (!s.pending.empty() || s.durable_seq < s.next_seq - 1) s.flush_locked(lock, true);
        if (s.failed) result = unexpected(StoreError(*s.failed));
    } else {
        result = unexpected(s.failed_error());
    }
    s.closed = true;
    if (!s.failed) {
        if (auto sealed = s.seal_tail(); !sealed && result) result = std::move(sealed);
    }
    s.tail_fd.reset();
    s.dir_fd.reset();  // releases the flock
    s.flushed.notify_all();
    return result;
}

const RecoveryReport& WalStore::recovery_report() const noexcept {
    return impl_->report;
}
const WalOptions& WalStore::options() const noexcept {
    return impl_->options;
}

// ---------------------------------------------------------------------- read-only access

StoreResult<WalInspection> WalStore::inspect(const fs::path& dir) {
    auto scan = wal::scan_log(dir, wal::LogScanOptions{});
    if (!scan) return unexpected(std::move(scan.error()));
    return WalInspection{std::move(scan->report), std::move(scan->corruption)};
}

StoreResult<Ok> WalStore::read_dir(const fs::path& dir, std::uint64_t after,
                                   const std::function<bool(const Record&)>& visit) {
    Record record;
    wal::LogScanOptions options;
    options.visit = [&](const wal::RecordView& r) {
        if (r.seq <= after) return true;
        record.seq = r.seq;
        record.type = r.type;
        record.payload.assign(r.payload);
        return visit(record);
    };
    auto scan = wal::scan_log(dir, options);
    if (!scan) return unexpected(std::move(scan.error()));
    if (scan->corruption && !scan->stopped) return unexpected(wal::corrupt_error(*scan->corruption));
    return Ok{};
}

}  // namespace txflow::store
