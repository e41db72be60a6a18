// Events raised under the mutex, delivered without it.

#include "scheduler/impl.hpp"

#include <thread>
#include <vector>

namespace txflow {

using std::chrono::milliseconds;

void Scheduler::Impl::defer(const Event& e) {
    if (options.listeners_.empty()) return;
    deferred.push_back({e, std::string(e.job), std::string(e.detail), std::string(e.error)});
}

// Call without the mutex. Returns once every event deferred before the
// call has been delivered, by this thread or by the one delivering.
void Scheduler::Impl::flush_events() {
    if (options.listeners_.empty()) return;
    // A listener calling back into the scheduler lands here again: the
    // loop below, already running on this thread, delivers what it raised.
    if (delivering.load(std::memory_order_relaxed) == std::this_thread::get_id()) return;
    const std::lock_guard delivery(delivery_mutex);
    delivering.store(std::this_thread::get_id(), std::memory_order_relaxed);
    struct Reset {
        std::atomic<std::thread::id>& who;
        ~Reset() { who.store(std::thread::id{}, std::memory_order_relaxed); }
    } reset{delivering};
    std::vector<Deferred> batch;
    for (;;) {
        {
            const std::lock_guard lock(mutex);
            batch.swap(deferred);
        }
        if (batch.empty()) return;
        for (auto& d : batch) {
            d.event.job = d.job;
            d.event.detail = d.detail;
            d.event.error = d.error;
            emit(d.event);
        }
        batch.clear();
    }
}

void Scheduler::Impl::emit(const Event& e) const {
    if (metrics && (e.kind == EventKind::breaker || e.kind == EventKind::saga || e.kind == EventKind::preempted))
        metrics->on_event(e);
    for (const auto& l : options.listeners_) l->on_event(e);
}
}  // namespace txflow
