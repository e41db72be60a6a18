#pragma once
/// @file
/// Where txflow keeps the state that must survive a crash: an ordered log of
/// records plus, now and then, a snapshot of the live state that lets old
/// records go.
///
/// The contract, kept by every store (tests/store/store_contract_test.cpp runs
/// each one through it):
///   - submit() gives each record the next sequence number (1, 2, 3 ...) and
///     keeps submission order; it does not wait for the disk.
///   - sync(seq) returns once every record up to seq is durable under the
///     store's policy. append() is submit() + sync(). Writers that keep a model
///     of the state in step with the log (txflow's Journal) submit under their
///     own lock and sync outside it, so concurrent writers share one flush.
///   - read(after, visit) yields every record with seq > after, in order.
///   - write_snapshot(seq, state) saves a state that folds in every record up to
///     seq; after it, load_snapshot() returns it and read(seq, ...) still yields
///     everything newer. Records the snapshot covers may be dropped: a read
///     from before the snapshot then either yields every record after `after`
///     or fails with Code::invalid before yielding any, never one with a gap.
///   - A record type is the writer's business (txflow/store/records.hpp); the
///     store keeps bytes.
///
/// A new backend (PostgreSQL: src/store/pg/) implements the pure virtuals and
/// passes the contract suite; the scheduler takes it through
/// SchedulerOptions::store() and learns nothing else about it. name(),
/// set_observer() and close() have defaults a backend may keep.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include "txflow/core/export.hpp"

#include "txflow/result.hpp"

namespace txflow::store {

/// One log entry as read back: its sequence number, the writer's type and the bytes.
struct TXFLOW_EXPORT Record {
    std::uint64_t seq = 0;   ///< 1, 2, 3 ... in submission order
    std::uint16_t type = 0;  ///< the writer's record type (see RecordType)
    std::string payload;     ///< the bytes as submitted
};

/// A saved state that stands for every record up to `seq`.
struct TXFLOW_EXPORT Snapshot {
    std::uint64_t seq = 0;  ///< the snapshot folds in every record with seq <= this
    std::string state;      ///< the bytes as written by write_snapshot()
};

/// Why a store call failed.
struct TXFLOW_EXPORT StoreError {
    /// The kind of failure.
    enum class Code : std::uint8_t {
        io,       ///< the operating system refused (message has errno's text)
        corrupt,  ///< a record failed its checks (message names the file and offset)
        closed,   ///< the store was closed or failed earlier
        invalid,  ///< a bad argument (a snapshot seq beyond the log, ...)
    };
    Code code = Code::io;  ///< the kind of failure
    std::string message;   ///< for people: what failed and why
};

/// The value of a StoreResult that carries nothing but success.
using Ok = std::monostate;
/// What every store call returns: a value or a StoreError.
template <class T>
using StoreResult = Result<T, StoreError>;

/// One flush: records written out together (a group commit: one fdatasync
/// for a WAL, one COMMIT for a database).
struct TXFLOW_EXPORT FlushStats {
    std::uint64_t records = 0;                  ///< the batch size
    std::uint64_t bytes = 0;                    ///< bytes written (framing included)
    bool durable = false;                       ///< ended in a sync (fdatasync, COMMIT), not only a write to the OS
    std::chrono::nanoseconds sync_duration{0};  ///< in that sync; 0 when not durable
    std::chrono::nanoseconds duration{0};       ///< the whole flush, sync included
};

/// What a store reports about its own work, for a metrics layer (src/observe/)
/// to turn into figures. Called on the store's writer thread without the
/// store's lock: keep it short, never block, never call back into the store.
class TXFLOW_EXPORT StoreObserver {
public:
    virtual ~StoreObserver() = default;
    /// Called after each flush of records.
    virtual void on_flush(const FlushStats& /*flush*/) noexcept {}
};

/// An ordered, durable log of records plus snapshots (see the contract in the file's notes).
class TXFLOW_EXPORT Store {
public:
    virtual ~Store() = default;

    /// The backend, for logs, status output and metric labels: "memory", "wal", "postgresql".
    [[nodiscard]] virtual std::string_view name() const noexcept { return "store"; }
    /// Attaches an observer (null detaches); a store that reports nothing ignores it.
    virtual void set_observer(std::shared_ptr<StoreObserver> observer) { (void)observer; }
    /// Makes what was submitted durable and releases what the backend holds (a
    /// directory, a connection); a store that does then fails later calls with
    /// Code::closed. Idempotent; the default does nothing. Destructors close too.
    virtual StoreResult<Ok> close() { return Ok{}; }

    /// Queues a record and returns its sequence number; does not wait for the disk.
    virtual StoreResult<std::uint64_t> submit(std::uint16_t type, std::string_view payload) = 0;
    /// Returns once every record up to `seq` is durable under the store's policy.
    virtual StoreResult<Ok> sync(std::uint64_t seq) = 0;
    /// submit() then sync(): the record is durable when this returns.
    StoreResult<std::uint64_t> append(std::uint16_t type, std::string_view payload) {
        auto seq = submit(type, payload);
        if (!seq) return seq;
        auto synced = sync(*seq);
        if (!synced) return unexpected(std::move(synced.error()));
        return seq;
    }

    /// visit returns false to stop early.
    virtual StoreResult<Ok> read(std::uint64_t after, const std::function<bool(const Record&)>& visit) = 0;
    /// The latest snapshot, or nullopt when none was written.
    virtual StoreResult<std::optional<Snapshot>> load_snapshot() = 0;
    /// Saves `state` as folding in every record up to `seq`; covered records may then be dropped.
    virtual StoreResult<Ok> write_snapshot(std::uint64_t seq, std::string_view state) = 0;

    /// The sequence number of the last record submitted (0 when none).
    [[nodiscard]] virtual std::uint64_t last_seq() const = 0;
    /// Payload bytes submitted since the last snapshot: the owner's cue to take one.
    [[nodiscard]] virtual std::uint64_t bytes_since_snapshot() const = 0;
};

}  // namespace txflow::store
