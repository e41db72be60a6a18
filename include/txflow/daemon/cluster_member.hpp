#pragma once
/// @file
/// The schedule-file daemon as a member of a cluster on PostgreSQL
/// (`txflow run FILE --store URL`, or `"store"` in the file; docs/cluster.md).
///
///     txflow::daemon::ClusterOptions o;
///     o.pg.url = "postgresql://app@db/app";
///     auto member = txflow::daemon::ClusterMember::create(std::move(file), o);
///     if (!member) { ... member.error() ... }       // problems with their JSON pointers
///     if (auto ok = (*member)->start(); !ok) { ... ok.error().message ... }
///     (*member)->stop(30s);                           // on SIGTERM
///
/// Each job of the file becomes a worker kind (its name) whose handler runs
/// the job's command; its cron (or `every`) trigger is registered with a
/// cluster::CronLeader on every node, and only the leader inserts the fires,
/// which whichever node claims them runs. An `at` job is enqueued once (unique
/// key "at:<job>:<time>") while its time is ahead. The job's retry becomes the
/// row's max_attempts (a node that dies mid-run uses one up too) with the
/// retry's backoff between failed attempts; its timeout stops the command.
/// Saga and transaction jobs do not run in cluster mode (yet).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

#include "txflow/cluster/worker.hpp"
#include "txflow/result.hpp"
#include "txflow/schedule_file/schedule.hpp"
#include "txflow/store/pg_options.hpp"

namespace spdlog {
class logger;
}

namespace txflow::daemon {

/// Where the cluster is and how this member takes part.
struct TXFLOW_EXPORT ClusterOptions {
    store::PgOptions pg;  ///< the database and schema every member shares
    /// This node's name (node rows, the leader lease, TXFLOW_NODE); empty: "<host>-<pid>".
    std::string node;
    std::chrono::milliseconds lease{30'000};             ///< a claimed job's lease; the cron leader's too
    std::chrono::milliseconds poll{1'000};               ///< the workers' poll interval
    std::chrono::milliseconds kill_grace{5'000};         ///< SIGTERM to a command, then SIGKILL after this
    cluster::Retention retention;                        ///< how long finished rows are kept
    std::optional<schedule_file::LogFormat> log_format;  ///< overrides the file's log.format
    std::shared_ptr<spdlog::logger> logger;              ///< default: make_logger() on stdout
};

/// What ClusterMember::stop() found.
struct TXFLOW_EXPORT ClusterStopReport {
    bool drained = true;              ///< every running command finished before the deadline
    std::uint64_t still_running = 0;  ///< commands asked to stop at the deadline
};

/// A schedule file run as a cluster member (see the file's notes).
class TXFLOW_EXPORT ClusterMember {
public:
    /// Checks that every job can run in cluster mode, reads secrets and
    /// accounts; problems carry the job's pointer ("/jobs/2: ...").
    static Result<std::unique_ptr<ClusterMember>, schedule_file::Problems> create(schedule_file::ScheduleFile file,
                                                                                  ClusterOptions options);
    ~ClusterMember();  ///< stop(0s) if still running
    ClusterMember(const ClusterMember&) = delete;
    ClusterMember& operator=(const ClusterMember&) = delete;

    /// Connects (migrating the schema when pg.migrate), registers the node,
    /// the cron schedules and the `at` jobs, then starts claiming.
    store::StoreResult<store::Ok> start();
    /// Stops the cron leader (handing the lease on), stops claiming, puts
    /// claimed jobs not started back, lets running commands finish until
    /// `drain`, then stops them (SIGTERM, SIGKILL after kill_grace) and
    /// returns once they have ended; their jobs are retried by another node.
    ClusterStopReport stop(std::chrono::milliseconds drain);

    /// An info line in the member's log.
    void log(std::string_view message);
    /// This node's name.
    [[nodiscard]] const std::string& node() const;

    struct Impl;

private:
    explicit ClusterMember(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace txflow::daemon
