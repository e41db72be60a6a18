// Priority preemption (docs/preemption.md): which running run yields its
// worker to a waiting run of higher priority, what happens when it does
// (queued again with its checkpoint, same attempt), and when it does not
// (past the grace: one worker is lent to the waiting run).
//
// Everything here runs under Impl::mutex unless said otherwise, and only
// once a preemptible job exists (preemptible_jobs != 0): without one, the
// scheduler's paths do what they did before.

#include "scheduler/impl.hpp"

#include <spdlog/spdlog.h>

namespace txflow {

// A run was handed to the executor: it waits until a worker takes it
// (leave_queue). The job's name is remembered as the likely preemptor.
void Scheduler::Impl::note_waiting(const PendingRun& r) {
    const auto level = static_cast<std::size_t>(r.job->priority());
    ++waiting[level];
    if (preemptible_jobs != 0) last_waiting[level] = std::string(r.job->name());
}

// A run just started on a worker (it is linked into active_runs).
void Scheduler::Impl::start_preemptible(ActiveRun& run, const PendingRun& r) {
    run.start_seq = ++next_start_seq;
    // Starvation cap: a run displaced this often finishes its next attempt in peace.
    if (r.job->preemptible && r.preemptions < options.preempt_cap_) run.preempt = ActiveRun::Preempt::candidate;
    preempt_check();
}

// Matches waiting runs, highest priority first, with free workers, then with
// victims already asked to yield, then with new victims.
void Scheduler::Impl::preempt_check() {
    if (preemptible_jobs == 0) return;
    std::size_t busy = 0;
    for (const ActiveRun* r = active_runs; r != nullptr; r = r->next)
        if (r->preempt != ActiveRun::Preempt::grace_expired) ++busy;  // a lent worker stands in for it
    const std::size_t workers = executor.workers();
    std::size_t slack = (workers > busy ? workers - busy : 0) + preempt_requested;
    for (int level = kPriorityLevels - 1; level > 0; --level) {
        for (std::size_t k = 0; k < waiting[static_cast<std::size_t>(level)]; ++k) {
            if (slack > 0) {
                --slack;
                continue;
            }
            ActiveRun* victim = pick_victim(static_cast<Priority>(level));
            if (victim == nullptr) return;  // none below this level, so none below the lower ones
            request_preemption(*victim, static_cast<Priority>(level));
        }
    }
}

// The candidate of strictly lower priority: lowest priority first, then the
// most recently started (it has the least work to lose).
ActiveRun* Scheduler::Impl::pick_victim(Priority waiting_priority) {
    ActiveRun* best = nullptr;
    for (ActiveRun* r = active_runs; r != nullptr; r = r->next) {
        if (r->preempt != ActiveRun::Preempt::candidate || r->job->priority() >= waiting_priority) continue;
        if (best == nullptr || r->job->priority() < best->job->priority() ||
            (r->job->priority() == best->job->priority() && r->start_seq > best->start_seq))
            best = r;
    }
    return best;
}

void Scheduler::Impl::request_preemption(ActiveRun& victim, Priority waiting_priority) {
    victim.preempt = ActiveRun::Preempt::requested;
    ++preempt_requested;
    victim.preempted.store(true, std::memory_order_release);  // before the token: a job seeing stop sees why
    victim.stop->request_stop();
    arm_aux(victim.preempt_grace, clock.steady_now() + options.preempt_grace_);
    const std::string& preemptor = last_waiting[static_cast<std::size_t>(waiting_priority)];
    JobState& j = *victim.job;
    auto& x = j.extra_state();
    ++x.preemptions;
    x.last_preemptor = preemptor;
    if (JobState* p = find(preemptor)) p->extra_state().last_victim = std::string(j.name());
    log.info("job '{}': asked to yield its worker to '{}' (priority {})", j.name(), preemptor,
             static_cast<int>(waiting_priority));
    Event e = event(EventKind::preempted, j.name(), WallTime{});
    e.detail = "requested";
    defer(e);
}

// The victim ignored the request past the grace: it keeps running, and the
// waiting run gets a worker lent for one task (the pool shrinks back after).
void Scheduler::Impl::on_preempt_grace(ActiveRun& run) {
    run.preempt = ActiveRun::Preempt::grace_expired;
    --preempt_requested;
    log.warn("job '{}' ignored a preemption request for {} ms: lending a worker to the waiting run", run.job->name(),
             options.preempt_grace_.count());
    Event e = event(EventKind::preempted, run.job->name(), WallTime{});
    e.detail = "grace_expired";
    defer(e);
    ++inflight;  // until the callback has run (the timer loop counts it down)
    due_callbacks.emplace_back([this] { executor.lend_worker(); });
}

// The attempt of `active` ended: it no longer holds a request or a timer.
void Scheduler::Impl::end_preemption(ActiveRun& active) {
    disarm_aux(active.preempt_grace);
    if (active.preempt == ActiveRun::Preempt::requested) --preempt_requested;
    active.preempt = ActiveRun::Preempt::no;
}

// A victim that returned (or ended cancelled) within the grace yielded: its
// run goes back to the queue as it was (same fire, same attempt, its
// checkpoint kept), counted once more as preempted. A failure is a failure.
bool Scheduler::Impl::requeue_if_yielded(const PendingRun& r, ActiveRun& active, Outcome outcome,
                                         std::vector<PendingRun>& runs) {
    const bool yielded = active.preempt == ActiveRun::Preempt::requested &&
                         (outcome == Outcome::succeeded || outcome == Outcome::cancelled) && !r.job->removed &&
                         !stopping && !cancel_queued;
    end_preemption(active);
    if (!yielded) return false;
    JobState& j = *r.job;
    PendingRun again = r;
    again.preemptions = static_cast<std::uint8_t>(r.preemptions < 255 ? r.preemptions + 1 : 255);
    // The run keeps its pending and inflight counts: it is still on its way.
    ++queued_runs;
    if (j.coalesce) ++j.extra_state().queued;
    runs.push_back(again);
    Event e = event(EventKind::preempted, j.name(), r.scheduled);
    e.detail = "yielded";
    e.attempt = r.attempt;
    defer(e);
    return true;
}

// end_run's way out for an attempt that yielded (on its worker, unlocked).
// False: it did not (it failed, or outlived the grace): end it as usual.
bool Scheduler::Impl::end_yielded(const PendingRun& r, ActiveRun& active, Outcome outcome) {
    std::vector<PendingRun> runs;
    {
        const std::lock_guard lock(mutex);
        if (!requeue_if_yielded(r, active, outcome, runs)) return false;
        unlink_active(&active);
        idle_cv.notify_all();
        disarm_aux(active.deadline);
        disarm_aux(active.stuck_check);
        if (active.stuck) --stuck;
    }
    log.debug("job '{}' yielded its worker; queued again", r.job->name());
    flush_events();
    submit(runs);
    return true;
}

// JobContext::checkpoint(bytes), on the job's worker: durable before it returns.
void Scheduler::Impl::save_checkpoint(JobState& j, const std::string& bytes) {
    std::uint64_t seq = 0;
    {
        const std::lock_guard lock(mutex);
        j.extra_state().checkpoint = bytes;
        if (auto s = journal.submit(store::JobCheckpoint{std::string(j.name()), bytes})) seq = *s;
    }
    sync_record(seq);
}

// The run the checkpoint belonged to is over.
void Scheduler::Impl::clear_checkpoint(JobState& j) {
    if (!j.extra || !j.extra->checkpoint) return;
    j.extra->checkpoint.reset();
    (void)journal.submit(store::JobCheckpointCleared{std::string(j.name())});
}

}  // namespace txflow
