#pragma once
/// @file
/// A cluster worker: the part of a service that runs PgQueue jobs, many
/// processes sharing one PostgreSQL database (docs/cluster.md).
///
///     txflow::cluster::WorkerOptions options;
///     options.pg.url = "postgresql://app@db/app";
///     options.queues = {"default", "email"};
///     txflow::cluster::Worker worker(options);
///     worker.handle("send_mail", [](txflow::cluster::Job& job) { send(job.payload()); });
///     if (auto started = worker.start(); !started) { report(started.error().message); }
///     ...
///     worker.stop(std::chrono::seconds(10));   // drain, bounded by the deadline
///
/// A worker registers a node row and runs a few services, each on its own
/// connection and thread (src/cluster/, one service per file): the producer
/// claims batches (FOR UPDATE SKIP LOCKED, the attempt number as fencing
/// token) when handler threads are free, woken by polling and, unless
/// `notify` is off, by LISTEN/NOTIFY; the completer writes finished jobs in
/// batches, one fenced UPDATE for many jobs; the heartbeat extends the node
/// row and the leases of every job the worker holds in one statement; the
/// rescuer re-queues jobs whose lease expired (a dead node's); the cleaner
/// deletes finished rows past their retention, in batches. A lost connection
/// is re-opened with capped exponential backoff; what the worker holds stays
/// fenced by its attempt number.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/observe/metrics.hpp"
#include "txflow/policy/retry.hpp"
#include "txflow/store/pg_options.hpp"
#include "txflow/store/pg_queue.hpp"
#include "txflow/store/store.hpp"

namespace spdlog {
class logger;
}

namespace txflow::cluster {

using store::Ok;
using store::StoreError;
using store::StoreResult;

/// What a handler sees of the job it runs.
class TXFLOW_EXPORT Job {
public:
    /// Made by the worker for each claimed job; tests may build one to call a handler directly.
    Job(store::ClaimedJob row, std::stop_token stop) : row_(std::move(row)), stop_(std::move(stop)) {}

    /// The job's row id.
    [[nodiscard]] std::int64_t id() const { return row_.id; }
    /// What the job is: the handler is chosen by it.
    [[nodiscard]] const std::string& kind() const { return row_.kind; }
    /// The queue it was claimed from.
    [[nodiscard]] const std::string& queue() const { return row_.queue; }
    /// The bytes enqueued with it.
    [[nodiscard]] const std::string& payload() const { return row_.payload; }
    /// 1 on the first run; the fencing token of this run.
    [[nodiscard]] std::int32_t attempt() const { return row_.attempt; }
    /// The key it was enqueued with (a cron fire's: "cron:<schedule>:<fire_at>").
    [[nodiscard]] const std::optional<std::string>& unique_key() const { return row_.unique_key; }
    /// Claims allowed before a failure discards the job.
    [[nodiscard]] std::int32_t max_attempts() const { return row_.max_attempts; }
    /// The W3C `traceparent` the job was enqueued with (EnqueueOptions::traceparent); empty: none.
    /// Continue the caller's trace with observe::TraceContext::parse(traceparent(), tracestate()).
    [[nodiscard]] const std::string& traceparent() const { return row_.traceparent; }
    /// The `tracestate` enqueued with the traceparent; empty: none.
    [[nodiscard]] const std::string& tracestate() const { return row_.tracestate; }
    /// Requested when the worker stops past its deadline, or when the worker
    /// lost this job (its lease could not be extended: another node may run
    /// it now). A long handler should check it.
    [[nodiscard]] std::stop_token stop_token() const { return stop_; }

    /// "Not now": the job goes back to the queue to run again after `delay`,
    /// as a new attempt, without counting as a failure (a handler's snooze).
    void retry_after(std::chrono::milliseconds delay) { retry_after_ = delay; }
    /// The delay asked by retry_after(), read by the worker when the handler returns.
    [[nodiscard]] std::optional<std::chrono::milliseconds> retry_requested() const { return retry_after_; }

private:
    store::ClaimedJob row_;
    std::stop_token stop_;
    std::optional<std::chrono::milliseconds> retry_after_;
};

/// Runs one job. Returning completes it; throwing fails the attempt (retried
/// after WorkerOptions::retry_backoff while attempts remain, else discarded).
using Handler = std::function<void(Job&)>;

/// How long finished rows stay in the jobs table (nullopt: forever).
struct TXFLOW_EXPORT Retention {
    std::optional<std::chrono::seconds> completed = std::chrono::hours(24);  ///< completed jobs
    /// jobs discarded after their last attempt
    std::optional<std::chrono::seconds> discarded = std::chrono::hours(24 * 7);
    std::optional<std::chrono::seconds> cancelled = std::chrono::hours(24);  ///< cancelled jobs
};

/// How a Worker connects, which queues it serves, and its timings.
struct TXFLOW_EXPORT WorkerOptions {
    store::PgOptions pg;                         ///< the database and schema
    std::vector<std::string> queues{"default"};  ///< the queues it claims from
    /// The node row's name; empty: "<host>:<pid>".
    std::string name;
    /// Handler threads.
    unsigned concurrency = 4;
    /// Jobs claimed per statement (and, beyond `concurrency`, held ready).
    int claim_batch = 100;
    /// Polling always runs; notifications only wake idle workers earlier.
    std::chrono::milliseconds poll_interval{1000};
    /// LISTEN for enqueues; false behind a transaction-pooling proxy
    /// (pgbouncer pool_mode=transaction), where LISTEN does not work.
    bool notify = true;
    /// How long a claimed job is ours without a heartbeat.
    std::chrono::milliseconds lease{30000};
    /// Node row and leases; unset: lease / 3.
    std::optional<std::chrono::milliseconds> heartbeat_interval;
    /// Looking for expired leases; unset: lease / 2.
    std::optional<std::chrono::milliseconds> rescue_interval;
    /// A node row whose heartbeat is older than this is deleted; unset: 10 x lease.
    std::optional<std::chrono::milliseconds> node_expiry;
    Retention retention;  ///< how long finished rows are kept
    /// how often the cleaner deletes expired rows
    std::chrono::milliseconds retention_interval{std::chrono::minutes(1)};
    int delete_batch = 1000;  ///< rows per DELETE statement
    /// Delay before a failed job's next attempt, by its attempt number (the
    /// policy's own attempt count is not used: the job row's max_attempts is).
    retry::Policy retry_backoff = retry::exponential(std::chrono::seconds(1), 2.0, std::chrono::hours(1)).jitter_full();
    /// Between attempts to reconnect a lost connection.
    retry::Policy reconnect_backoff =
        retry::exponential(std::chrono::milliseconds(100), 2.0, std::chrono::seconds(30)).jitter_equal();
    /// Completions written per statement at most.
    int complete_batch = 1000;
    /// Unset: spdlog's default logger.
    std::shared_ptr<spdlog::logger> logger;
    /// Where the worker's figures go: `txflow_cluster_claim_duration_seconds{queue}`,
    /// `txflow_cluster_claimed_jobs_total{queue}`, `txflow_cluster_lease_rescues_total{outcome}`
    /// (docs/observability.md); null: none.
    std::shared_ptr<observe::Registry> metrics;
};

/// Counts since start(), for monitoring.
struct TXFLOW_EXPORT WorkerStats {
    std::uint64_t claimed = 0;     ///< jobs claimed
    std::uint64_t completed = 0;   ///< completions the database took
    std::uint64_t failed = 0;      ///< failed attempts recorded (retried or discarded)
    std::uint64_t snoozed = 0;     ///< retry_after() and jobs released at stop
    std::uint64_t fenced_off = 0;  ///< results refused: the job was no longer ours
    std::uint64_t rescued = 0;     ///< expired jobs (any node's) put back or discarded
    std::uint64_t deleted = 0;     ///< finished rows removed by retention
    std::uint64_t reconnects = 0;  ///< connections re-opened after a loss
    std::uint64_t wakeups = 0;     ///< notifications received
};

/// What Worker::stop() found.
struct TXFLOW_EXPORT StopReport {
    bool drained = true;              ///< every handler returned before the deadline
    std::uint64_t still_running = 0;  ///< handlers asked to stop at the deadline, still running
};

/// A cluster worker: runs PgQueue jobs with handlers by kind (see the file's notes).
class TXFLOW_EXPORT Worker {
public:
    /// Takes the options; start() checks them and connects.
    explicit Worker(WorkerOptions options);
    ~Worker();  ///< stop(0s) if running; waits for handler threads to return
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Before start(); a second handler for a kind replaces the first.
    /// Throws std::logic_error after start().
    Worker& handle(std::string kind, Handler handler);

    /// Checks the options, connects (a down server is an error here, not a
    /// retry loop), migrates or checks the schema (options.pg.migrate),
    /// registers the node and starts the services.
    StoreResult<Ok> start();

    /// Stops claiming, puts jobs claimed but not started back, waits for
    /// running handlers until `deadline`, then asks the rest to stop (their
    /// jobs' leases are no longer extended and expire: the rescuer of any node
    /// re-queues them), writes the results it has and removes the node row.
    /// Never waits past the deadline for a handler.
    StopReport stop(std::chrono::steady_clock::time_point deadline);
    /// stop() with a deadline `grace` from now.
    StopReport stop(std::chrono::milliseconds grace) { return stop(std::chrono::steady_clock::now() + grace); }

    [[nodiscard]] std::int64_t node_id() const;  ///< 0 before start()
    /// Counts since start().
    [[nodiscard]] WorkerStats stats() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace txflow::cluster
