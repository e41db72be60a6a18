#pragma once
/// @file
/// WalStore: txflow's embedded durable Store, a directory holding a write-ahead
/// log of segment files and at most one snapshot. No server; one process at a
/// time (open() takes an flock on the directory).
///
///     auto wal = txflow::store::WalStore::open({.dir = "/var/lib/app/txflow"});
///     if (!wal) return fail(wal.error().message);
///     if (auto& r = (*wal)->recovery_report(); r.torn_tail) log("dropped a torn write: ", r.torn_tail->reason);
///
/// Durability policies, recovery and the byte layout on disk: docs/wal-format.md.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/store/store.hpp"

namespace txflow::store {

/// When a WalStore's sync() returns, and what a power loss may take (docs/durability.md).
class TXFLOW_EXPORT Durability {
public:
    /// The three policies.
    enum class Kind : std::uint8_t { every_record, interval, none };

    /// sync() returns after an fdatasync covering the record (shared by concurrent writers).
    static constexpr Durability every_record() noexcept { return Durability{Kind::every_record, {}}; }
    /// sync() returns once written to the OS; a background fdatasync follows within `period`.
    static constexpr Durability interval(std::chrono::nanoseconds period) noexcept {
        return Durability{Kind::interval, period};
    }
    /// sync() returns once written to the OS; no fdatasync (the OS writes back when it likes).
    static constexpr Durability none() noexcept { return Durability{Kind::none, {}}; }

    /// Which policy.
    [[nodiscard]] constexpr Kind kind() const noexcept { return kind_; }
    /// The interval's period (Kind::interval only).
    [[nodiscard]] constexpr std::chrono::nanoseconds period() const noexcept { return period_; }  // interval only

private:
    constexpr Durability(Kind kind, std::chrono::nanoseconds period) noexcept : kind_(kind), period_(period) {}
    Kind kind_;
    std::chrono::nanoseconds period_;
};

/// Where a WalStore keeps its log and how it makes it durable.
struct TXFLOW_EXPORT WalOptions {
    std::filesystem::path dir;                           ///< created (with parents) if missing
    Durability durability = Durability::every_record();  ///< when records become durable
    /// A segment is closed and a new one begun before a record would take it
    /// past this size (a larger record gets a segment of its own). >= 64.
    std::uint64_t segment_bytes = std::uint64_t{64} << 20;
    /// Cut the log at the first bad record instead of failing open().
    bool repair = false;
};

/// Where a log was (or would be) cut, and why.
struct TXFLOW_EXPORT WalCut {
    std::filesystem::path segment;    ///< the segment file cut
    std::uint64_t offset = 0;         ///< byte offset in it of the first byte dropped
    std::uint64_t bytes_dropped = 0;  ///< from offset to the end of the log (later segments included)
    std::string reason;               ///< "bad crc", "short payload (...)", "chain mismatch (...)", ...
};

/// What open() found and did; for WalStore::inspect(), what it would find and do.
struct TXFLOW_EXPORT RecoveryReport {
    std::size_t segments = 0;                   ///< segment files kept
    std::uint64_t records = 0;                  ///< valid records in them (snapshot-covered ones included)
    std::uint64_t first_seq = 0;                ///< of those records; 0 when there are none
    std::uint64_t last_seq = 0;                 ///< of those records; 0 when there are none
    std::uint64_t bytes = 0;                    ///< bytes of valid data in the segment files (headers included)
    std::optional<std::uint64_t> snapshot_seq;  ///< the snapshot's seq, when there is a snapshot
    std::uint64_t snapshot_bytes = 0;           ///< the snapshot's state size
    /// A torn write at the end of the last segment: truncated (normal after a crash).
    std::optional<WalCut> torn_tail;
    /// WalOptions::repair only: the first bad record, where the log was cut.
    std::optional<WalCut> repaired;
    std::vector<std::filesystem::path> removed_segments;  ///< by repair: every segment after the cut
    /// Zeros preallocated after the last record (left by a crash): trimmed, no data lost.
    std::uint64_t unused_tail_bytes = 0;
};

/// Counts since open(), for monitoring (and for tests of group commit).
struct TXFLOW_EXPORT WalStats {
    std::uint64_t records_submitted = 0;  ///< submit() calls accepted
    std::uint64_t fdatasyncs = 0;         ///< of segment files: fewer than records when appends share them
    std::uint64_t bytes_written = 0;      ///< bytes written to segment files (framing included)
    std::uint64_t segments_created = 0;   ///< segment files begun
};

/// What WalStore::inspect() found in a directory.
struct TXFLOW_EXPORT WalInspection {
    RecoveryReport report;  ///< counts stop at the corruption, if any
    /// Where open() would fail with Code::corrupt (and repair would cut).
    std::optional<WalCut> corruption;
};

/// The embedded default Store: a segmented write-ahead log with group commit and snapshots in a directory.
class TXFLOW_EXPORT WalStore final : public Store {
public:
    /// Opens (creating if needed) and locks `options.dir`, recovering the log; a torn tail is truncated.
    static StoreResult<std::unique_ptr<WalStore>> open(WalOptions options);

    /// Checks a WAL directory without changing anything in it (no truncation,
    /// no lock): what `txflow wal verify` prints. Errors only for I/O
    /// (a missing directory, permissions); corruption is in the result.
    static StoreResult<WalInspection> inspect(const std::filesystem::path& dir);
    /// Streams the records with seq > after from a WAL directory without
    /// changing it: stops quietly at a torn tail, fails (after yielding the
    /// records before it) at corruption. What `txflow wal dump` prints.
    static StoreResult<Ok> read_dir(const std::filesystem::path& dir, std::uint64_t after,
                                    const std::function<bool(const Record&)>& visit);

    WalStore(const WalStore&) = delete;
    WalStore& operator=(const WalStore&) = delete;
    ~WalStore() override;  ///< close(), errors ignored: call close() to see them

    [[nodiscard]] std::string_view name() const noexcept override { return "wal"; }
    /// Sees every flush of the writer (FlushStats: batch size, fdatasync time).
    void set_observer(std::shared_ptr<StoreObserver> observer) override;

    StoreResult<std::uint64_t> submit(std::uint16_t type, std::string_view payload) override;
    StoreResult<Ok> sync(std::uint64_t seq) override;
    /// Streams from the segment files (written-out records are not kept in
    /// memory); the visitor may call submit(), sync() and write_snapshot().
    /// Yields every record from after + 1 on, with no gap, even while
    /// snapshots compact the log: the segments it has yet to open stay on disk
    /// until it opens them. If records after `after` are already compacted
    /// away (after is older than the snapshot and than the oldest segment
    /// kept), fails with Code::invalid before yielding anything: read after
    /// load_snapshot()'s seq instead.
    StoreResult<Ok> read(std::uint64_t after, const std::function<bool(const Record&)>& visit) override;
    StoreResult<std::optional<Snapshot>> load_snapshot() override;
    /// Makes every submitted record durable, writes the snapshot atomically
    /// (tmp file, fsync, rename, fsync dir), then deletes the older snapshot and
    /// every segment whose records it all covers (a segment that a read() in
    /// progress has yet to open is deleted by that read once it has opened it).
    /// If the active segment holds covered records it is closed first, so disk
    /// use stays bounded by about twice the log written between two snapshots.
    StoreResult<Ok> write_snapshot(std::uint64_t seq, std::string_view state) override;
    [[nodiscard]] std::uint64_t last_seq() const override;
    /// Kept exactly: WalStore holds 8 bytes per record not yet covered by a snapshot.
    [[nodiscard]] std::uint64_t bytes_since_snapshot() const override;

    /// Flushes and fdatasyncs what was submitted, then releases the directory.
    /// Afterwards every call fails with Code::closed. Idempotent.
    StoreResult<Ok> close() override;

    /// What open() found and did.
    [[nodiscard]] const RecoveryReport& recovery_report() const noexcept;
    /// Counts since open().
    [[nodiscard]] WalStats stats() const;
    /// The options it was opened with.
    [[nodiscard]] const WalOptions& options() const noexcept;

    /// Largest payload submit() accepts.
    static constexpr std::size_t kMaxPayload = std::size_t{256} << 20;

private:
    struct Impl;
    explicit WalStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace txflow::store
