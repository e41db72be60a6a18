#pragma once
// WalStore's state, shared by its public face (wal_store.cpp: open, submit,
// sync, read, snapshots, close) and its write path (wal_writer.cpp).
//
// Threads: every field below `mutex` is guarded by it. The tail segment's fd
// and offsets belong to the thread holding the writer role (`writing`), which
// does its I/O without the lock; everyone else waits on `flushed`. A sync()
// that finds no writer becomes one and flushes what all threads submitted, so
// concurrent appenders share one fdatasync. A read() pins the segments it has
// yet to open, and compaction leaves those files to it (see `read_pins`).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/wal_format.hpp"
#include "store/wal_io.hpp"
#include "txflow/store/wal_store.hpp"

namespace txflow::store {

inline constexpr std::size_t kWriteBehindBytes = std::size_t{1} << 20;  // wake the background writer early

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
    std::filesystem::path tail_path;
    std::uint64_t tail_file_first_seq = 0;
    std::uint64_t tail_written = 0;    // where the next byte goes
    std::uint64_t tail_allocated = 0;  // the file's size, preallocated zeros included
    bool can_preallocate = true;
    WalStats writer_stats;  // the writer's counts, published into `stats` when a flush ends

    WalStats stats;                                  // guarded by mutex
    std::shared_ptr<StoreObserver> observer;         // guarded by mutex; told of each flush
    std::chrono::nanoseconds last_sync_duration{0};  // the writer's: its last batch's fdatasync
    std::thread background;

    [[nodiscard]] std::filesystem::path path_of(const std::string& name) const { return options.dir / name; }
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
    StoreResult<Ok> append_to_tail(std::string_view bytes);
    // Trims preallocated zeros, fdatasyncs and closes the tail file.
    StoreResult<Ok> seal_tail();
    StoreResult<Ok> create_segment(std::uint64_t first_seq, std::uint64_t prev_hash);
    // Writes a batch; `touched` gets (first seq, size) of every segment written to, in order.
    StoreResult<Ok> write_batch(std::vector<Chunk>& batch, bool datasync, std::vector<SegmentFile>& touched);
    // Lock held, writer role free: takes the role, writes out everything
    // pending (fdatasync when asked), and gives the role back.
    void flush_locked(std::unique_lock<std::mutex>& lock, bool datasync);
    // Writer role, lock not held.
    void report_flush(StoreObserver& watcher, std::uint64_t records, const std::vector<Chunk>& batch, bool datasync,
                      std::chrono::nanoseconds duration) const;
    // Lock held, by the writer (or before the background thread starts).
    void publish_writer_stats();
    // Lock held: returns once seq is written out (durable: fdatasynced),
    // flushing as the writer if no one else is.
    StoreResult<Ok> wait_for(std::unique_lock<std::mutex>& lock, std::uint64_t seq, bool durable);
    // Lock held: fdatasyncs every record up to `seq` and, when asked, the
    // segment that starts at `segment_start` (queued by start_segment_locked()).
    // Bounded: records submitted meanwhile need not be waited for.
    StoreResult<Ok> flush_through(std::unique_lock<std::mutex>& lock, std::uint64_t seq,
                                  std::optional<std::uint64_t> segment_start);
    [[nodiscard]] bool background_has_work() const;
    void background_loop();

    // ---------------------------------------------------------------- bookkeeping (lock held)
    void forget_totals_through(std::uint64_t seq);
    // Moves the segments (never the tail) whose every record has seq <= seq
    // from `segments` to `retired`.
    void retire_covered_segments(std::uint64_t seq);
    // The file names of the retired segments no reader needs any more, taken
    // off `retired`: the caller deletes them. After close() none (the
    // directory is no longer ours; the next open() removes them).
    std::vector<std::string> take_unpinned_retired();

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

}  // namespace txflow::store
