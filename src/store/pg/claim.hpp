#pragma once
// The one claim statement, shared by PgQueue::claim and the cluster worker's
// producer: a batch moves from available to running under a new attempt (the
// fencing token) and a lease, FOR UPDATE SKIP LOCKED.

#include <string>
#include <vector>

#include "store/pg/connection.hpp"
#include "txflow/store/pg_queue.hpp"

namespace txflow::store::pg {

// Parameters: $1 queue, $2 limit, $3 lease in milliseconds and, with
// `set_node`, $4 the claiming node's id (txflow_nodes.id).
[[nodiscard]] std::string claim_statement(const std::string& jobs_table, bool set_node);

// The claimed rows in claim order (priority, run_at, id): RETURNING has none.
[[nodiscard]] std::vector<ClaimedJob> claimed_jobs(const Rows& rows);

}  // namespace txflow::store::pg
