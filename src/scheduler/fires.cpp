// Queueing runs and submitting them; which fires are done (kill -9 safety).

#include "scheduler/impl.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace txflow {

using std::chrono::milliseconds;

// fire: a cron/at fire, done (and recorded as such) once its first
// attempt ends. False for trigger_now() and dead-letter re-runs.
void Scheduler::Impl::queue_run(JobState& j, WallTime scheduled, std::vector<PendingRun>& runs, bool fire,
                                std::shared_ptr<const observe::TraceContext> trace_parent) {
    if (j.coalesce) {
        auto& queued = j.extra_state().queued;
        if (queued > 0) {
            ++j.extra->skips;
            log.debug("job '{}': fire at {} coalesced (a run is already queued)", j.name(),
                      cron::to_rfc3339(scheduled, cron::Zone::utc()));
            Event e = event(EventKind::skipped, j.name(), scheduled);
            e.count = 1;
            e.detail = "coalesced";
            defer(e);
            if (const JobMetrics* m = j.metrics()) m->skipped_fires->inc();
            return;
        }
        ++queued;
    }
    ++inflight;
    ++queued_runs;
    ++j.pending;
    if (fire && track_fires) j.extra_state().open_fires.push_back(to_ms(scheduled));
    if (const auto* given = j.trace_parent(); !trace_parent && given != nullptr) trace_parent = *given;
    runs.push_back({&j, scheduled, 1, SteadyTime{}, milliseconds{0}, fire, 0, std::move(trace_parent)});
}

// ---- which fires are done (kill -9 safety)
// A fire is done when its first attempt has ended (a retry then waits in
// the store, a saga started by it is durable) or when it was reported
// (missed, skipped, rejected, dropped). The store keeps a watermark per
// job: every fire up to it is done. A fire queued but not done when the
// process dies lies after the watermark, so recovery runs it again or
// reports it missed, per the job's misfire policy.
// Returns the record's seq to sync (outside the mutex), or 0.
std::uint64_t Scheduler::Impl::fire_done(JobState& j, WallTime fire) {
    if (!track_fires) return 0;
    auto& open = j.extra_state().open_fires;
    if (auto it = std::find(open.begin(), open.end(), to_ms(fire)); it != open.end()) open.erase(it);
    return record_fires_done(j);
}

std::uint64_t Scheduler::Impl::record_fires_done(JobState& j) {
    if (!track_fires) return 0;
    auto& x = j.extra_state();
    std::int64_t done = kNoFire;
    if (!x.open_fires.empty()) done = x.open_fires.front() - 1;  // every fire before the oldest open one
    else if (const auto* c = j.cron(); c && c->last_fire) done = to_ms(*c->last_fire);
    else if (j.kind == Trigger::Kind::at && j.done) done = to_ms(j.at());
    if (done == kNoFire || (x.recorded_fire != JobState::kNoTime && done <= x.recorded_fire)) return 0;
    x.recorded_fire = done;
    auto seq = journal.submit(store::JobFired{std::string(j.name()), done});
    return seq ? *seq : 0;
}

// A run of j ended or never started. Returns the record if it is now to be
// destroyed (removed, nothing pending): the caller does that after
// unlocking, so the user's callable is never destroyed under the mutex.
JobState* Scheduler::Impl::release_run(JobState& j) {
    --j.pending;
    // Every idle_cv waiter (wait_idle, stop) waits for inflight == 0: waking them
    // at each run would make a waiting wait_idle() ping-pong with the worker.
    if (--inflight == 0) idle_cv.notify_all();
    return j.removed && j.pending == 0 ? &j : nullptr;
}

// Hands the runs to the executor in one submission. Each task captures only
// {this, slot} (see RunPool): no allocation per run once the pool and the
// scratch buffers have grown to the largest batch.
void Scheduler::Impl::submit(std::vector<PendingRun>& runs, SubmitScratch& scratch) {
    if (runs.empty()) return;
    bool preempting = false;
    {
        const std::lock_guard lock(mutex);
        preempting = preemptible_jobs != 0;
        for (const auto& r : runs) {
            scratch.slots.push_back(run_pool.take(r));
            note_waiting(r);
        }
    }
    runs.clear();
    const bool may_drop = options.executor_.overflow == OverflowPolicy::drop_oldest;
    for (PendingRun* slot : scratch.slots) {
        Task& task = scratch.tasks.emplace_back();
        task.priority = slot->job->priority();
        task.queue = slot->job->queue();
        task.run = [this, slot] { run_job(slot); };
        if (may_drop) {
            task.dropped = [this, slot] {
                emit(event(EventKind::dropped, slot->job->name(), slot->scheduled));
                if (const JobMetrics* m = slot->job->metrics()) m->refused->inc();
                log.warn("job '{}': run dropped, backlog full", slot->job->name());
                finish_unstarted(slot);
            };
        }
    }
    scratch.results.resize(scratch.tasks.size());
    const std::size_t accepted = executor.submit_batch(scratch.tasks, scratch.results);
    if (preempting) {
        // Once the runs are in the executor: a victim's freed worker then
        // takes the waiting run, not whatever was queued before it.
        bool raised = false;
        {
            const std::lock_guard lock(mutex);
            preempt_check();
            raised = !deferred.empty();
        }
        if (raised) flush_events();  // "requested" now, not when a run next ends
    }
    if (accepted != scratch.tasks.size()) {
        for (std::size_t i = 0; i < scratch.slots.size(); ++i) {
            const SubmitResult result = scratch.results[i];
            if (result == SubmitResult::accepted) continue;
            PendingRun* slot = scratch.slots[i];
            emit(event(EventKind::rejected, slot->job->name(), slot->scheduled));
            if (const JobMetrics* m = slot->job->metrics()) m->refused->inc();
            log.warn("job '{}': run rejected ({})", slot->job->name(),
                     result == SubmitResult::stopped ? "executor stopped" : "backlog full");
            // Refused because the scheduler is stopping: like a run cancelled
            // at stop(), its fire stays open for the next start.
            finish_unstarted(slot, result != SubmitResult::stopped);
        }
    }
    scratch.tasks.clear();
    scratch.slots.clear();
}

// A run that was rejected or dropped: reported (its fire is done), unless
// the executor had stopped. Gives its slot back.
void Scheduler::Impl::finish_unstarted(PendingRun* slot, bool reported) {
    const PendingRun r = *slot;
    JobState* dead = nullptr;
    std::uint64_t seq = 0;
    {
        const std::lock_guard lock(mutex);
        run_pool.give(slot);
        leave_queue(*r.job);
        if (reported && r.fire && r.attempt == 1) seq = fire_done(*r.job, r.scheduled);
        dead = release_run(*r.job);
    }
    sync_record(seq);
    JobState::destroy(dead);
}
}  // namespace txflow
