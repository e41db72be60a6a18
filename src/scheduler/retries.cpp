// Retries, attempt deadlines, saga callbacks (the aux timers), and dead letters.

#include "scheduler/impl.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <vector>

namespace txflow {

using std::chrono::milliseconds;

// ---- retries and deadlines (aux_timers)
void Scheduler::Impl::arm_aux(AuxTimer& t, SteadyTime due) {
    aux_timers.rearm(t, due);
    notify_timer();
}

void Scheduler::Impl::disarm_aux(AuxTimer& t) {
    if (aux_timers.contains(t)) aux_timers.cancel(t);
}

// The job keeps its pending count while the retry waits, so its record lives.
// recovered_id: re-arming a retry recovered from the store (already recorded).
void Scheduler::Impl::schedule_retry(const PendingRun& next, milliseconds delay, std::uint64_t recovered_id) {
    ++next.job->pending;
    auto& r = retries.emplace_back(PendingRetry{next});
    r.self = std::prev(retries.end());
    r.timer.retry = &r;
    r.id = recovered_id != 0 ? recovered_id : next_retry_id++;
    if (recovered_id == 0) {
        (void)journal.submit(store::RetryArmed{r.id, std::string(next.job->name()), to_ms(next.scheduled), next.attempt,
                                               to_ms(clock.wall_now() + delay)});
        if (next.trace_parent)
            (void)journal.submit(
                store::RetryTrace{r.id, next.trace_parent->traceparent(), next.trace_parent->tracestate});
    }
    arm_aux(r.timer, clock.steady_now() + delay);
}

// Drops the waiting retries of j (all when j is null); returns records to destroy.
std::vector<JobState*> Scheduler::Impl::drop_retries(const JobState* j) {
    std::vector<JobState*> dead;
    for (auto it = retries.begin(); it != retries.end();) {
        if (j != nullptr && it->run.job != j) {
            ++it;
            continue;
        }
        disarm_aux(it->timer);
        // At stop the retry stays in the store, to be re-armed after a restart.
        if (j != nullptr) (void)journal.submit(store::RetryDone{it->id});
        JobState& job = *it->run.job;
        --job.pending;
        if (job.removed && job.pending == 0) dead.push_back(&job);
        it = retries.erase(it);
    }
    idle_cv.notify_all();
    return dead;
}

void Scheduler::Impl::on_aux_timer(AuxTimer& t, std::vector<PendingRun>& runs) {
    switch (t.kind) {
        case AuxTimer::Kind::retry: {
            const PendingRun run = t.retry->run;
            (void)journal.submit(store::RetryDone{t.retry->id});
            retries.erase(t.retry->self);
            ++inflight;  // pending was kept while waiting
            ++queued_runs;
            runs.push_back(run);
            return;
        }
        case AuxTimer::Kind::deadline:
            t.run->stop->request_stop();
            arm_aux(t.run->stuck_check, clock.steady_now() + options.stuck_after_);
            return;
        case AuxTimer::Kind::callback: {
            auto it = callbacks.find(t.callback->id);
            due_callbacks.push_back(std::move(it->second->fn));
            callbacks.erase(it);
            ++inflight;  // until the callback has run
            return;
        }
        case AuxTimer::Kind::preempt_grace: on_preempt_grace(*t.run); return;
        case AuxTimer::Kind::stuck_check: {
            t.run->stuck = true;
            ++stuck;
            log.warn("job '{}' is stuck: still running {} ms after its deadline and a stop request", t.run->job->name(),
                     options.stuck_after_.count());
            defer(event(EventKind::stuck, t.run->job->name(), WallTime{}));
            return;
        }
    }
}
std::vector<DeadLetter> Scheduler::dead_letters() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->dead_letters;
}

bool Scheduler::rerun_dead_letter(std::uint64_t id) {
    std::vector<PendingRun> runs;
    {
        const std::lock_guard lock(impl_->mutex);
        auto& letters = impl_->dead_letters;
        auto it = std::find_if(letters.begin(), letters.end(), [id](const DeadLetter& d) { return d.id == id; });
        if (it == letters.end() || impl_->stopping) return false;
        JobState* j = impl_->find(it->job);
        if (j == nullptr) return false;
        impl_->queue_run(*j, it->scheduled, runs);
        (void)impl_->journal.submit(store::DeadLetterRemoved{it->id});
        letters.erase(it);
    }
    impl_->submit(runs);
    return true;
}

std::size_t Scheduler::clear_dead_letters() {
    const std::lock_guard lock(impl_->mutex);
    const std::size_t n = impl_->dead_letters.size();
    for (const auto& d : impl_->dead_letters) (void)impl_->journal.submit(store::DeadLetterRemoved{d.id});
    impl_->dead_letters.clear();
    return n;
}
}  // namespace txflow
