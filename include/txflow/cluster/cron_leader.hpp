#pragma once
/// @file
/// Cron across the nodes of a cluster: every fire of every schedule exactly
/// once, whichever nodes are up.
///
/// Each node runs a CronLeader with the same schedules. One of them holds the
/// leader lease (a row in `<schema>.txflow_leader` with an expiry on the
/// database's clock and an epoch that grows with every new term) and, on each
/// tick, inserts the fires that came due: a row in txflow_cron_fires, keyed
/// (schedule, fire_at), and its job in txflow_jobs (unique key
/// "cron:<schedule>:<fire_at>"), both in one transaction that first checks
/// the lease is still this node's. Two leaders at once (a paused VM waking up)
/// still give one fire row and one job per fire. Fires missed while no node
/// led (or the whole cluster was down) are handled by the schedule's misfire
/// policy, counted from the last fire recorded in the database.
///
///     cluster::CronLeaderOptions o;
///     o.pg = pg_options;                      // the same schema as the PgQueue workers
///     auto leader = cluster::CronLeader::open(o);
///     (*leader)->add({.name = "nightly", .expression = "0 30 2 * * *", .zone = "Europe/Berlin",
///                     .job = {.kind = "report"}});
///     (*leader)->start();                     // ... (*leader)->stop(5s);
///
/// See docs/cluster.md, "Cron across nodes".

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"
#include "txflow/job.hpp"
#include "txflow/observe/metrics.hpp"
#include "txflow/store/pg_options.hpp"
#include "txflow/store/pg_queue.hpp"
#include "txflow/store/store.hpp"

namespace spdlog {
class logger;
}

namespace txflow::cluster {

/// The job each fire enqueues. options.unique_key and options.run_at belong to
/// the leader (the key is "cron:<schedule>:<fire_at>", the job is due at
/// once): add() refuses a template that sets them.
struct TXFLOW_EXPORT CronJob {
    std::string kind;               ///< the job's kind (see store::NewJob)
    std::string payload;            ///< the job's payload
    store::EnqueueOptions options;  ///< queue, priority, attempts (not unique_key or run_at)
};

/// One schedule the leader fires: a cron expression, its zone and misfire policy, and the job it enqueues.
struct TXFLOW_EXPORT CronSchedule {
    std::string name;        ///< unique in the schema; the fires' `schedule` column
    std::string expression;  ///< any cron format txflow parses ("0 30 2 * * *", "@every 10s", "CRON_TZ=...")
    std::string zone;        ///< IANA name; empty: the expression's CRON_TZ prefix, else UTC
    Misfire misfire = Misfire::fire_once();  ///< fires missed while no node led, counted from the last recorded fire
    CronJob job;                             ///< what each fire enqueues
};

/// How a CronLeader connects, identifies itself and times its lease.
struct TXFLOW_EXPORT CronLeaderOptions {
    store::PgOptions pg;            ///< the database and schema (the workers')
    std::string election = "cron";  ///< the lease row's name: one leader per name and schema
    /// Unique per process (it decides whose lease a row is); empty: "<host>-<pid>-<random>".
    std::string node;
    std::chrono::milliseconds lease{15'000};          ///< on the database's clock
    std::chrono::milliseconds renew_every{0};         ///< 0: lease / 3
    std::chrono::milliseconds poll{1'000};            ///< the longest wait between two ticks of start()'s thread
    std::chrono::milliseconds misfire_grace{1'000};   ///< a fire later than this is a misfire
    std::chrono::milliseconds statement_timeout{0};   ///< 0: lease / 4 (a stuck statement cannot outlive the lease)
    std::chrono::milliseconds reconnect_min{100};     ///< backoff after a lost connection, doubling ...
    std::chrono::milliseconds reconnect_max{10'000};  ///< ... up to this
    Clock* clock = nullptr;                           ///< the wall clock fires are computed on; nullptr: the real one
    std::shared_ptr<spdlog::logger> logger;           ///< start()'s thread logs here; nullptr: spdlog's default
    /// Where `txflow_cluster_leader{election}` (1 while this node leads) and
    /// `txflow_cluster_leader_changes_total{election,change}` go; nullptr: none.
    std::shared_ptr<observe::Registry> metrics;
};

/// What one tick did.
struct TXFLOW_EXPORT CronTick {
    bool leader = false;          ///< this node held the lease at the end of the tick
    std::uint64_t inserted = 0;   ///< fires (each with its job) inserted
    std::uint64_t duplicate = 0;  ///< fires already in the table (another leader's): nothing inserted
    std::uint64_t misfired = 0;   ///< fires not run, per the misfire policies
};

/// Cron across the nodes of a cluster: one leased leader inserts each fire once (see the file's notes).
class TXFLOW_EXPORT CronLeader {
public:
    /// Connects and checks (or, with pg.migrate, migrates) the schema; fails
    /// with the reason on a bad option, schema or server.
    static store::StoreResult<std::unique_ptr<CronLeader>> open(CronLeaderOptions options);
    ~CronLeader();  ///< stop(), then releases the lease
    CronLeader(const CronLeader&) = delete;
    CronLeader& operator=(const CronLeader&) = delete;

    /// Registers a schedule (Code::invalid: a bad expression or zone, a
    /// duplicate name, a bad job template). Safe while running.
    store::StoreResult<store::Ok> add(CronSchedule schedule);

    /// One step, on the caller's thread: reconnect if due, renew or acquire
    /// the lease, then insert the due fires. An error says what failed; the
    /// node is then not leader until a later tick succeeds again.
    store::StoreResult<CronTick> tick();

    /// tick()s on a thread of its own until stop(). stop() waits up to
    /// `timeout` for a statement in flight (then cancels it), gives the lease
    /// up so another node takes over at once, and says whether it stopped in time.
    void start();
    /// See start(): stops the thread within `timeout`; false when it did not.
    bool stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /// Gives the lease up now (another node may take over); a later tick may take it again.
    store::StoreResult<store::Ok> resign();

    /// True while this node holds the lease (as of the last tick).
    [[nodiscard]] bool is_leader() const;
    [[nodiscard]] std::int64_t epoch() const;  ///< of the current or last term; 0: never led
    /// This node's name (CronLeaderOptions::node, or the generated one).
    [[nodiscard]] const std::string& node() const;

    /// Tests only: act as leader without a lease (two leaders at once, as
    /// after a paused VM wakes up). Fires stay exactly once regardless.
    void set_bypass_lease_for_testing(bool bypass);

    struct Impl;

private:
    explicit CronLeader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace txflow::cluster
