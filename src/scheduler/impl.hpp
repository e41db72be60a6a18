#pragma once
// The scheduler's state, and the index of where each part of it is worked on:
// every member function is defined in the file named above its declaration.

#include "core/intrusive_heap.hpp"
#include "saga/atomic_coordinator.hpp"
#include "saga/engine.hpp"
#include "scheduler/job_state.hpp"
#include "scheduler/metrics.hpp"
#include "scheduler/name_index.hpp"
#include "scheduler/run_pool.hpp"
#include "scheduler/runs.hpp"
#include "scheduler/saga_host.hpp"
#include "store/journal.hpp"
#include "txflow/scheduler.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace spdlog {
class logger;
}

namespace txflow {

struct Scheduler::Impl {
    Scheduler& owner;
    Clock& clock;
    spdlog::logger& log;
    SchedulerOptions options;
    Executor executor;

    mutable std::mutex mutex;
    std::condition_variable wake_cv;  // timer thread
    std::condition_variable idle_cv;  // wait_idle / stop
    IntrusiveHeap<JobState> timers;   // armed jobs, by deadline
    // Owns the records it holds. A removed record leaves the index at once and
    // is destroyed when its last queued or running run ends.
    NameIndex by_name;
    ActiveRun* active_runs = nullptr;
    RunPool run_pool;                    // runs submitted and not yet taken by a worker
    IntrusiveHeap<AuxTimer> aux_timers;  // retries, attempt deadlines, callbacks
    std::list<PendingRetry> retries;     // stable addresses: timers point at them
    std::vector<DeadLetter> dead_letters;
    std::uint64_t next_dead_letter = 1;
    std::size_t stuck = 0;
    BreakerRegistry breakers;
    std::unordered_map<std::string, std::shared_ptr<TokenBucket>> rate_limiters;
    std::unordered_map<std::string, QueueId> queues;
    bool started = false;
    bool stopping = false;
    bool timer_exited = false;
    std::size_t queued_runs = 0;  // runs submitted and not yet taken by a worker
    bool cancel_queued = false;
    bool wake = false;
    bool dispatching = false;  // the timer thread is firing due timers (it holds the mutex)
    std::uint64_t seen_generation = 0;
    std::size_t inflight = 0;
    SteadyTime last_steady{};
    WallTime last_wall{};
    std::mt19937_64 rng;
    std::jthread timer_thread;
    std::uint64_t clock_subscription = 0;
    std::unordered_map<std::uint64_t, std::unique_ptr<CallbackTimer>> callbacks;
    std::uint64_t next_callback = 1;
    std::vector<std::function<void()>> due_callbacks;  // popped by the timer thread, run unlocked

    // The saga engine's view of the scheduler.
    SagaHost saga_host{*this};
    store::Journal journal;
    // Fire watermarks (JobFired) are for recovery: without a store of the
    // user's, nothing ever reads them back, so a fire costs no record.
    const bool track_fires;
    // What the store remembers of jobs, until each job is registered again.
    std::unordered_map<std::string, WallTime> recovered_fires;
    std::unordered_map<std::string, std::vector<store::RetryArmed>> recovered_retries;
    std::unordered_map<std::uint64_t, std::shared_ptr<const observe::TraceContext>> recovered_retry_traces;
    std::unordered_map<std::string, std::string> recovered_checkpoints;
    std::uint64_t next_retry_id = 1;
    saga::Engine engine{saga_host, journal};
    atomic::Coordinator atomics{saga_host, journal};  // after engine: destroyed first

    Impl(Scheduler& s, Clock& c, spdlog::logger& l, SchedulerOptions opts);

    // Runs after Scheduler::~Scheduler has shut the executor down: no run is
    // pending, so every record left is in the index.
    ~Impl();

    // Events raised under the mutex wait here, with their strings owned, until
    // flush_events() delivers them unlocked: a listener may call back into the
    // scheduler.
    struct Deferred {
        Event event;
        std::string job;
        std::string detail;
        std::string error;
    };
    std::vector<Deferred> deferred;
    // One thread delivers deferred events at a time, so listeners see them in
    // the order they were raised: a job's "retrying" for attempt 2 never
    // arrives after the events of attempt 3.
    std::mutex delivery_mutex;
    std::atomic<std::thread::id> delivering{};

    void notify_timer() {
        wake = true;
        wake_cv.notify_one();
    }
    JobState* find(std::string_view name) const { return by_name.find(name); }

    // impl.cpp: recovery, queues, introspection
    QueueId queue_id(const std::string& name);
    void restore(JobState& j);
    std::vector<std::string> running_job_names() const;
    bool idle_now() const;
    JobInfo info_of(const JobState& j) const;

    // events.cpp
    void defer(const Event& e);
    void flush_events();
    void emit(const Event& e) const;

    // triggers.cpp: arming the job timers, and what a fired one does
    std::chrono::milliseconds draw_jitter(const JobState& j);
    void disarm(JobState& j) {
        if (j.armed()) timers.cancel(j);
    }
    void set_deadline(JobState& j, SteadyTime deadline);
    void arm_wall(JobState& j, WallTime w, SteadyTime now_s, WallTime now_w);
    // following: for a cron job, the schedule's next fire after last_fire,
    // known to lie after now_w (saves computing it twice per fire).
    void arm(JobState& j, SteadyTime now_s, WallTime now_w, const WallTime* following = nullptr);
    void note_misfire(JobState& j, WallTime first_missed, std::uint64_t count, bool skipped);
    void on_timer(JobState& j, SteadyTime now_s, WallTime now_w, std::vector<PendingRun>& runs);
    bool fire_on_time(JobState& j, SteadyTime now_s, WallTime now_w, std::vector<PendingRun>& runs);
    std::vector<WallTime> fires_scratch;  // on_timer's, on the timer thread
    void rearm_wall_jobs(SteadyTime now_s, WallTime now_w);

    // fires.cpp: queueing runs, and which fires are done
    static std::shared_ptr<const observe::TraceContext> retry_trace_parent(const PendingRun& r, const JobContext& ctx);
    void queue_run(JobState& j, WallTime scheduled, std::vector<PendingRun>& runs, bool fire = false,
                   std::shared_ptr<const observe::TraceContext> trace_parent = nullptr);
    std::uint64_t fire_done(JobState& j, WallTime fire);
    std::uint64_t record_fires_done(JobState& j);
    static constexpr std::int64_t kNoFire = JobState::kNoTime;
    void sync_record(std::uint64_t seq) {
        if (seq != 0) (void)journal.sync(seq);
    }
    // Buffers one submitter reuses from batch to batch (the timer thread keeps one).
    struct SubmitScratch {
        std::vector<PendingRun*> slots;
        std::vector<Task> tasks;
        std::vector<SubmitResult> results;
    };
    void submit(std::vector<PendingRun>& runs, SubmitScratch& scratch);
    void submit(std::vector<PendingRun>& runs) {
        SubmitScratch scratch;
        submit(runs, scratch);
    }
    void finish_unstarted(PendingRun* slot, bool reported = true);
    void leave_queue(JobState& j) {
        --queued_runs;
        --waiting[static_cast<std::size_t>(j.priority())];
        if (j.coalesce) --j.extra->queued;
        if (j.queue() != kDefaultQueue) leave_named_queue(j);
    }
    [[nodiscard]] JobState* release_run(JobState& j);

    // retries.cpp: retries, deadlines and callbacks (aux_timers)
    void arm_aux(AuxTimer& t, SteadyTime due);
    void disarm_aux(AuxTimer& t);
    void schedule_retry(const PendingRun& next, std::chrono::milliseconds delay, std::uint64_t recovered_id = 0);
    std::vector<JobState*> drop_retries(const JobState* j);
    void on_aux_timer(AuxTimer& t, std::vector<PendingRun>& runs);

    // run.cpp: one attempt, on a worker
    void unlink_active(ActiveRun* run);
    [[nodiscard]] bool has_active_run(const JobState& j) const;
    void request_stop_of(const JobState& j);
    void run_job(PendingRun* slot);  // gives the slot back to run_pool
    struct Ended {
        Outcome outcome = Outcome::succeeded;
        std::string error;
        std::chrono::steady_clock::duration duration{};
    };
    // timed: measure the call's duration (Ended::duration stays 0 otherwise).
    Ended call_job(JobState& j, JobContext& ctx, const std::stop_source& stop, bool timed);
    void end_run(const PendingRun& r, ActiveRun& active, JobContext* ctx, Outcome outcome, std::string error,
                 std::chrono::steady_clock::duration duration);

    // preemption.cpp (docs/preemption.md)
    std::size_t preemptible_jobs = 0;                       // registered; 0: no run is ever asked to yield
    std::array<std::size_t, kPriorityLevels> waiting{};     // runs handed to the executor, not started
    std::array<std::string, kPriorityLevels> last_waiting;  // the job of the latest such run, per level
    std::size_t preempt_requested = 0;  // victims asked to yield that have neither ended nor expired
    std::uint64_t next_start_seq = 0;
    // Named queues with a concurrency limit: their limits, and their runs
    // handed to the executor and not started, per priority.
    using LevelCounts = std::array<std::size_t, kPriorityLevels>;
    std::unordered_map<QueueId, std::size_t> queue_limits;
    std::unordered_map<QueueId, LevelCounts> queue_waiting;
    void leave_named_queue(const JobState& j);
    void note_waiting(const PendingRun& r);
    void start_preemptible(ActiveRun& run, const PendingRun& r);
    void preempt_check();
    LevelCounts preempt_in_queues(std::size_t& claimed);
    // only: a queue the victim must run in (null: any).
    ActiveRun* pick_victim(Priority waiting_priority, const QueueId* only = nullptr);
    void request_preemption(ActiveRun& victim, Priority waiting_priority);
    void on_preempt_grace(ActiveRun& run);
    // In end_run: true when the attempt yielded and was queued again (runs receives it).
    bool requeue_if_yielded(const PendingRun& r, ActiveRun& active, Outcome outcome, std::vector<PendingRun>& runs);
    void end_preemption(ActiveRun& active);
    bool end_yielded(const PendingRun& r, ActiveRun& active, Outcome outcome);
    void save_checkpoint(JobState& j, const std::string& bytes);
    void clear_checkpoint(JobState& j);

    // timer_loop.cpp
    void timer_loop(const std::stop_token& token);

    // saga_host.cpp
    // The minute purge of finished sagas ticks only while the engine holds
    // one: with no saga it would be a timer every minute for nothing (a test
    // skipping a month of time would stop 43,200 times). Set by whoever arms
    // it (exchange), cleared by the tick that finds the engine empty.
    std::atomic<bool> saga_purge_armed{false};
    void arm_saga_purge();
    void ensure_saga_purge();  // arms it, unless armed already (or no saga exists)
    void saga_started();       // ensure_saga_purge(), once the scheduler runs

    // metrics_collect.cpp: the scrape-time gauges (queues, breakers, sagas).
    void collect_metrics(SchedulerMetrics& m) const;
    // With SchedulerOptions::metrics. Last: destroyed first, so its collector
    // is gone before anything it reads.
    std::unique_ptr<SchedulerMetrics> metrics;
};

}  // namespace txflow
