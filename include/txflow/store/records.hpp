#pragma once
/// @file
/// The records txflow writes to a Store. Payloads are a compact binary
/// encoding (varints and length-prefixed strings; src/store/codec.hpp);
/// record_to_json shows them to people.

#include <cstdint>
#include <string>
#include <string_view>
#include "txflow/core/export.hpp"

#include "txflow/store/store.hpp"

namespace txflow::store {

/// The record types txflow's scheduler and saga engine write (Record::type).
enum class RecordType : std::uint16_t {
    saga_created = 1,  ///< id, definition, step names, input data: the saga is pending
    saga_state = 2,    ///< a saga transition (and why)
    step_state = 3,    ///< a step transition; on success, the saga's data after it
    step_attempt = 4,  ///< attempt n >= 2 of an action or compensation begins
    saga_data = 5,     ///< the saga's data after a parallel group merged its copies
    saga_removed = 6,  ///< a finished saga was forgotten (retention): its key may be used again
    saga_trace = 7,    ///< the saga's span (traceparent, tracestate, its parent span): follows saga_created when traced
    job_fired = 10,    ///< a cron/at job ran a fire (the last fire, for misfires after a crash)
    retry_armed = 11,  ///< a failed run waits for its next attempt
    retry_done = 12,   ///< that retry ran or was dropped
    dead_letter = 13,  ///< a run gave up
    dead_letter_removed = 14,
    atomic_begin = 20,            ///< an atomic transaction: id, definition, participants, data (before any prepare)
    atomic_vote = 21,             ///< a participant's vote (not waited on: the decision is what counts)
    atomic_decision = 22,         ///< commit or abort, durable before any participant hears it
    atomic_ack = 23,              ///< a participant acknowledged the decided phase
    job_checkpoint = 24,          ///< a job's saved progress (JobContext::checkpoint), for its next run
    job_checkpoint_cleared = 25,  ///< that progress was used up: the run it belonged to ended
    atomic_stalled = 26,  ///< a participant's commit failed past the stall limit: commit_stalled, its last error
    atomic_removed = 27,  ///< a finished transaction was forgotten (retention): its id may be used again
    retry_trace = 28,     ///< the trace a waiting retry continues (traceparent, tracestate): follows retry_armed
};

/// The type's name ("saga_created", ...), or "unknown".
[[nodiscard]] TXFLOW_EXPORT std::string_view to_string(RecordType type);

/// One JSON object for a record, for `txflow wal dump` and logs:
/// {"seq":12,"type":"step_state","saga":"order-42",...}. Unknown types and
/// payloads that do not decode are shown as hex with "error", never dropped.
[[nodiscard]] TXFLOW_EXPORT std::string record_to_json(const Record& record);

}  // namespace txflow::store
