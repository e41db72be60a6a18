#pragma once
// Every statement the cluster worker runs, in one place. Each change of a
// claimed job is fenced: `(id, attempt)` must still match and the job must
// still be `running`, so a stale owner changes nothing and learns which of
// its jobs were taken from it.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>
#include "txflow/core/export.hpp"

#include "cluster/session.hpp"
#include "txflow/store/pg_queue.hpp"

namespace txflow::cluster {

struct TXFLOW_EXPORT Tables {
    std::string jobs;   // "<schema>".txflow_jobs
    std::string nodes;  // "<schema>".txflow_nodes
};

struct TXFLOW_EXPORT Held {  // a job a worker holds: its id and fencing token
    std::int64_t id = 0;
    std::int32_t attempt = 0;
};

// A failed attempt or a snooze, for fail_batch().
struct TXFLOW_EXPORT Setback {
    Held job;
    bool snooze = false;  // true: back to available, not a failure
    std::string error;
    std::chrono::milliseconds delay{0};
};

struct TXFLOW_EXPORT SetbackTaken {
    std::int64_t id = 0;
    bool discarded = false;
};

struct TXFLOW_EXPORT HeartbeatResult {
    bool node_found = false;
    std::vector<std::int64_t> extended;  // ids whose lease was extended
};

TXFLOW_EXPORT StoreResult<std::int64_t> register_node(Session& s, const Tables& t, const std::string& name,
                                                      const std::string& host, int pid);
// Re-inserts a node row a rescuer deleted (the node was thought dead).
TXFLOW_EXPORT StoreResult<Ok> restore_node(Session& s, const Tables& t, std::int64_t id, const std::string& name,
                                           const std::string& host, int pid);
TXFLOW_EXPORT StoreResult<Ok> remove_node(Session& s, const Tables& t, std::int64_t id);

TXFLOW_EXPORT StoreResult<std::vector<store::ClaimedJob>> claim(Session& s, const Tables& t, const std::string& queue,
                                                                int limit, std::chrono::milliseconds lease,
                                                                std::int64_t node_id);
// One UPDATE for all of `done`; returns the ids it completed (the rest were fenced off).
TXFLOW_EXPORT StoreResult<std::vector<std::int64_t>> complete_batch(Session& s, const Tables& t,
                                                                    std::span<const Held> done);
// One UPDATE for all of `setbacks`; returns the ones it took.
TXFLOW_EXPORT StoreResult<std::vector<SetbackTaken>> fail_batch(Session& s, const Tables& t,
                                                                std::span<const Setback> setbacks);
// The node row and the leases of `held`, in one statement.
TXFLOW_EXPORT StoreResult<HeartbeatResult> heartbeat(Session& s, const Tables& t, std::int64_t node_id,
                                                     std::chrono::milliseconds lease, std::span<const Held> held);
TXFLOW_EXPORT StoreResult<store::RescueCounts> rescue_expired(Session& s, const Tables& t, int limit);
TXFLOW_EXPORT StoreResult<std::uint64_t> remove_dead_nodes(Session& s, const Tables& t,
                                                           std::chrono::milliseconds expiry);
// Up to `limit` rows of `state` finished more than `age` ago.
TXFLOW_EXPORT StoreResult<std::uint64_t> delete_finished(Session& s, const Tables& t, const char* state,
                                                         std::chrono::milliseconds age, int limit);

}  // namespace txflow::cluster
