#pragma once
/// @file
/// A durable job queue in PostgreSQL (`<schema>.txflow_jobs`), for many
/// processes sharing one database.
///
/// A job is `available` until a worker claims it: claim() moves a batch to
/// `running` in one statement (FOR UPDATE SKIP LOCKED, so concurrent claimers
/// never get the same job), increments each job's `attempt` and gives it a
/// lease. That attempt number is the job's fencing token: heartbeat(),
/// complete(), fail() and retry() take effect only while the job is still
/// `running` under the same attempt, and say whether they did. A worker whose
/// lease expired and whose job was rescued (rescue_expired()) and claimed again
/// can no longer change it.
///
/// One PgQueue is one connection, used under a mutex: give each worker thread
/// its own PgQueue for parallel claims. enqueue_in() writes through the
/// caller's connection instead, inside the caller's open transaction.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/store/pg_options.hpp"
#include "txflow/store/store.hpp"

namespace txflow::store {

/// Where and when an enqueued job runs, and how often it may be tried.
struct TXFLOW_EXPORT EnqueueOptions {
    std::string queue = "default";  ///< the queue workers claim it from
    std::int16_t priority = 0;      ///< lower runs first
    /// When the job may run first; unset: now (the database's clock).
    std::optional<std::chrono::system_clock::time_point> run_at;
    std::int32_t max_attempts = 25;  ///< claims before a failure discards the job
    /// A second enqueue with the same key (while the first job's row exists,
    /// whatever its state) inserts nothing and returns the first job's id.
    std::optional<std::string> unique_key;
    /// The W3C `traceparent` of the caller (e.g. the request that enqueued the job), stored with
    /// the job and handed to the worker that claims it (ClaimedJob::traceparent). Empty: none; an
    /// invalid one is stored as empty, with a warning (W3C: a receiver ignores a bad header).
    std::string traceparent;
    /// The `tracestate` that goes with `traceparent` (ignored without one).
    std::string tracestate;
};

/// One job for PgQueue::enqueue_batch().
struct TXFLOW_EXPORT NewJob {
    std::string kind;        ///< what the job is; workers pick a handler by it
    std::string payload;     ///< bytes, the caller's encoding
    EnqueueOptions options;  ///< queue, priority, run_at, attempts, unique key
};

/// What an enqueue did.
struct TXFLOW_EXPORT Enqueued {
    std::int64_t id = 0;    ///< the job's id (the existing job's, when not inserted)
    bool inserted = false;  ///< false: a job with the same unique key already existed
};

/// A job a claim took: now running under `attempt` with a lease.
struct TXFLOW_EXPORT ClaimedJob {
    std::int64_t id = 0;            ///< the job's row id
    std::string kind;               ///< what the job is, as enqueued
    std::string queue;              ///< the queue it was claimed from
    std::string payload;            ///< the bytes enqueued
    std::int16_t priority = 0;      ///< lower runs first
    std::int32_t attempt = 0;       ///< the fencing token: pass it back to complete(), fail(), ...
    std::int32_t max_attempts = 0;  ///< claims allowed before a failure discards it
    std::string traceparent;        ///< as enqueued (EnqueueOptions::traceparent); empty: none
    std::string tracestate;         ///< as enqueued, with the traceparent
    /// The key it was enqueued with; a cron fire's is "cron:<schedule>:<fire_at>".
    std::optional<std::string> unique_key;
};

/// What PgQueue::fail() did with a failed attempt.
enum class FailOutcome : std::uint8_t {
    not_taken,  ///< fenced off: the job is no longer running under this attempt
    retried,    ///< back to available at now + delay
    discarded,  ///< that was its last attempt
};

/// What one PgQueue::rescue_expired() call did.
struct TXFLOW_EXPORT RescueCounts {
    std::uint64_t requeued = 0;   ///< expired jobs put back to available
    std::uint64_t discarded = 0;  ///< expired jobs that had used their attempts
};

/// A durable job queue in PostgreSQL with leases and fencing by attempt number (see the file's notes).
class TXFLOW_EXPORT PgQueue {
public:
    /// Connects; the schema must be migrated to this build's version (open
    /// refuses an older or newer one: run pg_migrate / `txflow db migrate`).
    static StoreResult<std::unique_ptr<PgQueue>> open(const PgOptions& options);
    ~PgQueue();
    PgQueue(const PgQueue&) = delete;
    PgQueue& operator=(const PgQueue&) = delete;

    /// Inserts one job in a transaction of its own.
    StoreResult<Enqueued> enqueue(std::string_view kind, std::string_view payload, const EnqueueOptions& options = {});
    /// One transaction; ids in the order of `jobs`.
    StoreResult<std::vector<Enqueued>> enqueue_batch(std::span<const NewJob> jobs);
    /// Writes the job with `conn`, the caller's connection, inside the
    /// transaction the caller has open there (BEGIN ... COMMIT are the caller's):
    /// the job exists if and only if that transaction commits. Without an open
    /// transaction the insert commits on its own.
    StoreResult<Enqueued> enqueue_in(PGconn* conn, std::string_view kind, std::string_view payload,
                                     const EnqueueOptions& options = {});

    /// Up to `limit` available jobs of `queue` whose run_at has come, by
    /// priority, run_at, id; each now running under a new attempt with a lease
    /// of `lease`.
    StoreResult<std::vector<ClaimedJob>> claim(std::string_view queue, int limit, std::chrono::milliseconds lease);

    /// Each returns false when fenced off (another attempt owns the job now, or it ended).
    StoreResult<bool> heartbeat(std::int64_t id, std::int32_t attempt, std::chrono::milliseconds lease);
    /// Marks the job done (see heartbeat() for the return value).
    StoreResult<bool> complete(std::int64_t id, std::int32_t attempt);
    /// A failed attempt: retried after `delay` while attempts remain, else discarded.
    StoreResult<FailOutcome> fail(std::int64_t id, std::int32_t attempt, std::string_view error,
                                  std::chrono::milliseconds delay);
    /// Back to available at now + delay whatever the attempts left (a worker's
    /// "not now"); the next claim is a new attempt.
    StoreResult<bool> retry(std::int64_t id, std::int32_t attempt, std::chrono::milliseconds delay);

    /// The rescuer: running jobs whose lease has expired go back to available,
    /// or to discarded when they have used max_attempts. At most `limit` per call.
    StoreResult<RescueCounts> rescue_expired(int limit = 1000);

    /// The schema the queue's tables live in.
    [[nodiscard]] const std::string& schema() const;

    struct Impl;

private:
    explicit PgQueue(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace txflow::store
