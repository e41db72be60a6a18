// One attempt of a job, on a worker: run_job, call_job, end_run.

#include "scheduler/impl.hpp"
#include "scheduler/job_definition.hpp"
#include "scheduler/job_trace.hpp"
#include "txflow/policy/policy.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <stop_token>

namespace txflow {

using std::chrono::milliseconds;

void Scheduler::Impl::unlink_active(ActiveRun* run) {
    for (ActiveRun** p = &active_runs; *p != nullptr; p = &(*p)->next) {
        if (*p == run) {
            *p = run->next;
            return;
        }
    }
}

bool Scheduler::Impl::has_active_run(const JobState& j) const {
    for (const ActiveRun* r = active_runs; r != nullptr; r = r->next)
        if (r->job == &j) return true;
    return false;
}

void Scheduler::Impl::request_stop_of(const JobState& j) {
    for (ActiveRun* r = active_runs; r != nullptr; r = r->next)
        if (r->job == &j) r->stop->request_stop();
}

void Scheduler::Impl::run_job(PendingRun* slot) {
    std::unique_lock guard(mutex);  // cancel_run writes the slot under it
    const PendingRun r = *slot;
    JobState& j = *r.job;
    const WallTime scheduled = r.scheduled;
    std::stop_source stop;
    ActiveRun active{&j, &stop, nullptr};
    active.deadline.run = &active;
    active.stuck_check.run = &active;
    active.preempt_grace.run = &active;
    active.scheduled = scheduled;
    std::uint64_t run_number = 0;
    std::uint64_t seed = 0;
    bool overlapping = false;
    bool preempting = false;
    std::optional<std::string> saved;  // the job's checkpoint
    {
        run_pool.give(slot);
        leave_queue(j);
        // A run cancelled at stop() is not done: its fire stays open in
        // the store, for the next start's misfire policy.
        if (j.removed || cancel_queued) {
            JobState* dead = release_run(j);
            guard.unlock();
            JobState::destroy(dead);
            return;
        }
        if (r.preemptions == 0) {  // a run that yielded and came back is the same run
            if (r.attempt == 1) ++j.run_count;
            else ++j.extra_state().retries;
        }
        run_number = j.run_count;
        seed = rng();
        overlapping = j.skip_overlap && has_active_run(j);
        if (j.has_checkpoint()) saved = j.checkpoint();
        active.next = active_runs;
        active_runs = &active;
        if (preemptible_jobs != 0) {
            start_preemptible(active, r);
            preempting = !deferred.empty();
        }
        if (!r.cancelled && !overlapping) active.cancel_state.store(ActiveRun::kCallable, std::memory_order_relaxed);
    }
    guard.unlock();
    if (preempting) flush_events();  // a victim asked to yield at this start hears of it now
    if (r.cancelled) {
        end_run(r, active, nullptr, Outcome::cancelled, "cancelled", {});
        return;
    }
    if (overlapping) {
        end_run(r, active, nullptr, Outcome::skipped, "previous run still running", {});
        return;
    }
    JobContext ctx(j.name(), scheduled, stop.get_token(), run_number, clock);
    detail::JobContextAccess::prepare_attempt(ctx, r.attempt, r.attempt == 1 ? ctx.attempt_started() : r.run_started,
                                              r.previous_delay, seed, [this, &active](SteadyTime deadline) {
                                                  const std::lock_guard lock(mutex);
                                                  arm_aux(active.deadline, deadline);
                                              });
    detail::JobContextAccess::prepare_preemption(ctx, &active.preempted, std::move(saved),
                                                 [this, &j](const std::string& bytes) { save_checkpoint(j, bytes); });
    JobTrace trace(options.tracer_.get(), ctx,
                   r.trace_parent.get());  // before `started`: the event carries the span's ids
    Event start_event = event(EventKind::started, j.name(), scheduled);
    start_event.attempt = r.attempt;
    set_trace_ids(start_event, ctx.trace());
    emit(start_event);
    if (const JobMetrics* m = j.metrics(); m != nullptr && r.attempt == 1 && r.preemptions == 0)
        m->lateness->observe(
            std::max(std::chrono::nanoseconds(clock.wall_now() - scheduled), std::chrono::nanoseconds(0)));
    trace.start_now();
    // A run's duration goes to listeners, metrics, the span and the debug log only:
    // with none of them, the two clock reads around the call are skipped.
    const bool timed = !options.listeners_.empty() || j.metrics() != nullptr || options.tracer_ != nullptr ||
                       log.should_log(spdlog::level::debug);
    auto [outcome, error, duration] = call_job(j, ctx, stop, timed);
    // Scheduler::cancel_run won the race with the end of the call: cancelled, not retried, whatever it threw.
    if (active.cancel_state.exchange(ActiveRun::kCallEnded, std::memory_order_acq_rel) == ActiveRun::kCancelled) {
        outcome = Outcome::cancelled;
        error = "cancelled";
    }
    trace.end(ctx, outcome, error, duration);
    end_run(r, active, &ctx, outcome, std::move(error), duration);
}

Scheduler::Impl::Ended Scheduler::Impl::call_job(JobState& j, JobContext& ctx, const std::stop_source& stop,
                                                 bool timed) {
    Ended r;
    const auto t0 = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    try {
        j.fn(ctx);
        if (ctx.failure_reported()) {
            r.outcome = Outcome::failed;
            r.error = *ctx.failure_reported();
        } else if (ctx.skip_reported()) {
            r.outcome = Outcome::skipped;
            r.error = *ctx.skip_reported();
        }
    } catch (const TimeoutError& e) {
        r.outcome = Outcome::timed_out;
        r.error = e.what();
    } catch (const SkipRun& e) {
        r.outcome = Outcome::skipped;
        r.error = e.what();
    } catch (const std::exception& e) {
        r.outcome = Outcome::failed;
        r.error = e.what();
    } catch (...) {
        r.outcome = Outcome::failed;
        r.error = "unknown exception";
    }
    if (timed) r.duration = std::chrono::steady_clock::now() - t0;
    if (r.outcome == Outcome::succeeded && stop.stop_requested()) r.outcome = Outcome::cancelled;
    return r;
}

// A retry is a span of the same trace: a sibling under the run's given parent, or, without one,
// a child of the first attempt's span.
std::shared_ptr<const observe::TraceContext> Scheduler::Impl::retry_trace_parent(const PendingRun& r,
                                                                                 const JobContext& ctx) {
    if (r.trace_parent || ctx.trace() == nullptr) return r.trace_parent;
    return std::make_shared<const observe::TraceContext>(*ctx.trace());
}

// The attempt r ended (ctx is null when it never ran: an overlap skip).
void Scheduler::Impl::end_run(const PendingRun& r, ActiveRun& active, JobContext* ctx, Outcome outcome,
                              std::string error, std::chrono::steady_clock::duration duration) {
    if (active.preempted.load(std::memory_order_acquire) && end_yielded(r, active, outcome)) return;
    JobState& j = *r.job;
    const WallTime scheduled = r.scheduled;
    if (outcome == Outcome::failed || outcome == Outcome::timed_out)
        log.error("job '{}' attempt {} {}: {}", j.name(), r.attempt, to_string(outcome), error);
    else if (outcome == Outcome::skipped) log.debug("job '{}' skipped: {}", j.name(), error);
    else
        log.debug("job '{}' finished in {} us", j.name(),
                  std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
    Event finished = event(EventKind::finished, j.name(), scheduled);
    finished.outcome = outcome;
    finished.duration = duration;
    finished.error = error;
    finished.attempt = r.attempt;
    set_trace_ids(finished, ctx != nullptr ? ctx->trace() : nullptr);
    emit(finished);
    if (const JobMetrics* m = j.metrics()) m->finished(outcome, duration);

    const bool failed = outcome == Outcome::failed || outcome == Outcome::timed_out;
    std::optional<DeadLetter> dead_letter;
    std::optional<milliseconds> retry_delay;
    JobState* dead = nullptr;
    bool events_pending = false;
    std::uint64_t fire_seq = 0;
    {
        const std::lock_guard lock(mutex);
        unlink_active(&active);  // release_run() below wakes stop() and wait_idle()
        disarm_aux(active.deadline);
        disarm_aux(active.stuck_check);
        if (active.stuck) --stuck;
        if (active.preempt != ActiveRun::Preempt::no) end_preemption(active);
        j.last_outcome = outcome;
        if (outcome == Outcome::skipped) ++j.extra_state().skips;
        j.set_last_error(error);
        if (ctx != nullptr && failed && ctx->retry_requested() && !j.removed && !stopping) {
            retry_delay = *ctx->retry_requested();
            PendingRun next{&j, scheduled, r.attempt + 1, ctx->run_started(), *retry_delay};
            next.trace_parent = retry_trace_parent(r, *ctx);
            schedule_retry(next, *retry_delay);
            Event e = event(EventKind::retrying, j.name(), scheduled);
            e.attempt = r.attempt + 1;
            e.delay = *retry_delay;
            e.error = error;
            set_trace_ids(e, ctx->trace());
            defer(e);
            if (const JobMetrics* m = j.metrics()) m->retries->inc();
        } else if (ctx != nullptr && failed && ctx->dead_letter_requested()) {
            dead_letter = DeadLetter{next_dead_letter++, std::string(j.name()),         scheduled,
                                     r.attempt,          *ctx->dead_letter_requested(), clock.wall_now()};
            dead_letters.push_back(*dead_letter);
            (void)journal.submit(store::DeadLetterAdded{dead_letter->id, dead_letter->job, to_ms(scheduled), r.attempt,
                                                        dead_letter->error, to_ms(dead_letter->failed_at)});
            Event e = event(EventKind::dead_lettered, j.name(), scheduled);
            e.attempt = r.attempt;
            e.error = dead_letter->error;
            defer(e);
            if (const JobMetrics* m = j.metrics()) m->dead_letters->inc();
        }
        if (!retry_delay && j.has_checkpoint()) clear_checkpoint(j);  // the run is over
        // After the retry record: once the fire counts as done, its retry is in the store.
        if (r.fire && r.attempt == 1) fire_seq = fire_done(j, scheduled);
        if (!retry_delay && j.kind == Trigger::Kind::every_fixed_delay && !j.armed()) {
            const auto now_s = clock.steady_now();
            j.set_next_steady(now_s + j.period());
            arm(j, now_s, clock.wall_now());
        }
        // With events to deliver, the run stays in flight until they are:
        // wait_idle() then means every event of the run has been seen.
        events_pending = !deferred.empty();
        if (!events_pending && fire_seq == 0) dead = release_run(j);
    }
    if (dead_letter)
        log.error("job '{}' gave up after {} attempt(s): {}", j.name(), dead_letter->attempts, dead_letter->error);
    if (events_pending || fire_seq != 0) {
        sync_record(fire_seq);  // on this worker: never on the timer thread
        flush_events();
        const std::lock_guard lock(mutex);
        dead = release_run(j);
    }
    JobState::destroy(dead);
}
}  // namespace txflow
