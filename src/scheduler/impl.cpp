// The scheduler's state: construction and recovery, queues, introspection.

#include "scheduler/impl.hpp"
#include "common/duration_text.hpp"
#include "txflow/store/memory_store.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace txflow {

using std::chrono::milliseconds;

namespace {

std::string describe_period(milliseconds d) {
    return txflow::detail::format_duration(d);
}

std::string schedule_text(const JobState& j) {
    switch (j.kind) {
        case Trigger::Kind::cron: return j.cron()->text;
        case Trigger::Kind::every_fixed_rate: return "every " + describe_period(j.period());
        case Trigger::Kind::every_fixed_delay: return "every " + describe_period(j.period()) + " (fixed delay)";
        case Trigger::Kind::after: return "after " + describe_period(j.period());
        case Trigger::Kind::at: return "at " + cron::to_rfc3339(j.at(), cron::Zone::utc());
    }
    return {};
}

}  // namespace

Scheduler::Impl::Impl(Scheduler& s, Clock& c, spdlog::logger& l, SchedulerOptions opts)
    : owner(s),
      clock(c),
      log(l),
      options(std::move(opts)),
      executor(options.executor_),
      breakers(c),
      rng(options.seed_ != 0 ? options.seed_ : std::random_device{}()),
      journal(options.store_ ? options.store_ : std::make_shared<store::MemoryStore>(), options.snapshot_every_,
              [this](const store::StoreError& e) {
                  log.critical(
                      "the store failed ({}): nothing more is recorded; jobs keep running, sagas stop at "
                      "their next transition; restart with a working store to recover",
                      e.message);
              }),
      track_fires(options.store_ != nullptr) {
    if (auto loaded = journal.load(); !loaded) {
        throw std::runtime_error("txflow: cannot recover from the store: " + loaded.error().message);
    }
    const auto& state = journal.state();
    engine.recover(state);
    atomics.recover(state);
    for (const auto& [job, ms] : state.last_fire_ms) recovered_fires[job] = from_ms(ms);
    for (const auto& [id, r] : state.retries) {
        recovered_retries[r.job].push_back(r);
        next_retry_id = std::max(next_retry_id, id + 1);
    }
    for (const auto& [id, t] : state.retry_traces) {
        auto parent = observe::TraceContext::parse(t.traceparent, t.tracestate);
        if (parent) recovered_retry_traces[id] = std::make_shared<const observe::TraceContext>(std::move(*parent));
        else
            log.warn("retry {}: its recorded trace parent is unusable ({}); the retry starts a new trace", id,
                     parent.error());
    }
    for (const auto& [job, data] : state.checkpoints) recovered_checkpoints[job] = data;
    for (const auto& [id, d] : state.dead_letters) {
        dead_letters.push_back(DeadLetter{d.id, d.job, from_ms(d.fire_ms), d.attempts, d.error, from_ms(d.failed_ms)});
        next_dead_letter = std::max(next_dead_letter, id + 1);
    }
    for (const auto& [name, limit] : options.queues_) {
        queues[name] = executor.queue(name, limit);
        if (limit != 0) queue_limits[queues[name]] = limit;
    }
    clock_subscription = clock.subscribe([this] {
        {
            const std::lock_guard lock(mutex);
            wake = true;
        }
        wake_cv.notify_one();
    });
    if (options.metrics_) {
        metrics = std::make_unique<SchedulerMetrics>(
            options.metrics_, [this](SchedulerMetrics& m) { collect_metrics(m); }, options.store_);
        atomics.set_metrics(
            {&metrics->atomic_committed, &metrics->atomic_aborted, &metrics->atomic_participant_retries});
    }
}

Scheduler::Impl::~Impl() {
    clock.unsubscribe(clock_subscription);
    by_name.for_each([](JobState* j) { JobState::destroy(j); });
}

QueueId Scheduler::Impl::queue_id(const std::string& name) {
    if (name.empty()) return kDefaultQueue;
    if (auto it = queues.find(name); it != queues.end()) return it->second;
    return queues[name] = executor.queue(name, 0);
}

// A job registered again after a restart picks up what the store kept of
// it: its last fire (so missed fires meet the misfire policy) and the
// retries that were waiting. Each is used once.
void Scheduler::Impl::restore(JobState& j) {
    const std::string name(j.name());
    if (auto it = recovered_fires.find(name); it != recovered_fires.end()) {
        j.extra_state().recorded_fire = to_ms(it->second);
        if (auto* c = j.cron()) {
            c->last_fire = it->second;
            c->catch_up_from = it->second;
        } else if (j.kind == Trigger::Kind::at && it->second >= j.at()) {
            j.done = true;  // it fired before the restart
        }
        recovered_fires.erase(it);
    }
    if (auto it = recovered_retries.find(name); it != recovered_retries.end()) {
        const WallTime now_w = clock.wall_now();
        for (const auto& r : it->second) {
            const auto due = from_ms(r.due_ms);
            const auto delay = due > now_w ? std::chrono::duration_cast<milliseconds>(due - now_w) : milliseconds{0};
            log.info("job '{}': re-arming attempt {} of the fire at {} (pending before the restart)", name, r.attempt,
                     cron::to_rfc3339(from_ms(r.fire_ms), cron::Zone::utc()));
            PendingRun run{&j, from_ms(r.fire_ms), r.attempt, clock.steady_now(), delay};
            if (auto trace = recovered_retry_traces.find(r.retry); trace != recovered_retry_traces.end()) {
                run.trace_parent = std::move(trace->second);
                recovered_retry_traces.erase(trace);
            }
            schedule_retry(run, delay, r.retry);
        }
        recovered_retries.erase(it);
    }
    if (auto it = recovered_checkpoints.find(name); it != recovered_checkpoints.end()) {
        j.set_checkpoint(std::move(it->second));
        recovered_checkpoints.erase(it);
    }
}

// The jobs (once each) with a run in progress, removed ones aside (they
// were asked to stop when removed).
std::vector<std::string> Scheduler::Impl::running_job_names() const {
    std::vector<std::string> names;
    for (const ActiveRun* r = active_runs; r != nullptr; r = r->next) {
        const std::string_view name = r->job->name();
        if (!r->job->removed && std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
    }
    return names;
}

bool Scheduler::Impl::idle_now() const {
    if (inflight != 0) return false;
    if (!started || stopping) return true;
    if (seen_generation != clock.generation() || wake || !deferred.empty()) return false;
    const auto now = clock.steady_now();
    const auto due = timers.next_due();
    const auto aux_due = aux_timers.next_due();
    return (!due || *due > now) && (!aux_due || *aux_due > now);
}

JobInfo Scheduler::Impl::info_of(const JobState& j) const {
    JobInfo info;
    info.name = std::string(j.name());
    info.schedule = schedule_text(j);
    if (const auto* c = j.cron()) info.zone = std::string(c->schedule.zone().name());
    if (auto w = j.next_wall()) {
        info.next_fire = w;
    } else if (!j.wall_based() && j.armed() && !j.paused) {
        info.next_fire =
            clock.wall_now() + std::chrono::duration_cast<milliseconds>(j.next_steady() - clock.steady_now());
    }
    info.last_outcome = j.last_outcome;
    info.run_count = j.run_count;
    info.attempt_count = j.run_count;
    if (j.extra) {
        info.last_error = j.extra->last_error;
        info.misfire_count = j.extra->misfire_count;
        info.attempt_count += j.extra->retries;
        info.skip_count = j.extra->skips;
        info.preemption_count = j.extra->preemptions;
        info.last_victim = j.extra->last_victim;
        info.last_preemptor = j.extra->last_preemptor;
    }
    info.paused = j.paused;
    info.preemptible = j.preemptible;
    info.running = has_active_run(j);
    return info;
}
}  // namespace txflow
