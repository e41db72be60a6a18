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

#include "cluster/session.hpp"
#include "txflow/store/pg_queue.hpp"

namespace txflow::cluster {

struct Tables {
    std::string jobs;   // "<schema>".txflow_jobs
    std::string nodes;  // "<schema>".txflow_nodes
};

struct Held {  // a job a worker holds: its id and fencing token
    std::int64_t id = 0;
    std::int32_t attempt = 0;
};

// A failed attempt or a snooze, for fail_batch().
struct Setback {
    Held job;
    bool snooze = false;  // true: back to available, not a failure
    std::string error;
    std::chrono::milliseconds delay{0};
};

struct SetbackTaken {
    std::int64_t id = 0;
    bool discarded = false;
};

struct HeartbeatResult {
    bool node_found = false;
    std::vector<std::int64_t> extended;  // ids whose lease was extended
};

StoreResult<std::int64_t> register_node(Session& s, const Tables& t, const std::string& name, const std::string& host,
                                        int pid);
// Re-inserts a node row a rescuer deleted (the node was thought dead).
StoreResult<Ok> restore_node(Session& s, const Tables& t, std::int64_t id, const std::string& name,
                             const std::string& host, int pid);
StoreResult<Ok> remove_node(Session& s, const Tables& t, std::int64_t id);

StoreResult<std::vector<store::ClaimedJob>> claim(Session& s, const Tables& t, const std::string& queue, int limit,
                                                  std::chrono::milliseconds lease, std::int64_t node_id);
// One UPDATE for all of `done`; returns the ids it completed (the rest were fenced off).
StoreResult<std::vector<std::int64_t>> complete_batch(Session& s, const Tables& t, std::span<const Held> done);
// One UPDATE for all of `setbacks`; returns the ones it took.
StoreResult<std::vector<SetbackTaken>> fail_batch(Session& s, const Tables& t, std::span<const Setback> setbacks);
// The node row and the leases of `held`, in one statement.
StoreResult<HeartbeatResult> heartbeat(Session& s, const Tables& t, std::int64_t node_id,
                                       std::chrono::milliseconds lease, std::span<const Held> held);
StoreResult<store::RescueCounts> rescue_expired(Session& s, const Tables& t, int limit);
StoreResult<std::uint64_t> remove_dead_nodes(Session& s, const Tables& t, std::chrono::milliseconds expiry);
// Up to `limit` rows of `state` finished more than `age` ago.
StoreResult<std::uint64_t> delete_finished(Session& s, const Tables& t, const char* state,
                                           std::chrono::milliseconds age, int limit);

}  // namespace txflow::cluster
