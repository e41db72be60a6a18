#pragma once
/// @file
/// A read-only look at a WalStore state directory: the state a scheduler
/// would recover from it (its snapshot, then every record after it), without
/// opening the store, so nothing in the directory changes and a running
/// daemon is not disturbed. What `txflow status` and `txflow sagas` print.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"
#include "txflow/saga/state.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/store.hpp"
#include "txflow/store/wal_store.hpp"

namespace txflow::store {

/// A saga as the state directory records it.
struct TXFLOW_EXPORT SagaSummary {
    std::string id;                            ///< the instance id
    std::string definition;                    ///< the saga definition's name
    saga::State state = saga::State::pending;  ///< its state after the last record
    std::size_t steps_done = 0;                ///< steps whose action completed (undone since or not)
    std::size_t steps = 0;                     ///< steps in the definition
    std::string last_error;                    ///< the saga's, else its latest step's; empty when none
    WallTime updated{};                        ///< time of its last record
};

/// An atomic transaction as the state directory records it.
struct TXFLOW_EXPORT TransactionSummary {
    std::string id;          ///< the transaction id
    std::string definition;  ///< the transaction definition's name
    std::string state;       ///< atomic::State's name as the log leaves it (commit_stalled needs a live coordinator)
    std::size_t acked = 0;   ///< participants that acknowledged the decision
    std::size_t participants = 0;  ///< participants in the definition
    std::string reason;            ///< why it aborted, or (commit_stalled) which participant and its last error
    WallTime updated{};            ///< time of its last record
};

/// A failed run waiting for its next attempt.
struct TXFLOW_EXPORT PendingRetry {
    std::string job;            ///< the job's name
    WallTime scheduled{};       ///< the fire it retries
    std::uint32_t attempt = 0;  ///< the attempt that will run
    WallTime due{};             ///< when the attempt is due
};

/// What read_state_dir() found: the state a scheduler would recover.
struct TXFLOW_EXPORT StateDirView {
    RecoveryReport log;                            ///< what WalStore::inspect() found
    std::vector<SagaSummary> sagas;                ///< by id
    std::vector<TransactionSummary> transactions;  ///< atomic transactions, by id
    std::vector<DeadLetter> dead_letters;          ///< oldest first
    std::map<std::string, WallTime> last_fire;     ///< job -> its last recorded fire
    std::vector<PendingRetry> retries;             ///< in the order they were armed
};

/// Fails (Code::corrupt) on a damaged log or snapshot, or a record that does
/// not fold; a torn last write is left out, as open() would truncate it.
[[nodiscard]] TXFLOW_EXPORT StoreResult<StateDirView> read_state_dir(const std::filesystem::path& dir);

}  // namespace txflow::store
