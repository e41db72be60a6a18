#pragma once
/// @file
/// What the scheduler tells the outside world. Listeners are called on the
/// thread where the event happens (timer thread or worker): keep them short
/// and never call back into the scheduler under a lock of your own.

#include <chrono>
#include <cstdint>
#include <string_view>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"
#include "txflow/observe/trace.hpp"

namespace txflow {

/// What happened: the kind of an Event.
enum class EventKind : std::uint8_t {
    scheduled,  ///< next fire computed (fire_time holds it)
    started,
    finished,       ///< outcome and duration set
    misfired,       ///< a fire was missed (clock jump, pause, down time); count says how many
    skipped,        ///< a fire was not run (misfire policy skip; detail "coalesced": a run already waited)
    rejected,       ///< the executor's backlog refused the run
    dropped,        ///< the executor's backlog evicted a queued run (drop_oldest)
    retrying,       ///< an attempt failed; attempt + 1 is armed (delay holds the wait)
    dead_lettered,  ///< a run gave up (retries exhausted or not retryable)
    stuck,          ///< an attempt is still running past its deadline after a stop request
    breaker,        ///< a circuit breaker changed state (job: the breaker's name; detail: "closed->open")
    saga,           ///< a saga or step changed state (job: the saga id; detail: "running->failed" or
                    ///< "step credit: running->failed"; error: why)
    alert,          ///< needs an operator (job: the saga id; detail: compensation_failed, or stalled: the store failed)
    preempted,      ///< a run was asked to yield to a higher-priority one (docs/preemption.md); detail: "requested",
                    ///< "yielded" (re-queued), "grace_expired" (it ignored the request; a worker was lent)
};

/// How a run (or an attempt) ended.
enum class Outcome : std::uint8_t { none, succeeded, failed, cancelled, timed_out, skipped };

/// One thing that happened to a job, a saga or a breaker; the views it holds are valid during the call only.
struct TXFLOW_EXPORT Event {
    EventKind kind{};                      ///< what happened
    std::string_view job;                  ///< the job's name (saga, breaker and alert events: see EventKind)
    WallTime fire_time{};                  ///< the wall instant the run was scheduled for
    Outcome outcome = Outcome::none;       ///< finished: how the attempt ended
    std::chrono::nanoseconds duration{0};  ///< finished: how long the attempt ran
    std::string_view error;                ///< failed: the exception's what()
    std::uint64_t count = 1;               ///< misfired/skipped: how many fires
    std::uint32_t attempt = 1;             ///< started/finished/retrying: the attempt number
    std::chrono::milliseconds delay{0};    ///< retrying: the wait before the next attempt
    std::string_view detail;               ///< skipped/breaker: why, or which transition
    /// started/finished/retrying, with SchedulerOptions::tracer: the attempt's trace (all zero: none).
    observe::TraceId trace_id{};
    /// started/finished/retrying, with a tracer: the attempt's span (all zero: none).
    observe::SpanId span_id{};
};

/// Receives the scheduler's events (SchedulerOptions::listener()), on the thread where each happens.
class TXFLOW_EXPORT Listener {
public:
    virtual ~Listener() = default;
    /// Called for each event; keep it short and do not throw.
    virtual void on_event(const Event& event) = 0;
};

/// The kind's name: "scheduled", "started", ...
[[nodiscard]] constexpr std::string_view to_string(EventKind kind) {
    switch (kind) {
        case EventKind::scheduled: return "scheduled";
        case EventKind::started: return "started";
        case EventKind::finished: return "finished";
        case EventKind::misfired: return "misfired";
        case EventKind::skipped: return "skipped";
        case EventKind::rejected: return "rejected";
        case EventKind::dropped: return "dropped";
        case EventKind::retrying: return "retrying";
        case EventKind::dead_lettered: return "dead_lettered";
        case EventKind::stuck: return "stuck";
        case EventKind::breaker: return "breaker";
        case EventKind::saga: return "saga";
        case EventKind::alert: return "alert";
        case EventKind::preempted: return "preempted";
    }
    return "unknown";
}

/// The outcome's name: "none", "succeeded", ...
[[nodiscard]] constexpr std::string_view to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::none: return "none";
        case Outcome::succeeded: return "succeeded";
        case Outcome::failed: return "failed";
        case Outcome::cancelled: return "cancelled";
        case Outcome::timed_out: return "timed_out";
        case Outcome::skipped: return "skipped";
    }
    return "unknown";
}

}  // namespace txflow
