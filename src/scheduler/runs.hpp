#pragma once
// A run on its way (queued, running, waiting to retry) and the aux timers
// (retries, attempt deadlines, saga callbacks) that point at it.

#include "common/wall_ms.hpp"
#include "core/intrusive_heap.hpp"
#include "scheduler/job_state.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <stop_token>
#include <string_view>

namespace txflow {

struct PendingRun {
    JobState* job;
    WallTime scheduled;
    std::uint32_t attempt = 1;                    // > 1: a retry of the same fire
    SteadyTime run_started{};                     // retries: when attempt 1 started
    std::chrono::milliseconds previous_delay{0};  // retries: the wait before this attempt
    bool fire = false;                            // a cron/at fire, tracked in Extra::open_fires until done
    std::uint8_t preemptions = 0;                 // times this run yielded its worker (0: a fresh start)
    // Tracing: the span every attempt of this run is a child of (a given traceparent, or for a
    // retry without one the first attempt's span, so all attempts share one trace); null: a new root.
    std::shared_ptr<const observe::TraceContext> trace_parent{};
    // In the run pool (RunPool): on its way to a worker; Scheduler::cancel_run marks it cancelled.
    bool queued = false;
    bool cancelled = false;
};

// What an aux timer (retries, deadlines, callbacks) stands for: an element of
// Impl::aux_timers, so it must not move while armed.
struct AuxTimer {
    enum class Kind : std::uint8_t { retry, deadline, stuck_check, callback, preempt_grace };
    Kind kind = Kind::retry;
    struct ActiveRun* run = nullptr;           // deadline, stuck_check
    struct PendingRetry* retry = nullptr;      // retry
    struct CallbackTimer* callback = nullptr;  // callback
    std::uint32_t heap_pos = kNotInHeap;       // IntrusiveHeap's
};

// A function to call on the timer thread (the saga engine's retries and step
// deadlines); listed by id in Impl::callbacks so cancel finds it in O(1).
struct CallbackTimer {
    std::uint64_t id = 0;
    std::function<void()> fn;
    AuxTimer timer{AuxTimer::Kind::callback};
};

// A retry waiting on the timer; knows its place in Impl::retries so firing
// it erases in O(1).
struct PendingRetry {
    PendingRun run;
    std::uint64_t id = 0;  // its retry_armed record
    AuxTimer timer{AuxTimer::Kind::retry};
    std::list<PendingRetry>::iterator self{};
};

// One attempt in progress; lives on the worker's stack, linked into Impl::active_runs.
struct ActiveRun {
    enum class Preempt : std::uint8_t { no, candidate, requested, grace_expired };
    JobState* job;
    std::stop_source* stop;
    ActiveRun* next;
    AuxTimer deadline{AuxTimer::Kind::deadline};
    AuxTimer stuck_check{AuxTimer::Kind::stuck_check};
    bool stuck = false;
    // Preemption: whether this run may be asked to yield, and how far it got.
    Preempt preempt = Preempt::no;
    std::uint64_t start_seq = 0;         // higher: started later
    std::atomic<bool> preempted{false};  // JobContext::preempted() reads it unlocked
    AuxTimer preempt_grace{AuxTimer::Kind::preempt_grace};
    // Scheduler::cancel_run: the fire this attempt is for, and whether the job
    // may still be cancelled (kCallable: set under the mutex before the job is
    // called; the worker swaps in kCallEnded when the call returns, so either the
    // cancel or the end wins, never both).
    enum CancelState : std::uint8_t { kCallable, kCancelled, kCallEnded };
    WallTime scheduled{};
    std::atomic<std::uint8_t> cancel_state{kCallEnded};
};

// The ids of the attempt's span (none without a tracer).
inline void set_trace_ids(Event& e, const observe::TraceContext* trace) {
    if (trace == nullptr) return;
    e.trace_id = trace->trace_id;
    e.span_id = trace->span_id;
}

inline Event event(EventKind kind, std::string_view job, WallTime fire_time) {
    Event e;
    e.kind = kind;
    e.job = job;
    e.fire_time = fire_time;
    return e;
}

}  // namespace txflow
