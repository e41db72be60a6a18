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
    if (const QueueId q = r.job->queue(); q != kDefaultQueue && queue_limits.count(q) != 0) ++queue_waiting[q][level];
}

void Scheduler::Impl::leave_named_queue(const JobState& j) {
    if (auto it = queue_waiting.find(j.queue()); it != queue_waiting.end())
        --it->second[static_cast<std::size_t>(j.priority())];
}

// A run just started on a worker (it is linked into active_runs).
void Scheduler::Impl::start_preemptible(ActiveRun& run, const PendingRun& r) {
    run.start_seq = ++next_start_seq;
    // Starvation cap: a run displaced this often finishes its next attempt in peace.
    if (r.job->preemptible && r.preemptions < options.preempt_cap_) run.preempt = ActiveRun::Preempt::candidate;
    preempt_check();
}

// Matches waiting runs, highest priority first, with free workers, then with
// victims already asked to yield, then with new victims. A run held back by
// its queue's limit is matched within its queue first (preempt_in_queues).
void Scheduler::Impl::preempt_check() {
    if (preemptible_jobs == 0) return;
    std::size_t claimed = 0;  // victims asked to yield that the queue-bound runs count on
    LevelCounts queue_bound{};
    if (!queue_waiting.empty()) queue_bound = preempt_in_queues(claimed);
    std::size_t busy = 0;
    for (const ActiveRun* r = active_runs; r != nullptr; r = r->next)
        if (r->preempt != ActiveRun::Preempt::grace_expired) ++busy;  // a lent worker stands in for it
    const std::size_t workers = executor.workers();
    std::size_t slack = (workers > busy ? workers - busy : 0) + preempt_requested;
    slack = slack > claimed ? slack - claimed : 0;
    for (int level = kPriorityLevels - 1; level > 0; --level) {
        const auto l = static_cast<std::size_t>(level);
        for (std::size_t k = queue_bound[l]; k < waiting[l]; ++k) {
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

// The runs waiting for a slot of a named queue at its limit: a worker freed
// elsewhere would not start them, so their victims are runs of the same
// queue. Returns, per priority, the waiting runs this settled (they need no
// worker of their own: a victim's worker, or none can help them); `claimed`:
// how many victims already asked to yield they count on.
Scheduler::Impl::LevelCounts Scheduler::Impl::preempt_in_queues(std::size_t& claimed) {
    LevelCounts bound{};
    for (auto& [queue, waiting_here] : queue_waiting) {
        std::size_t running = 0;
        std::size_t requested = 0;
        for (const ActiveRun* r = active_runs; r != nullptr; r = r->next) {
            if (r->job->queue() != queue) continue;
            ++running;
            if (r->preempt == ActiveRun::Preempt::requested) ++requested;
        }
        const std::size_t limit = queue_limits[queue];
        std::size_t free_slots = limit > running ? limit - running : 0;
        for (int level = kPriorityLevels - 1; level >= 0; --level) {
            const auto l = static_cast<std::size_t>(level);
            for (std::size_t k = 0; k < waiting_here[l]; ++k) {
                if (free_slots > 0) {  // it needs a worker, not a slot: the worker pass sees to it
                    --free_slots;
                    continue;
                }
                ++bound[l];
                if (requested > 0) {
                    --requested;
                    ++claimed;
                    continue;
                }
                ActiveRun* victim = level > 0 ? pick_victim(static_cast<Priority>(level), &queue) : nullptr;
                if (victim == nullptr) continue;  // it waits for a slot, as without preemption
                request_preemption(*victim, static_cast<Priority>(level));
                ++claimed;
            }
        }
    }
    return bound;
}

// The candidate of strictly lower priority: lowest priority first, then the
// most recently started (it has the least work to lose).
ActiveRun* Scheduler::Impl::pick_victim(Priority waiting_priority, const QueueId* only) {
    ActiveRun* best = nullptr;
    for (ActiveRun* r = active_runs; r != nullptr; r = r->next) {
        if (r->preempt != ActiveRun::Preempt::candidate || r->job->priority() >= waiting_priority) continue;
        if (only != nullptr && r->job->queue() != *only) continue;
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
        j.set_checkpoint(bytes);
        if (auto s = journal.submit(store::JobCheckpoint{std::string(j.name()), bytes})) seq = *s;
    }
    sync_record(seq);
}

// The run the checkpoint belonged to is over.
void Scheduler::Impl::clear_checkpoint(JobState& j) {
    if (!j.has_checkpoint()) return;
    j.clear_checkpoint();
    (void)journal.submit(store::JobCheckpointCleared{std::string(j.name())});
}

}  // namespace txflow
