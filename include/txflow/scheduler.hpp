#pragma once
/// @file
/// The scheduler: a job registry, one timer thread on the monotonic clock and
/// a worker pool, driven through a fluent API.
///
///     txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(4).queue("reports", 1)};
///     auto report = sched.job("report").cron("0 */5 * * * *").in_zone("Europe/Berlin")
///                       .priority(txflow::Priority::high).queue("reports")
///                       .run([](txflow::JobContext& ctx) { ... });
///     sched.start();
///     ...
///     auto report = sched.stop(5s);  // drain, then ask the stragglers to stop
///
/// Wall time is used only to compute the next cron/at fire; waiting is on
/// steady_clock, and the wall clock is re-read on every wake so a jump (NTP
/// step, suspend) neither loses nor doubles a fire.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/core/clock.hpp"
#include "txflow/core/executor.hpp"
#include "txflow/cron/schedule.hpp"
#include "txflow/job.hpp"
#include "txflow/observe/events.hpp"
#include "txflow/observe/metrics.hpp"
#include "txflow/observe/trace.hpp"
#include "txflow/policy/circuit_breaker.hpp"
#include "txflow/policy/rate_limit.hpp"
#include "txflow/policy/retry.hpp"
#include "txflow/saga/atomic.hpp"
#include "txflow/saga/saga.hpp"
#include "txflow/store/store.hpp"

namespace spdlog {
class logger;
}

namespace txflow {

/// Bad job definitions (duplicate name, invalid cron text, unknown zone): the
/// fluent API promises to throw these at run().
class TXFLOW_EXPORT ScheduleError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// How a Scheduler is built: workers, queues, clock, store, observers and defaults. Fluent.
class TXFLOW_EXPORT SchedulerOptions {
public:
    /// Worker threads (default: one per CPU).
    SchedulerOptions& workers(std::size_t n) {
        executor_.workers = n;
        return *this;
    }
    /// Bounds the runs waiting for a worker; `policy` says what a full backlog does.
    SchedulerOptions& max_backlog(std::size_t n, OverflowPolicy policy) {
        executor_.max_backlog = n;
        executor_.overflow = policy;
        return *this;
    }
    /// A waiting run gains one priority level per `step` waited, so low priority cannot starve.
    SchedulerOptions& aging_step(std::chrono::milliseconds step) {
        executor_.aging_step = step;
        return *this;
    }
    /// A named queue whose runs use at most `max_concurrency` workers at once.
    SchedulerOptions& queue(std::string name, std::size_t max_concurrency) {
        queues_.emplace_back(std::move(name), max_concurrency);
        return *this;
    }
    /// A token bucket shared by every job in the queue: a fire without a token is skipped.
    SchedulerOptions& queue_rate_limit(std::string name, double runs_per_second, double burst) {
        queue_rates_.push_back({std::move(name), runs_per_second, burst});
        return *this;
    }
    /// The clock must outlive the scheduler. Default: the real clocks.
    SchedulerOptions& clock(Clock& c) {
        clock_ = &c;
        return *this;
    }
    /// Where the scheduler logs (default: a "txflow" logger on stderr at info level).
    SchedulerOptions& logger(std::shared_ptr<spdlog::logger> l) {
        logger_ = std::move(l);
        return *this;
    }
    /// Adds a listener of the scheduler's events (txflow/observe/events.hpp).
    SchedulerOptions& listener(std::shared_ptr<Listener> l) {
        listeners_.push_back(std::move(l));
        return *this;
    }
    /// Feeds `registry` with the scheduler's metrics (docs/observability.md):
    /// runs, durations and lateness per job and queue, retries, misfires,
    /// queue depth and latency, breakers, sagas, and the store's flushes
    /// (it becomes the store's observer). Serve it with txflow/http/server.hpp.
    SchedulerOptions& metrics(std::shared_ptr<observe::Registry> registry) {
        metrics_ = std::move(registry);
        return *this;
    }
    /// Traces every job attempt, saga, saga step and compensation as a span
    /// (docs/observability.md, "Tracing"); JobContext::trace() and
    /// saga::StepContext::trace() give user code the context to propagate.
    SchedulerOptions& tracer(std::shared_ptr<observe::Tracer> t) {
        tracer_ = std::move(t);
        return *this;
    }
    /// The default misfire handling for cron/at jobs (default: Misfire::fire_once()).
    SchedulerOptions& misfire(Misfire m) {
        misfire_ = m;
        return *this;
    }
    /// A cron fire later than this is a misfire rather than a late run.
    SchedulerOptions& misfire_grace(std::chrono::milliseconds g) {
        misfire_grace_ = g;
        return *this;
    }
    /// How often the timer thread re-reads the wall clock when nothing is due.
    SchedulerOptions& wall_check_interval(std::chrono::milliseconds d) {
        wall_check_ = d;
        return *this;
    }
    /// Seeds the jitter random numbers, for reproducible tests (0, the default: random).
    SchedulerOptions& seed(std::uint64_t s) {
        seed_ = s;
        return *this;
    }
    /// A policy applied to every job, outside the job's own (in the order added).
    SchedulerOptions& wrap(Wrapper w) {
        default_wrappers_.push_back(std::move(w));
        return *this;
    }
    /// How long stop(d) waits, after the drain deadline d, for the runs it asked
    /// to stop; it returns after d + grace at the latest, whatever jobs do.
    SchedulerOptions& stop_grace(std::chrono::milliseconds g) {
        stop_grace_ = g;
        return *this;
    }
    /// How long past its deadline a stopped attempt may run before it counts as stuck.
    SchedulerOptions& stuck_after(std::chrono::milliseconds d) {
        stuck_after_ = d;
        return *this;
    }
    /// Where sagas (and, with a durable store, jobs' last fires, pending
    /// retries and dead letters) are recorded before they act. Default: an
    /// in-memory store. Pass a store::WalStore to survive a crash; start()
    /// then recovers from it.
    SchedulerOptions& store(std::shared_ptr<store::Store> s) {
        store_ = std::move(s);
        return *this;
    }
    /// The live state (sagas, last fires, retries, dead letters) is written to
    /// the store as a snapshot after this many bytes of records, and the
    /// records it covers are dropped: the log and its replay stay bounded.
    SchedulerOptions& snapshot_every(std::uint64_t bytes) {
        snapshot_every_ = bytes;
        return *this;
    }
    /// How long a finished saga (succeeded or compensated) is kept, with its
    /// idempotency key, before it is forgotten. Sagas parked in
    /// compensation_failed are kept until an operator acts.
    SchedulerOptions& saga_retention(std::chrono::milliseconds d) {
        saga_retention_ = d;
        return *this;
    }
    /// How long a finished atomic transaction (committed or aborted) is kept,
    /// with its id (the idempotency key), before it is forgotten (an
    /// atomic_removed record; snapshots stop carrying it). Transactions still
    /// in flight, commit_stalled included, are never forgotten. Default 24 h.
    SchedulerOptions& atomic_retention(std::chrono::milliseconds d) {
        atomic_retention_ = d;
        return *this;
    }
    /// After a restart, at most this many tasks of recovered sagas are queued
    /// or running at once (the rest wait their turn), so due fires keep
    /// workers. 0, the default: max(1, workers / 2).
    SchedulerOptions& saga_recovery_workers(std::size_t n) {
        saga_recovery_workers_ = n;
        return *this;
    }
    /// Preemption (docs/preemption.md): how long a preemptible run asked to
    /// yield may take before the scheduler lends one extra worker to the
    /// waiting run instead (the victim keeps running). Default 1 s.
    SchedulerOptions& preempt_grace(std::chrono::milliseconds g) {
        preempt_grace_ = g;
        return *this;
    }
    /// A run asked to yield this many times is not preemptible for its next
    /// attempt (no starvation). Default 3.
    SchedulerOptions& preempt_starvation_cap(std::uint32_t n) {
        preempt_cap_ = n;
        return *this;
    }

private:
    friend class Scheduler;
    friend class SagaHost;
    ExecutorOptions executor_{};
    std::vector<std::pair<std::string, std::size_t>> queues_;
    struct QueueRate {
        std::string queue;
        double per_second;
        double burst;
    };
    std::vector<QueueRate> queue_rates_;
    Clock* clock_ = nullptr;
    std::shared_ptr<spdlog::logger> logger_;
    std::vector<std::shared_ptr<Listener>> listeners_;
    std::shared_ptr<observe::Registry> metrics_;
    std::shared_ptr<observe::Tracer> tracer_;
    Misfire misfire_{};
    std::chrono::milliseconds misfire_grace_{1000};
    std::chrono::milliseconds wall_check_{1000};
    std::uint64_t seed_ = 0;  // 0: from std::random_device
    std::vector<Wrapper> default_wrappers_;
    std::chrono::milliseconds stuck_after_{1000};
    std::chrono::milliseconds stop_grace_{250};
    std::shared_ptr<store::Store> store_;
    std::chrono::milliseconds saga_retention_{std::chrono::hours(24)};
    std::chrono::milliseconds atomic_retention_{std::chrono::hours(24)};
    std::size_t saga_recovery_workers_ = 0;
    std::chrono::milliseconds preempt_grace_{1000};
    std::uint32_t preempt_cap_ = 3;
    std::uint64_t snapshot_every_ = std::uint64_t{16} << 20;
};

/// A job's state and counters as seen from outside (Scheduler::jobs(), JobHandle::info()).
struct TXFLOW_EXPORT JobInfo {
    std::string name;                      ///< the job's name
    std::string schedule;                  ///< "cron 0 */5 * * * *", "every 30s", "after 10s", "at ..."
    std::string zone;                      ///< cron jobs: the IANA zone the schedule is read in; else empty
    std::optional<WallTime> next_fire;     ///< the next fire; nullopt when paused or nothing is left to fire
    Outcome last_outcome = Outcome::none;  ///< how the last run ended
    std::string last_error;                ///< the last failed run's error
    std::uint64_t run_count = 0;           ///< runs (fires and triggers); a retried run counts once
    std::uint64_t attempt_count = 0;       ///< attempts: run_count plus every retry
    std::uint64_t skip_count = 0;          ///< runs that ended skipped (overlap, rate limit, ...)
    std::uint64_t misfire_count = 0;       ///< fires missed or skipped by the misfire policy
    bool paused = false;                   ///< paused with JobHandle::pause()
    bool running = false;                  ///< a run is in progress now
    bool preemptible = false;              ///< JobBuilder::preemptible()
    std::uint64_t preemption_count = 0;    ///< runs of this job asked to yield to a higher priority
    std::string last_victim;               ///< the job whose run last yielded to one of this job's
    std::string last_preemptor;            ///< the job a run of this one last yielded to
};

/// What stop(d) found. At the deadline d the jobs still running are asked to
/// stop; stop() then waits at most SchedulerOptions::stop_grace for them and
/// returns, whether they complied or not.
struct TXFLOW_EXPORT StopReport {
    bool drained = true;  ///< everything finished before the deadline
    /// Running at the deadline, and ended within the grace after the request.
    std::vector<std::string> stopped_on_request;
    /// Still running when stop() returned (they ignored the request, or need
    /// longer than the grace). The destructor waits for them.
    std::vector<std::string> still_running;
    std::size_t dropped_queued = 0;  ///< queued runs that never started
};

/// A run that gave up: retries exhausted, or a failure the retry policy does
/// not retry. Listed until re-run or cleared.
struct TXFLOW_EXPORT DeadLetter {
    std::uint64_t id = 0;        ///< identifies the entry for rerun_dead_letter()
    std::string job;             ///< the job's name
    WallTime scheduled{};        ///< the fire the run was for
    std::uint32_t attempts = 0;  ///< attempts made
    std::string error;           ///< the last attempt's error
    WallTime failed_at{};        ///< when it gave up
};

class Scheduler;
class JobState;

/// A saga instance's remote control.
class TXFLOW_EXPORT SagaHandle {
public:
    SagaHandle() = default;
    /// The saga instance's id.
    [[nodiscard]] const std::string& id() const { return id_; }
    /// False when the idempotency key named an instance that already existed.
    [[nodiscard]] bool created() const { return created_; }
    /// The instance's state now; nullopt once it is forgotten (retention).
    [[nodiscard]] std::optional<saga::Info> info() const;
    /// Blocks until the saga is succeeded, compensated or compensation_failed,
    /// or the timeout passes; returns its info then.
    std::optional<saga::Info> wait(std::chrono::milliseconds timeout) const;

private:
    friend class Scheduler;
    SagaHandle(Scheduler* s, std::string id, bool created) : scheduler_(s), id_(std::move(id)), created_(created) {}
    Scheduler* scheduler_ = nullptr;
    std::string id_;
    bool created_ = false;
};

/// A job's remote control. Safe from any thread, including inside the job.
/// Calls on a removed job do nothing and return false.
class TXFLOW_EXPORT JobHandle {
public:
    JobHandle() = default;
    /// Stops firing (missed fires are not caught up on resume()).
    bool pause();
    /// Fires again, counting from now.
    bool resume();
    /// Removes the job and asks a running instance to stop.
    bool remove();
    /// Runs the job once now, outside its schedule.
    bool trigger_now();
    /// Runs the job once now, its attempts spans of `parent`'s trace (children of that span),
    /// e.g. the traceparent of the request that asked for it (TraceContext::parse).
    bool trigger_now(const observe::TraceContext& parent);
    /// Replaces the trigger with a cron expression; throws ScheduleError when it is invalid.
    bool reschedule_cron(std::string_view expression);
    /// Replaces the trigger with a fixed rate; throws ScheduleError unless the period is positive.
    bool reschedule_every(std::chrono::milliseconds period);
    /// The job's state now; nullopt once removed.
    [[nodiscard]] std::optional<JobInfo> info() const;
    /// The job's name.
    [[nodiscard]] std::string_view name() const { return name_; }

private:
    friend class Scheduler;
    friend class JobBuilder;
    bool trigger(std::shared_ptr<const observe::TraceContext> parent);
    JobHandle(Scheduler* s, std::string name) : scheduler_(s), name_(std::move(name)) {}
    Scheduler* scheduler_ = nullptr;
    std::string name_;
};

/// Defines a job, fluently: its trigger, settings and policies, then run() registers it.
class TXFLOW_EXPORT JobBuilder {
public:
    /// Fires on a cron expression (parse errors surface as ScheduleError at run()).
    JobBuilder& cron(std::string_view expression, cron::Format format = cron::Format::any);
    /// Fires on a parsed cron schedule.
    JobBuilder& cron(const cron::Schedule& schedule);
    /// A compile-time checked "..."_cron literal (txflow/cron/literal.hpp).
    JobBuilder& cron(const cron::Spec& spec);
    JobBuilder& every(std::chrono::milliseconds period);             ///< fixed rate
    JobBuilder& every_fixed_delay(std::chrono::milliseconds delay);  ///< delay counted from each run's end
    /// Fires once, `delay` after it is armed (at start(), or at run() on a started scheduler).
    JobBuilder& after(std::chrono::milliseconds delay);
    /// Fires once, at the wall time `when`.
    JobBuilder& at(WallTime when);
    /// The IANA zone a cron expression is read in (default: UTC, or its CRON_TZ= prefix).
    JobBuilder& in_zone(std::string_view zone);
    /// The runs' priority on the worker pool.
    JobBuilder& priority(Priority p);
    /// The queue the runs go to (registered with SchedulerOptions::queue).
    JobBuilder& queue(std::string_view name);
    /// A random delay in [0, max] added to every fire (thundering-herd protection).
    JobBuilder& jitter(std::chrono::milliseconds max);
    /// How missed fires are handled for this job (default: the scheduler's).
    JobBuilder& misfire(Misfire m);
    /// At most one run of this job waits in the queue: a fire that finds one
    /// already waiting (a saturated queue, a slow job) is not queued but
    /// reported `skipped` (detail "coalesced"). Keeps a fixed-rate job feeding
    /// a busy queue from building an unbounded backlog.
    JobBuilder& coalesce();
    /// Lets a waiting run of higher priority take this job's worker: the run
    /// is asked to stop (JobContext::preempted()), may save progress with
    /// JobContext::checkpoint(bytes), and is queued again without spending a
    /// retry attempt (docs/preemption.md).
    JobBuilder& preemptible();
    /// Every run of this job continues the trace of this W3C `traceparent` (its attempts are
    /// child spans of it) instead of starting a new trace; `tracestate` is passed on. Checked at
    /// run(): an invalid traceparent throws ScheduleError saying which part is wrong.
    JobBuilder& trace_parent(std::string_view traceparent, std::string_view tracestate = {});

    // Policies, outermost first (see txflow/policy/policy.hpp).
    /// Catches every exception and reports the run failed (see policies::recover()).
    JobBuilder& recover();
    /// Retries failed attempts by `policy`, through the timer (see policies::retry()).
    JobBuilder& retry(retry::Policy policy);
    /// Per attempt when placed inside retry (after it), the whole run when outside (before it).
    JobBuilder& timeout(std::chrono::milliseconds limit);
    /// A fire that finds a run of this job still going ends `skipped` at once,
    /// without a `started` event ("previous run still running").
    JobBuilder& skip_if_running();
    /// A fire that finds a run still going waits, and runs once right after it.
    JobBuilder& delay_if_running();
    /// Fails fast, or runs `fallback`, while `breaker` is open.
    JobBuilder& circuit_breaker(std::shared_ptr<CircuitBreaker> breaker, JobFunction fallback = {});
    /// A breaker from the scheduler's registry, shared by every job naming it.
    JobBuilder& circuit_breaker(std::string_view name, const BreakerOptions& options = {}, JobFunction fallback = {});
    JobBuilder& rate_limit(double runs_per_second, double burst);  ///< this job's own bucket
    JobBuilder& rate_limit(std::shared_ptr<TokenBucket> bucket);   ///< shared, e.g. per queue
    JobBuilder& wrap(Wrapper wrapper);                             ///< a policy of your own

    /// Registers the job. Throws ScheduleError on a duplicate name, a bad cron
    /// expression or zone, or no trigger.
    JobHandle run(JobFunction fn);
    /// Each fire starts an instance of the saga with a copy of `input`, keyed
    /// "<job>@<fire time>" so a fire recovered after a crash does not start a
    /// second instance. The run ends once the saga has started; the saga goes
    /// on by itself.
    JobHandle run(const SagaRef& saga, nlohmann::json input = nlohmann::json::object());

    /// Copies the definition so far.
    JobBuilder(const JobBuilder& other);
    /// Moves the definition so far.
    JobBuilder(JobBuilder&& other) noexcept;
    ~JobBuilder();

private:
    friend class Scheduler;
    struct Definition;  // src/scheduler/job_definition.hpp
    JobBuilder(Scheduler& s, std::string name);
    Scheduler& scheduler_;
    std::unique_ptr<Definition> def_;
};

/// The scheduler: a job registry, a timer thread and a worker pool (see the file's notes).
class TXFLOW_EXPORT Scheduler {
public:
    /// Builds the scheduler and recovers its state from the store (std::runtime_error if it cannot); nothing fires
    /// before start().
    explicit Scheduler(SchedulerOptions options = {});
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;
    /// stop(0s), then waits for every run still going: a job that ignores its
    /// stop token keeps the destructor waiting (never stop() itself).
    ~Scheduler();

    /// Starts a job definition called `name`; it is registered by JobBuilder::run().
    [[nodiscard]] JobBuilder job(std::string name) { return JobBuilder(*this, std::move(name)); }
    /// The job called `name`, or nullopt.
    [[nodiscard]] std::optional<JobHandle> find(std::string_view name);

    /// Starts the timer thread and the workers: jobs fire from now on, recovered sagas resume.
    void start();
    /// Stops firing, lets queued and running runs finish until drain_deadline,
    /// then cancels the queued ones and requests stop on the running ones'
    /// stop tokens, waits up to SchedulerOptions::stop_grace for them and
    /// returns: within drain_deadline + stop_grace (plus scheduling noise),
    /// whatever the jobs do. Runs that ignore the request go on in the
    /// background (StopReport::still_running); the destructor joins them.
    StopReport stop(std::chrono::milliseconds drain_deadline);

    /// Every job's state now.
    [[nodiscard]] std::vector<JobInfo> jobs() const;
    /// The job's next `count` fires from its real schedule (cron in its zone,
    /// fixed rate, one-shot), earliest first; empty when the job is unknown,
    /// paused or has nothing left to fire.
    [[nodiscard]] std::vector<WallTime> next_fires(std::string_view job, std::size_t count) const;
    /// Cancels one run of `job`, the one for the fire `fire_time`: a queued
    /// run is not started, a running one is asked to stop through its stop
    /// token; either ends `cancelled` (error "cancelled"), without a retry.
    /// False when no such run is queued or running.
    bool cancel_run(std::string_view job, WallTime fire_time);

    /// Blocks until the timer thread has caught up with the clock and no run
    /// is queued or in progress (the events of the runs that ended included).
    /// Meant for tests with a ManualClock.
    void wait_idle();
    /// The earliest steady instant at which the scheduler has something to do
    /// (a job fire, a retry, an attempt deadline, a saga timer or its minute
    /// housekeeping); nullopt when nothing is armed. With wait_idle(), lets a
    /// test on a ManualClock jump from one due instant to the next instead of
    /// stepping (txflow::testing::SchedulerFixture::advance does).
    [[nodiscard]] std::optional<SteadyTime> next_due() const;

    /// Dead letters: runs that gave up.
    [[nodiscard]] std::vector<DeadLetter> dead_letters() const;
    /// Runs the job again for the same fire (attempt 1); false if the entry or the job is gone.
    bool rerun_dead_letter(std::uint64_t id);
    /// Empties the dead-letter list; returns how many entries it had.
    std::size_t clear_dead_letters();
    /// Attempts still running past their deadline after a stop request.
    [[nodiscard]] std::size_t stuck_workers() const;
    /// Named breakers and rate limiters, created on first use and shared.
    std::shared_ptr<CircuitBreaker> breaker(std::string_view name, const BreakerOptions& options);
    [[nodiscard]] std::shared_ptr<CircuitBreaker> breaker(std::string_view name) const;  ///< nullptr if none
    /// The names of the named breakers, sorted.
    [[nodiscard]] std::vector<std::string> breaker_names() const;
    /// Each queue's limit, running, waiting and oldest wait (the executor's figures).
    [[nodiscard]] std::vector<QueueStats> queue_stats() const;
    /// The rate limiter called `name`, created with these settings on first use.
    std::shared_ptr<TokenBucket> rate_limiter(std::string_view name, double per_second, double burst);

    // ---- sagas (txflow/saga/saga.hpp)
    /// Starts an instance, or, when an instance with this idempotency key
    /// exists (in any state), returns it and runs nothing. Empty key: a fresh
    /// id. Steps run on the worker pool once start() has been called.
    /// With `parent` (a parsed traceparent), the saga's span continues that
    /// trace; it is recorded with the saga, so a recovered saga continues it too.
    SagaHandle start_saga(const SagaRef& saga, nlohmann::json input, std::string idempotency_key = {},
                          const observe::TraceContext* parent = nullptr);
    /// Definitions to resume by name after a crash (start_saga and
    /// job().run(saga) register theirs).
    void register_saga(const SagaRef& saga);
    /// A saga instance's state; nullopt when unknown (or forgotten).
    [[nodiscard]] std::optional<saga::Info> saga(std::string_view id) const;
    /// Every known saga instance, or those in `state`.
    [[nodiscard]] std::vector<saga::Info> sagas(std::optional<saga::State> state = std::nullopt) const;
    /// Operators, for a saga in compensation_failed: run the failed
    /// compensations again, or declare the saga compensated by hand.
    bool retry_compensation(std::string_view id);
    /// Declares a saga in compensation_failed compensated, with an operator's `note`.
    bool resolve_compensation(std::string_view id, std::string note);
    /// Asks a running saga to stop and compensate.
    bool cancel_saga(std::string_view id, std::string reason = "cancelled");
    /// Blocks until the saga is finished (succeeded, compensated or compensation_failed) or `timeout` passes.
    std::optional<saga::Info> wait_saga(std::string_view id, std::chrono::milliseconds timeout) const;
    /// Forgets finished sagas older than the retention now (also done every
    /// minute while started); returns how many.
    std::size_t purge_sagas();

    // ---- atomic transactions (txflow/saga/atomic.hpp, docs/atomic.md)
    /// Records the begin (durably), then prepares every participant once
    /// start() has been called. A transaction with this idempotency key
    /// already: its id, and nothing runs. Empty key: a fresh id. Returns the id.
    /// Throws std::runtime_error when the store cannot record the begin.
    std::string start_atomic(const AtomicRef& txn, nlohmann::json input = nlohmann::json::object(),
                             std::string idempotency_key = {});
    /// Definitions to finish by name after a crash (start_atomic registers its own).
    void register_atomic(const AtomicRef& txn);
    /// Forgets committed and aborted transactions older than the retention
    /// (SchedulerOptions::atomic_retention) now (also done every minute while
    /// started); returns how many.
    std::size_t purge_transactions();
    /// A transaction's state; nullopt when unknown (or forgotten by retention).
    [[nodiscard]] std::optional<atomic::Info> transaction(std::string_view id) const;
    /// Every known transaction, or those in `state`.
    [[nodiscard]] std::vector<atomic::Info> transactions(std::optional<atomic::State> state = std::nullopt) const;
    /// Until committed, aborted or commit_stalled (or the timeout).
    std::optional<atomic::Info> wait_transaction(std::string_view id, std::chrono::milliseconds timeout) const;

    /// The clock the scheduler runs on.
    [[nodiscard]] Clock& clock() const { return *clock_; }
    /// The scheduler's logger.
    [[nodiscard]] spdlog::logger& logger() const { return *logger_; }

private:
    friend class JobHandle;
    friend class JobBuilder;
    friend class SagaHost;  // src/scheduler/saga_host.hpp
    struct Impl;

    JobHandle add(JobBuilder& builder, JobFunction fn);
    void start_locked();

    Clock* clock_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace txflow
