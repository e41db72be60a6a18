#pragma once
// enqueue_batch's fast path for big batches: COPY FROM STDIN (queue_copy.cpp).

#include <span>
#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

#include "store/pg/connection.hpp"
#include "txflow/store/pg_queue.hpp"

namespace txflow::store::pg {

// Below this, multi-row INSERTs cost no more than a COPY.
inline constexpr std::size_t kCopyThreshold = 2000;

// A batch COPY can take: big enough, no unique keys (COPY has no ON
// CONFLICT) and no run_at (left to the database's now()).
[[nodiscard]] TXFLOW_EXPORT bool copy_fits(std::span<const NewJob> batch);

// Writes `batch` with the ids in `ids`, inside the caller's transaction.
TXFLOW_EXPORT StoreResult<Ok> copy_jobs(const Connection& conn, std::string_view what, const std::string& jobs,
                                        std::span<const NewJob> batch, std::span<const Enqueued> ids);

}  // namespace txflow::store::pg
