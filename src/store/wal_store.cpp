// WalStore: the write path (submit buffers, one writer at a time flushes,
// group commit through leader/follower), snapshots and compaction, open and
// close. Checking and recovery of a directory live in wal_log.cpp, the
// format in wal_format.cpp.
//
// Threads: every field below `mutex` is guarded by it. The tail segment's fd
// and offsets belong to the thread holding the writer role (`writing`), which
// does its I/O without the lock; everyone else waits on `flushed`. A sync()
// that finds no writer becomes one and flushes what all threads submitted, so
// concurrent appenders share one fdatasync. A read() pins the segments it has
// yet to open, and compaction leaves those files to it (see `read_pins`).

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

#include "store/wal_format.hpp"
#include "store/wal_io.hpp"
#include "store/wal_log.hpp"

namespace txflow::store {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kMinSegmentBytes = 64;
constexpr std::uint64_t kPreallocateStep = std::uint64_t{4} << 20;
constexpr std::size_t kWriteBehindBytes = std::size_t{1} << 20;  // wake the background writer early
constexpr std::size_t kMaxPendingBytes = std::size_t{16} << 20;  // submit() writes out beyond this
constexpr std::chrono::milliseconds kWriteBehindPeriod = 50ms;
constexpr std::size_t kMaxSpareBytes = std::size_t{4} << 20;  // a buffer kept for reuse after a flush

StoreError invalid(std::string message) {
    return StoreError{StoreError::Code::invalid, std::move(message)};
}

std::uint64_t random_genesis() {
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ std::uint64_t{device()};
}

}  // namespace

struct WalStore::Impl {
    // Records submitted but not yet written out, in seq order; a chunk that
    // begins a segment carries that segment's header fields.
    struct Chunk {
        bool new_segment = false;
        std::uint64_t first_seq = 0;
        std::uint64_t prev_hash = 0;
        std::string bytes;
    };
    struct SegmentFile {
        std::uint64_t first_seq = 0;
        std::uint64_t size = 0;  // bytes written (valid data)
    };

    WalOptions options;
    RecoveryReport report;
    wal::Fd dir_fd;  // holds the flock; fsynced after files come and go

    std::mutex snapshot_mutex;  // one snapshot at a time; taken before `mutex`
    mutable std::mutex mutex;
    std::condition_variable flushed;        // a writer finished (or failed), or the store closed
    std::condition_variable background_cv;  // wakes the background writer

    std::uint64_t next_seq = 1;
    std::uint64_t last_hash = 0;  // chain hash of the last submitted record
    std::vector<Chunk> pending;
    std::size_t pending_bytes = 0;
    std::string spare;  // a drained buffer for the next chunk (keeps its capacity)
    // The segment submit() fills, pending records included.
    std::uint64_t tail_first_seq = 1;
    std::uint64_t tail_bytes = 0;
    std::uint64_t tail_records = 0;

    bool writing = false;
    std::uint64_t last_batch_records = 0;  // records the last flush wrote out
    std::uint64_t written_seq = 0;         // every record up to here is in the OS
    std::uint64_t durable_seq = 0;         // ... and covered by an fdatasync
    std::optional<StoreError> failed;
    bool closed = false;
    bool stopping = false;
    bool background_idle = true;
    bool background_kick = false;

    std::deque<SegmentFile> segments;  // on disk, oldest first; back() is the tail
    // Compaction against readers. read() lists `segments` under the lock but
    // opens the files one by one without it. An open fd survives unlink(2);
    // a file deleted before the reader opens it does not (the reader used to
    // skip it: a silent gap). So each read() in progress pins the first seq
    // of the oldest segment it has yet to open, moving the pin on as it opens
    // each one. A snapshot takes the segments it covers out of `segments` at
    // once (later reads do not list them) but deletes only the files below
    // every pin; the rest wait in `retired` for the reader that holds them
    // back to move on or finish, and that reader deletes them. A crash
    // meanwhile leaves only covered segments, which open() removes.
    std::multiset<std::uint64_t> read_pins;
    std::deque<std::uint64_t> retired;  // first seqs of covered segments still on disk, ascending
    std::optional<std::uint64_t> snapshot_seq;
    std::uint64_t payload_total = 0;        // payload bytes submitted since open
    std::uint64_t payload_at_snapshot = 0;  // payload_total after the snapshot's last record
    std::uint64_t totals_base = 0;          // totals[i] is payload_total after record totals_base + 1 + i
    std::deque<std::uint64_t> totals;

    // The writer role's (or, before the background thread starts and after it
    // stops, the opening/closing thread's).
    wal::Fd tail_fd;
    fs::path tail_path;
    std::uint64_t tail_file_first_seq = 0;
    std::uint64_t tail_written = 0;    // where the next byte goes
    std::uint64_t tail_allocated = 0;  // the file's size, preallocated zeros included
    bool can_preallocate = true;
    WalStats writer_stats;  // the writer's counts, published into `stats` when a flush ends

    WalStats stats;                                  // guarded by mutex
    std::shared_ptr<StoreObserver> observer;         // guarded by mutex; told of each flush
    std::chrono::nanoseconds last_sync_duration{0};  // the writer's: its last batch's fdatasync
    std::thread background;

    [[nodiscard]] fs::path path_of(const std::string& name) const { return options.dir / name; }
    [[nodiscard]] StoreError failed_error() const {
        return StoreError{StoreError::Code::closed, "the WAL failed earlier: " + failed->message};
    }
    [[nodiscard]] StoreError closed_error() const {
        return StoreError{StoreError::Code::closed, "the WAL " + options.dir.string() + " is closed"};
    }
    [[nodiscard]] bool every_record() const { return options.durability.kind() == Durability::Kind::every_record; }

    // ---------------------------------------------------------------- submit side (lock held)

    std::string take_spare() {
        std::string s = std::move(spare);
        s.clear();
        return s;
    }

    void start_segment_locked() {
        pending.push_back(Chunk{true, next_seq, last_hash, take_spare()});
        tail_first_seq = next_seq;
        tail_bytes = wal::kSegmentHeaderSize;
        tail_records = 0;
    }

    void wake_background_locked() {
        if (background_idle) {
            background_idle = false;
            background_cv.notify_one();
        } else if (pending_bytes >= kWriteBehindBytes && !background_kick) {
            background_kick = true;
            background_cv.notify_one();
        }
    }

    // ---------------------------------------------------------------- writer role (no lock)

    StoreResult<Ok> append_to_tail(std::string_view bytes) {
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

    // Trims preallocated zeros, fdatasyncs and closes the tail file.
    StoreResult<Ok> seal_tail() {
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

    StoreResult<Ok> create_segment(std::uint64_t first_seq, std::uint64_t prev_hash) {
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

    // Writes a batch; `touched` gets (first seq, size) of every segment written to, in order.
    StoreResult<Ok> write_batch(std::vector<Chunk>& batch, bool datasync, std::vector<SegmentFile>& touched) {
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

    // Lock held, writer role free: takes the role, writes out everything
    // pending (fdatasync when asked), and gives the role back.
    void flush_locked(std::unique_lock<std::mutex>& lock, bool datasync) {
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

    // Writer role, lock not held.
    void report_flush(StoreObserver& watcher, std::uint64_t records, const std::vector<Chunk>& batch, bool datasync,
                      std::chrono::nanoseconds duration) const {
        FlushStats flush;
        flush.records = records;
        for (const Chunk& chunk : batch) flush.bytes += chunk.bytes.size();
        flush.durable = datasync;
        flush.sync_duration = last_sync_duration;
        flush.duration = duration;
        watcher.on_flush(flush);
    }

    // Lock held, by the writer (or before the background thread starts).
    void publish_writer_stats() {
        stats.fdatasyncs = writer_stats.fdatasyncs;
        stats.bytes_written = writer_stats.bytes_written;
        stats.segments_created = writer_stats.segments_created;
    }

    // Lock held: returns once seq is written out (durable: fdatasynced),
    // flushing as the writer if no one else is.
    StoreResult<Ok> wait_for(std::unique_lock<std::mutex>& lock, std::uint64_t seq, bool durable) {
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

    // Lock held: fdatasyncs every record up to `seq` and, when asked, the
    // segment that starts at `segment_start` (queued by start_segment_locked()).
    // Bounded: records submitted meanwhile need not be waited for.
    StoreResult<Ok> flush_through(std::unique_lock<std::mutex>& lock, std::uint64_t seq,
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

    [[nodiscard]] bool background_has_work() const {
        return !pending.empty() ||
               (options.durability.kind() == Durability::Kind::interval && durable_seq < written_seq);
    }

    void background_loop() {
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

    // ---------------------------------------------------------------- bookkeeping (lock held)

    void forget_totals_through(std::uint64_t seq) {
        if (seq <= totals_base) return;
        const std::uint64_t n = std::min<std::uint64_t>(seq - totals_base, totals.size());
        if (n > 0) payload_at_snapshot = totals[static_cast<std::size_t>(n - 1)];
        totals.erase(totals.begin(), totals.begin() + static_cast<std::ptrdiff_t>(n));
        totals_base = seq;
    }

    // Moves the segments (never the tail) whose every record has seq <= seq
    // from `segments` to `retired`.
    void retire_covered_segments(std::uint64_t seq) {
        while (segments.size() > 1 && segments[1].first_seq - 1 <= seq) {
            retired.push_back(segments.front().first_seq);
            segments.pop_front();
        }
    }

    // The file names of the retired segments no reader needs any more, taken
    // off `retired`: the caller deletes them. After close() none (the
    // directory is no longer ours; the next open() removes them).
    std::vector<std::string> take_unpinned_retired() {
        std::vector<std::string> names;
        if (closed) return names;
        const std::uint64_t pin = read_pins.empty() ? std::numeric_limits<std::uint64_t>::max() : *read_pins.begin();
        while (!retired.empty() && retired.front() < pin) {
            names.push_back(wal::segment_file_name(retired.front()));
            retired.pop_front();
        }
        return names;
    }

    // A read()'s entry in `read_pins`: made under the lock, moved and dropped
    // without it. Whoever lifts the last pin below a retired segment deletes it.
    class ReadPin {
    public:
        ReadPin(Impl& s, std::uint64_t first_seq) : s_(s), pin_(s.read_pins.insert(first_seq)) {}  // lock held
        ReadPin(const ReadPin&) = delete;
        ReadPin& operator=(const ReadPin&) = delete;
        ~ReadPin() { move_to(std::nullopt); }

        // To the segment starting at first_seq; nullopt: the reader needs no more files.
        void move_to(std::optional<std::uint64_t> first_seq) {
            if (!held_) return;
            std::vector<std::string> names;
            {
                std::lock_guard lock(s_.mutex);
                s_.read_pins.erase(pin_);
                held_ = first_seq.has_value();
                if (held_) pin_ = s_.read_pins.insert(*first_seq);
                names = s_.take_unpinned_retired();
            }
            // Best effort, like a crash before the delete: open() removes covered segments.
            for (const auto& name : names) (void)wal::remove_file(s_.path_of(name));
        }

    private:
        Impl& s_;
        std::multiset<std::uint64_t>::iterator pin_;
        bool held_ = true;
    };
};

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
    fs::create_directories(options.dir, ec);
    if (ec) return unexpected(wal::io_error("create directory", options.dir, ec.value()));
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
