// What a metrics scrape reads from the scheduler: queues, breakers, sagas.

#include <array>
#include <chrono>

#include "scheduler/impl.hpp"

namespace txflow {

void Scheduler::Impl::collect_metrics(SchedulerMetrics& m) const {
    for (const QueueStats& q : executor.queue_stats()) {
        m.queue_depth.with({q.name}).set(static_cast<double>(q.queued));
        m.queue_running.with({q.name}).set(static_cast<double>(q.running));
        m.queue_limit.with({q.name}).set(static_cast<double>(q.limit));
        m.queue_oldest_wait.with({q.name}).set(std::chrono::duration<double>(q.oldest_wait).count());
    }
    for (const std::string& name : breakers.names()) {
        const auto breaker = breakers.find(name);
        if (!breaker) continue;
        const BreakerStats s = breaker->stats();
        for (const BreakerState state : {BreakerState::closed, BreakerState::open, BreakerState::half_open})
            m.breaker_state.with({name, to_string(state)}).set(s.state == state ? 1.0 : 0.0);
        m.breaker_window_calls.with({name}).set(static_cast<double>(s.calls));
        m.breaker_window_failure_ratio.with({name}).set(s.failure_rate);
        m.breaker_window_latency.with({name}).set(std::chrono::duration<double>(s.latency_percentile).count());
    }
    std::array<std::size_t, saga::kStateCount> by_state{};
    for (const saga::Info& info : engine.list(std::nullopt)) ++by_state[static_cast<std::size_t>(info.state)];
    for (std::size_t i = 0; i < by_state.size(); ++i)
        m.sagas.with({saga::to_string(static_cast<saga::State>(i))}).set(static_cast<double>(by_state[i]));
    const auto transactions = atomics.count_by_state();
    for (const atomic::State s :
         {atomic::State::preparing, atomic::State::committing, atomic::State::aborting, atomic::State::commit_stalled})
        m.atomic_transactions.with({atomic::to_string(s)})
            .set(static_cast<double>(transactions[static_cast<std::size_t>(s)]));
}

}  // namespace txflow
