// WalStore's write path: the writer role (append to the tail segment,
// preallocate, seal and create segments, group commit), the background
// writer, and the bookkeeping compaction needs. See wal_store_impl.hpp.
#include <fcntl.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "store/wal_store_impl.hpp"

namespace txflow::store {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kPreallocateStep = std::uint64_t{4} << 20;
constexpr std::chrono::milliseconds kWriteBehindPeriod = 50ms;
constexpr std::size_t kMaxSpareBytes = std::size_t{4} << 20;  // a buffer kept for reuse after a flush

}  // namespace

StoreResult<Ok> WalStore::Impl::append_to_tail(std::string_view bytes) {
    const std::uint64_t end = tail_written + bytes.size();
    if (can_preallocate && end > tail_allocated) {
        // Extending the file in steps keeps most fdatasyncs free of a size
        // change (no journal commit): measurably cheaper per record.
        const std::uint64_t step = std::min(kPreallocateStep, options.segment_bytes);
        const std::uint64_t target = std::max(end, std::min(tail_allocated + step, options.segment_bytes));
        auto done = wal::preallocate(tail_fd.get(), target, tail_path);
        if (!done) return unexpected(std::move(done.error()));
        if (*done) tail_allocated = target;
        else can_preallocate = false;
    }
    auto written = wal::pwrite_all(tail_fd.get(), bytes, tail_written, tail_path);
    if (!written) return written;
    writer_stats.bytes_written += bytes.size();
    tail_written = end;
    tail_allocated = std::max(tail_allocated, end);
    return Ok{};
}

StoreResult<Ok> WalStore::Impl::seal_tail() {
    if (!tail_fd) return Ok{};
    if (tail_allocated > tail_written) {
        auto trimmed = wal::truncate_file(tail_fd.get(), tail_written, tail_path);
        if (!trimmed) return trimmed;
        tail_allocated = tail_written;
    }
    auto synced = wal::data_sync(tail_fd.get(), tail_path);
    if (!synced) return synced;
    ++writer_stats.fdatasyncs;
    tail_fd.reset();
    return Ok{};
}

StoreResult<Ok> WalStore::Impl::create_segment(std::uint64_t first_seq, std::uint64_t prev_hash) {
    const fs::path path = path_of(wal::segment_file_name(first_seq));
    auto fd = wal::open_file(path, O_WRONLY | O_CREAT | O_EXCL);
    if (!fd) return unexpected(std::move(fd.error()));
    tail_fd = std::move(*fd);
    tail_path = path;
    tail_file_first_seq = first_seq;
    tail_written = 0;
    tail_allocated = 0;
    ++writer_stats.segments_created;
    auto written = append_to_tail(wal::encode_segment_header({first_seq, prev_hash}));
    if (!written) return written;
    // The new name must be durable before any record in it is.
    return wal::full_sync(dir_fd.get(), options.dir);
}

StoreResult<Ok> WalStore::Impl::write_batch(std::vector<Chunk>& batch, bool datasync,
                                            std::vector<SegmentFile>& touched) {
    touched.push_back({tail_file_first_seq, tail_written});
    for (Chunk& chunk : batch) {
        if (chunk.new_segment) {
            auto sealed = seal_tail();
            if (!sealed) return sealed;
            auto created = create_segment(chunk.first_seq, chunk.prev_hash);
            if (!created) return created;
            touched.push_back({tail_file_first_seq, tail_written});
        }
        auto written = append_to_tail(chunk.bytes);
        if (!written) return written;
        touched.back().size = tail_written;
    }
    last_sync_duration = std::chrono::nanoseconds(0);
    if (datasync) {
        const auto start = std::chrono::steady_clock::now();
        auto synced = wal::data_sync(tail_fd.get(), tail_path);
        if (!synced) return synced;
        last_sync_duration = std::chrono::steady_clock::now() - start;
        ++writer_stats.fdatasyncs;
    }
    return Ok{};
}

void WalStore::Impl::flush_locked(std::unique_lock<std::mutex>& lock, bool datasync) {
    writing = true;
    std::vector<Chunk> batch;
    batch.swap(pending);
    pending_bytes = 0;
    const std::uint64_t target = next_seq - 1;  // pending held everything not yet written
    const std::uint64_t batch_records = target - written_seq;
    last_batch_records = batch_records;
    const std::shared_ptr<StoreObserver> watcher = observer;

    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    std::vector<SegmentFile> touched;
    auto result = write_batch(batch, datasync, touched);
    if (watcher && result) {
        report_flush(*watcher, batch_records, batch, datasync, std::chrono::steady_clock::now() - start);
    }
    lock.lock();

    publish_writer_stats();
    writing = false;
    if (!result) {
        if (!failed) failed = std::move(result.error());
    } else {
        written_seq = target;
        if (datasync) durable_seq = target;
        for (const SegmentFile& t : touched) {
            if (!segments.empty() && segments.back().first_seq == t.first_seq) segments.back().size = t.size;
            else segments.push_back(t);
        }
    }
    if (!batch.empty() && spare.capacity() < batch.back().bytes.capacity() &&
        batch.back().bytes.capacity() <= kMaxSpareBytes) {
        spare = std::move(batch.back().bytes);
    }
    flushed.notify_all();
}

void WalStore::Impl::report_flush(StoreObserver& watcher, std::uint64_t records, const std::vector<Chunk>& batch,
                                  bool datasync, std::chrono::nanoseconds duration) const {
    FlushStats flush;
    flush.records = records;
    for (const Chunk& chunk : batch) flush.bytes += chunk.bytes.size();
    flush.durable = datasync;
    flush.sync_duration = last_sync_duration;
    flush.duration = duration;
    watcher.on_flush(flush);
}

void WalStore::Impl::publish_writer_stats() {
    stats.fdatasyncs = writer_stats.fdatasyncs;
    stats.bytes_written = writer_stats.bytes_written;
    stats.segments_created = writer_stats.segments_created;
}

StoreResult<Ok> WalStore::Impl::wait_for(std::unique_lock<std::mutex>& lock, std::uint64_t seq, bool durable) {
    bool yielded = false;
    for (;;) {
        if ((durable ? durable_seq : written_seq) >= seq) return Ok{};
        if (failed) return unexpected(failed_error());
        if (closed) return unexpected(closed_error());
        if (writing) {
            flushed.wait(lock);
        } else if (durable && !yielded && last_batch_records > 1) {
            // Appenders are concurrent and the last fdatasync just released
            // some of them: let them submit their next records first, so
            // this fdatasync covers them too (about doubles the batch on a
            // small machine). Never with a single appender.
            yielded = true;
            lock.unlock();
            std::this_thread::yield();
            lock.lock();
        } else {
            flush_locked(lock, durable);
        }
    }
}

StoreResult<Ok> WalStore::Impl::flush_through(std::unique_lock<std::mutex>& lock, std::uint64_t seq,
                                              std::optional<std::uint64_t> segment_start) {
    for (;;) {
        if (failed) return unexpected(failed_error());
        if (closed) return unexpected(closed_error());
        const bool started = !segment_start || segments.back().first_seq >= *segment_start;
        if (durable_seq >= seq && started) return Ok{};
        if (!writing) {
            flush_locked(lock, true);
        } else {
            flushed.wait(lock);
        }
    }
}

[[nodiscard]] bool WalStore::Impl::background_has_work() const {
    return !pending.empty() || (options.durability.kind() == Durability::Kind::interval && durable_seq < written_seq);
}

void WalStore::Impl::background_loop() {
    const bool interval = options.durability.kind() == Durability::Kind::interval;
    const auto period = interval ? options.durability.period() : std::chrono::nanoseconds(kWriteBehindPeriod);
    std::unique_lock lock(mutex);
    while (!stopping) {
        if (failed || !background_has_work()) {
            background_idle = true;
            background_cv.wait(lock, [&] { return stopping || !background_idle; });
            if (stopping) break;
            // A submit woke us: wait the period out before looking, even if
            // a sync() flushes it meanwhile, so submitters wake this thread
            // at most once a period.
        }
        // Work appeared at most `period` ago: flush when that much time has
        // passed (or sooner, when a lot is pending).
        const auto deadline = std::chrono::steady_clock::now() + period;
        background_cv.wait_until(lock, deadline, [&] { return stopping || background_kick; });
        background_kick = false;
        if (stopping) break;
        while (writing) flushed.wait(lock);
        if (!failed && !closed && background_has_work()) flush_locked(lock, interval);
    }
}

void WalStore::Impl::forget_totals_through(std::uint64_t seq) {
    if (seq <= totals_base) return;
    const std::uint64_t n = std::min<std::uint64_t>(seq - totals_base, totals.size());
    if (n > 0) payload_at_snapshot = totals[static_cast<std::size_t>(n - 1)];
    totals.erase(totals.begin(), totals.begin() + static_cast<std::ptrdiff_t>(n));
    totals_base = seq;
}

void WalStore::Impl::retire_covered_segments(std::uint64_t seq) {
    while (segments.size() > 1 && segments[1].first_seq - 1 <= seq) {
        retired.push_back(segments.front().first_seq);
        segments.pop_front();
    }
}

std::vector<std::string> WalStore::Impl::take_unpinned_retired() {
    std::vector<std::string> names;
    if (closed) return names;
    const std::uint64_t pin = read_pins.empty() ? std::numeric_limits<std::uint64_t>::max() : *read_pins.begin();
    while (!retired.empty() && retired.front() < pin) {
        names.push_back(wal::segment_file_name(retired.front()));
        retired.pop_front();
    }
    return names;
}

}  // namespace txflow::store
