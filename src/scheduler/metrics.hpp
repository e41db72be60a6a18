#pragma once
// The scheduler's metrics (SchedulerOptions::metrics): per-job cells resolved
// once at registration and kept on the job record, so a run touches only
// atomics; breaker and saga events counted as they arrive; queue, breaker and
// saga gauges read at scrape time by a registry collector; store flushes
// (WAL fsync duration, group-commit size) through a StoreObserver.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "txflow/observe/events.hpp"
#include "txflow/observe/metrics.hpp"
#include "txflow/store/store.hpp"

namespace txflow {

// One job's cells (a job in one queue). Owned by SchedulerMetrics, pointed at by JobState::Extra.
struct JobMetrics {
    std::array<observe::Counter*, 6> runs{};  // by Outcome
    observe::Counter* timeouts = nullptr;
    observe::Counter* retries = nullptr;
    observe::Counter* misfires = nullptr;
    observe::Counter* skipped_fires = nullptr;  // misfire policy skip, coalesced
    observe::Counter* refused = nullptr;        // rejected or dropped by a full backlog
    observe::Counter* dead_letters = nullptr;
    observe::Histogram* duration = nullptr;
    observe::Histogram* lateness = nullptr;

    void finished(Outcome outcome, std::chrono::nanoseconds took) const noexcept {
        if (auto* c = runs[static_cast<std::size_t>(outcome)]) c->inc();
        if (outcome == Outcome::timed_out) timeouts->inc();
        if (outcome != Outcome::skipped) duration->observe(took);
    }
};

class SchedulerMetrics {
public:
    // The collector is what reads the scheduler at scrape time.
    SchedulerMetrics(std::shared_ptr<observe::Registry> registry, std::function<void(SchedulerMetrics&)> collector,
                     std::shared_ptr<store::Store> store);
    SchedulerMetrics(const SchedulerMetrics&) = delete;
    SchedulerMetrics& operator=(const SchedulerMetrics&) = delete;
    ~SchedulerMetrics();  // removes the collector and the store observer

    // Stable for the life of this object; the same pair gives the same cells.
    const JobMetrics* job(std::string_view name, std::string_view queue);
    // Breaker, saga and preemption events (others are counted through JobMetrics).
    void on_event(const Event& e);

    // Gauges the collector sets.
    observe::Family<observe::Gauge>& queue_depth;
    observe::Family<observe::Gauge>& queue_running;
    observe::Family<observe::Gauge>& queue_limit;
    observe::Family<observe::Gauge>& queue_oldest_wait;
    observe::Family<observe::Gauge>& breaker_state;
    observe::Family<observe::Gauge>& breaker_window_calls;
    observe::Family<observe::Gauge>& breaker_window_failure_ratio;
    observe::Family<observe::Gauge>& breaker_window_latency;
    observe::Family<observe::Gauge>& sagas;
    observe::Family<observe::Gauge>& atomic_transactions;  // in flight, by state

    // The coordinator's counters (atomic::Coordinator::Metrics).
    observe::Counter& atomic_committed;
    observe::Counter& atomic_aborted;
    observe::Counter& atomic_participant_retries;

private:
    std::shared_ptr<observe::Registry> registry_;
    observe::Family<observe::Counter>& runs_;
    observe::Family<observe::Counter>& timeouts_;
    observe::Family<observe::Counter>& retries_;
    observe::Family<observe::Counter>& misfires_;
    observe::Family<observe::Counter>& skipped_fires_;
    observe::Family<observe::Counter>& refused_;
    observe::Family<observe::Counter>& dead_letters_;
    observe::Family<observe::Histogram>& duration_;
    observe::Family<observe::Histogram>& lateness_;
    observe::Family<observe::Counter>& breaker_transitions_;
    observe::Family<observe::Counter>& saga_transitions_;
    observe::Family<observe::Counter>& compensations_;
    observe::Family<observe::Counter>& preemptions_;

    std::mutex mutex_;
    std::unordered_map<std::string, std::unique_ptr<JobMetrics>> jobs_;  // key: job '\0' queue
    std::uint64_t collector_ = 0;
    std::shared_ptr<store::Store> store_;  // observed, when one was given
};

}  // namespace txflow
