#pragma once
/// @file
/// A snapshot of a cluster's shared state in PostgreSQL, for `txflow cluster
/// status` and monitoring: the nodes, the cron leader, and the jobs by kind
/// and state.
///
///     auto status = txflow::cluster::read_status(pg);
///     if (!status) { ... status.error().message ... }
///     for (const auto& node : status->nodes) ...

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/store/pg_options.hpp"
#include "txflow/store/store.hpp"

namespace txflow::cluster {

/// A node row: one running cluster::Worker.
struct TXFLOW_EXPORT NodeStatus {
    std::int64_t id = 0;                           ///< the row's id
    std::string name;                              ///< WorkerOptions::name
    std::string host;                              ///< where it runs
    std::int32_t pid = 0;                          ///< its process id
    std::chrono::milliseconds since_heartbeat{0};  ///< on the database's clock
    std::int64_t running = 0;                      ///< jobs it holds as running
};

/// An election's lease row.
struct TXFLOW_EXPORT LeaderStatus {
    std::string election;               ///< CronLeaderOptions::election
    std::string node;                   ///< who holds (or last held) it
    std::int64_t epoch = 0;             ///< its term
    bool valid = false;                 ///< the lease has not passed (database clock)
    std::chrono::milliseconds left{0};  ///< until the lease passes (0 when it has)
};

/// Jobs of one kind, by state.
struct TXFLOW_EXPORT KindStatus {
    std::string kind;            ///< the job kind
    std::int64_t available = 0;  ///< waiting (also scheduled for later)
    std::int64_t running = 0;    ///< claimed
    std::int64_t completed = 0;  ///< finished, not yet deleted by retention
    std::int64_t discarded = 0;  ///< gave up after their last attempt
    std::int64_t cancelled = 0;  ///< cancelled
};

/// What read_status() found.
struct TXFLOW_EXPORT ClusterStatus {
    std::vector<NodeStatus> nodes;      ///< by id
    std::vector<LeaderStatus> leaders;  ///< by election name
    std::vector<KindStatus> kinds;      ///< by kind
};

/// Reads nodes, leaders and job counts in one snapshot (a repeatable-read
/// transaction). The schema must be migrated; pg.migrate is ignored.
[[nodiscard]] TXFLOW_EXPORT store::StoreResult<ClusterStatus> read_status(const store::PgOptions& pg);

}  // namespace txflow::cluster
