#include "txflow/scheduler.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <new>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "txflow/core/timer_heap.hpp"

#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace txflow {

using std::chrono::milliseconds;

// The per-job record. Kept small: a scheduler may hold hundreds of thousands
// of jobs. The name lives in the same allocation, right after the record (the
// index keys on it, so there is no second copy); what only cron jobs need sits
// behind `cron`, and rare state (errors, misfires, jitter) behind `cold`,
// allocated on first use. Runs in flight are listed in Impl::active_runs, not
// per job. Every field is guarded by Scheduler::Impl::mutex, except the ones
// fixed at registration (name, fn, priority, queue), which are read without it.
class JobState {
public:
    struct CronTrigger {
        cron::Schedule schedule;
        std::string text;                // as written, or the schedule's own rendering
        std::optional<WallTime> last_fire;
    };
    struct Cold {
        std::string last_error;
        std::uint64_t misfire_count = 0;
        milliseconds jitter{0};
    };
    static constexpr std::int64_t kNoTime = INT64_MIN;

    static JobState* create(std::string_view name) {
        void* mem = ::operator new(sizeof(JobState) + name.size());
        auto* j = new (mem) JobState(static_cast<std::uint32_t>(name.size()));
        std::memcpy(reinterpret_cast<char*>(j + 1), name.data(), name.size());
        return j;
    }
    static void destroy(JobState* j) noexcept {
        if (j == nullptr) return;
        j->~JobState();
        ::operator delete(static_cast<void*>(j));
    }
    JobState(const JobState&) = delete;
    JobState& operator=(const JobState&) = delete;

    [[nodiscard]] std::string_view name() const { return {reinterpret_cast<const char*>(this + 1), name_size_}; }
    [[nodiscard]] bool wall_based() const { return kind == Trigger::Kind::cron || kind == Trigger::Kind::at; }

    // cron/at: the wall instant the timer waits for, if armed.
    [[nodiscard]] std::optional<WallTime> next_wall() const {
        if (!wall_based() || next_ == kNoTime) return std::nullopt;
        return WallTime{milliseconds{next_}};
    }
    void set_next_wall(std::optional<WallTime> w) {
        if (wall_based()) next_ = w ? w->time_since_epoch().count() : kNoTime;
    }
    // every/after: the nominal deadline, before jitter; SteadyTime{} if none.
    [[nodiscard]] SteadyTime next_steady() const {
        return wall_based() || next_ == kNoTime ? SteadyTime{} : SteadyTime{SteadyTime::duration{next_}};
    }
    void set_next_steady(SteadyTime t) { next_ = t.time_since_epoch().count(); }
    [[nodiscard]] milliseconds period() const { return milliseconds{param_}; }
    void set_period(milliseconds d) { param_ = d.count(); }
    [[nodiscard]] WallTime at() const { return WallTime{milliseconds{param_}}; }
    void set_at(WallTime t) { param_ = t.time_since_epoch().count(); }
    [[nodiscard]] bool armed() const { return timer.slot != TimerHeap::kNoSlot; }
    [[nodiscard]] milliseconds jitter() const { return cold ? cold->jitter : milliseconds{0}; }
    Cold& cold_state() {
        if (!cold) cold = std::make_unique<Cold>();
        return *cold;
    }

    JobFunction fn;
    std::unique_ptr<CronTrigger> cron;  // cron jobs only
    std::unique_ptr<Cold> cold;         // allocated on first use
    TimerHeap::Handle timer;            // slot kNoSlot: not armed
    std::uint64_t run_count = 0;
    QueueId queue = kDefaultQueue;
    std::uint32_t pending = 0;  // runs queued or running; the record outlives them
    std::uint32_t misfire_cap = 0;
    Trigger::Kind kind = Trigger::Kind::after;
    Priority priority = Priority::normal;
    Misfire::Mode misfire_mode = Misfire::Mode::fire_once;
    Outcome last_outcome = Outcome::none;
    bool paused = false;
    bool removed = false;
    bool done = false;  // one-shot job that has fired

private:
    explicit JobState(std::uint32_t name_size) : name_size_(name_size) {}
    ~JobState() = default;

    std::int64_t param_ = 0;       // every/after: period in ms; at: wall ms
    std::int64_t next_ = kNoTime;  // wall ms (cron/at) or steady ticks (every/after, 0: none)
    std::uint32_t name_size_;
};

namespace {

struct PendingRun {
    JobState* job;
    WallTime scheduled;
};

// One run in progress; lives on the worker's stack, linked into Impl::active_runs.
struct ActiveRun {
    JobState* job;
    std::stop_source* stop;
    ActiveRun* next;
};

// The name index: record pointers, hashed and compared by the name inside.
struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
    std::size_t operator()(const JobState* j) const { return (*this)(j->name()); }
};
struct NameEq {
    using is_transparent = void;
    static std::string_view key(std::string_view s) { return s; }
    static std::string_view key(const JobState* j) { return j->name(); }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const { return key(a) == key(b); }
};

std::string describe_period(milliseconds d);

Event event(EventKind kind, std::string_view job, WallTime fire_time) {
    Event e;
    e.kind = kind;
    e.job = job;
    e.fire_time = fire_time;
    return e;
}

std::string describe_period(milliseconds d) {
    if (d.count() % 3'600'000 == 0) return fmt::format("{}h", d.count() / 3'600'000);
    if (d.count() % 60'000 == 0) return fmt::format("{}m", d.count() / 60'000);
    if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
    return fmt::format("{}ms", d.count());
}

}  // namespace

namespace {

std::string schedule_text(const JobState& j) {
    switch (j.kind) {
        case Trigger::Kind::cron: return j.cron->text;
        case Trigger::Kind::every_fixed_rate: return "every " + describe_period(j.period());
        case Trigger::Kind::every_fixed_delay: return "every " + describe_period(j.period()) + " (fixed delay)";
        case Trigger::Kind::after: return "after " + describe_period(j.period());
        case Trigger::Kind::at: return "at " + cron::to_rfc3339(j.at(), cron::Zone::utc());
    }
    return {};
}

}  // namespace

struct Scheduler::Impl {
    Scheduler& owner;
    Clock& clock;
    spdlog::logger& log;
    SchedulerOptions options;
    Executor executor;

    mutable std::mutex mutex;
    std::condition_variable wake_cv;  // timer thread
    std::condition_variable idle_cv;  // wait_idle / stop
    TimerHeap timers;                 // payload: the JobState*
    // Owns the records it holds. A removed record leaves the index at once and
    // is destroyed when its last queued or running run ends.
    std::unordered_set<JobState*, NameHash, NameEq> by_name;
    ActiveRun* active_runs = nullptr;
    std::unordered_map<std::string, QueueId> queues;
    bool started = false;
    bool stopping = false;
    bool cancel_queued = false;
    bool wake = false;
    std::uint64_t seen_generation = 0;
    std::size_t inflight = 0;
    std::size_t dropped_queued = 0;
    SteadyTime last_steady{};
    WallTime last_wall{};
    std::mt19937_64 rng;
    std::jthread timer_thread;
    std::uint64_t clock_subscription = 0;

    Impl(Scheduler& s, Clock& c, spdlog::logger& l, SchedulerOptions opts)
        : owner(s), clock(c), log(l), options(std::move(opts)), executor(options.executor_),
          rng(options.seed_ != 0 ? options.seed_ : std::random_device{}()) {
        for (const auto& [name, limit] : options.queues_) queues[name] = executor.queue(name, limit);
        clock_subscription = clock.subscribe([this] {
            {
                const std::lock_guard lock(mutex);
                wake = true;
            }
            wake_cv.notify_one();
        });
    }

    // Runs after Scheduler::~Scheduler has shut the executor down: no run is
    // pending, so every record left is in the index.
    ~Impl() {
        clock.unsubscribe(clock_subscription);
        for (JobState* j : by_name) JobState::destroy(j);
    }

    void emit(const Event& e) const {
        for (const auto& l : options.listeners_) l->on_event(e);
    }

    void notify_timer() {
        wake = true;
        wake_cv.notify_one();
    }

    QueueId queue_id(const std::string& name) {
        if (name.empty()) return kDefaultQueue;
        if (auto it = queues.find(name); it != queues.end()) return it->second;
        return queues[name] = executor.queue(name, 0);
    }

    milliseconds draw_jitter(const JobState& j) {
        const milliseconds max = j.jitter();
        if (max.count() <= 0) return milliseconds{0};
        std::uniform_int_distribution<std::int64_t> dist(0, max.count());
        return milliseconds{dist(rng)};
    }

    void disarm(JobState& j) {
        if (j.armed()) timers.cancel(j.timer);
        j.timer = TimerHeap::Handle{};
    }

    void set_deadline(JobState& j, SteadyTime deadline) {
        disarm(j);
        j.timer = timers.add(deadline, reinterpret_cast<std::uintptr_t>(&j));
        notify_timer();
    }

    // Arms the timer for a wall-clock fire at w.
    void arm_wall(JobState& j, WallTime w, SteadyTime now_s, WallTime now_w) {
        j.set_next_wall(w);
        set_deadline(j, now_s + (w - now_w) + draw_jitter(j));
        emit(event(EventKind::scheduled, j.name(), w));
    }

    // Computes and arms the next fire of a job that has none armed.
    void arm(JobState& j, SteadyTime now_s, WallTime now_w) {
        if (!started || stopping || j.paused || j.removed || j.done) return;
        switch (j.kind) {
            case Trigger::Kind::cron: {
                const auto& last_fire = j.cron->last_fire;
                const WallTime base = last_fire ? std::max(*last_fire, now_w) : now_w;
                const auto fire = j.cron->schedule.next(base);
                if (!fire) {
                    j.set_next_wall(std::nullopt);
                    j.done = true;
                    return;
                }
                arm_wall(j, *fire, now_s, now_w);
                return;
            }
            case Trigger::Kind::at: arm_wall(j, j.at(), now_s, now_w); return;
            case Trigger::Kind::after:
            case Trigger::Kind::every_fixed_rate:
            case Trigger::Kind::every_fixed_delay:
                if (j.next_steady() == SteadyTime{}) j.set_next_steady(now_s + j.period());
                set_deadline(j, j.next_steady() + draw_jitter(j));
                emit(event(EventKind::scheduled, j.name(),
                           now_w + std::chrono::duration_cast<milliseconds>(j.next_steady() - now_s)));
                return;
        }
    }

    void queue_run(JobState& j, WallTime scheduled, std::vector<PendingRun>& runs) {
        ++inflight;
        ++j.pending;
        runs.push_back({&j, scheduled});
    }

    // A run of j ended or never started. Returns the record if it is now to be
    // destroyed (removed, nothing pending): the caller does that after
    // unlocking, so the user's callable is never destroyed under the mutex.
    [[nodiscard]] JobState* release_run(JobState& j) {
        --j.pending;
        --inflight;
        idle_cv.notify_all();
        return j.removed && j.pending == 0 ? &j : nullptr;
    }

    void note_misfire(JobState& j, WallTime first_missed, std::uint64_t count, bool skipped) {
        j.cold_state().misfire_count += count;
        // A fixed-rate job falling behind its period is routine under load; a
        // missed wall-clock fire is worth a warning.
        const auto level = j.kind == Trigger::Kind::every_fixed_rate ? spdlog::level::debug : spdlog::level::warn;
        log.log(level, "job '{}' missed {} fire(s) from {} on", j.name(), count,
                 cron::to_rfc3339(first_missed, cron::Zone::utc()));
        Event e = event(skipped ? EventKind::skipped : EventKind::misfired, j.name(), first_missed);
        e.count = count;
        emit(e);
    }

    // The timer of j expired at steady time now_s.
    void on_timer(JobState& j, SteadyTime now_s, WallTime now_w, std::vector<PendingRun>& runs) {
        j.timer = TimerHeap::Handle{};
        switch (j.kind) {
            case Trigger::Kind::cron:
            case Trigger::Kind::at: {
                const WallTime due = *j.next_wall();
                if (now_w < due) {  // the wall clock went back, or drifted: wait for it
                    set_deadline(j, now_s + (due - now_w));
                    return;
                }
                // Every fire in [due, now_w]; more than one only after a jump or a stall.
                std::vector<WallTime> fires{due};
                std::uint64_t total = 1;
                if (j.kind == Trigger::Kind::cron) {
                    const auto& schedule = j.cron->schedule;
                    for (auto f = schedule.next(due); f && *f <= now_w; f = schedule.next(*f)) {
                        if (fires.size() < 10'000) fires.push_back(*f);
                        if (++total >= 1'000'000) break;
                    }
                }
                const auto grace = options.misfire_grace_;
                const auto late = [&](WallTime f) { return now_w - f > grace; };
                const std::uint64_t missed = static_cast<std::uint64_t>(
                    std::count_if(fires.begin(), fires.end(), late)) + (total - fires.size());
                if (missed == 0) {
                    for (auto f : fires) queue_run(j, f, runs);
                } else {
                    switch (j.misfire_mode) {
                        case Misfire::Mode::fire_once:
                            queue_run(j, fires.back(), runs);
                            if (total > 1) note_misfire(j, fires.front(), total - 1, false);
                            break;
                        case Misfire::Mode::skip:
                            for (auto f : fires)
                                if (!late(f)) queue_run(j, f, runs);
                            note_misfire(j, fires.front(), missed, true);
                            break;
                        case Misfire::Mode::fire_all: {
                            const std::size_t n = std::min<std::size_t>(fires.size(), j.misfire_cap);
                            for (std::size_t i = 0; i < n; ++i) queue_run(j, fires[i], runs);
                            if (total > n) note_misfire(j, fires[n], total - n, false);
                            break;
                        }
                    }
                }
                if (j.cron) j.cron->last_fire = fires.back();
                j.set_next_wall(std::nullopt);
                if (j.kind == Trigger::Kind::at) j.done = true;
                arm(j, now_s, now_w);
                return;
            }
            case Trigger::Kind::after:
                queue_run(j, now_w, runs);
                j.done = true;
                return;
            case Trigger::Kind::every_fixed_rate: {
                queue_run(j, now_w, runs);
                auto next = j.next_steady() + j.period();
                if (next <= now_s) {  // fell behind: one run now, the rest are misfires
                    const auto behind = (now_s - next) / j.period() + 1;
                    next += behind * j.period();
                    j.set_next_steady(next);
                    note_misfire(j, now_w, static_cast<std::uint64_t>(behind), true);
                }
                j.set_next_steady(next);
                arm(j, now_s, now_w);
                return;
            }
            case Trigger::Kind::every_fixed_delay:
                queue_run(j, now_w, runs);
                j.set_next_steady(SteadyTime{});  // armed again when the run ends
                return;
        }
    }

    // After a wall-clock jump, wall-based deadlines are recomputed.
    void rearm_wall_jobs(SteadyTime now_s, WallTime now_w) {
        for (JobState* j : by_name) {
            if (j->armed() && j->next_wall()) set_deadline(*j, now_s + (*j->next_wall() - now_w));
        }
    }

    void submit(std::vector<PendingRun>& runs) {
        const bool may_drop = options.executor_.overflow == OverflowPolicy::drop_oldest;
        for (auto& r : runs) {
            Task task;
            task.priority = r.job->priority;
            task.queue = r.job->queue;
            task.run = [this, job = r.job, scheduled = r.scheduled] { run_job(*job, scheduled); };
            if (may_drop) {
                task.dropped = [this, job = r.job, scheduled = r.scheduled] {
                    emit(event(EventKind::dropped, job->name(), scheduled));
                    log.warn("job '{}': run dropped, backlog full", job->name());
                    finish_unstarted(*job);
                };
            }
            const auto result = executor.submit(std::move(task));
            if (result != SubmitResult::accepted) {
                emit(event(EventKind::rejected, r.job->name(), r.scheduled));
                log.warn("job '{}': run rejected ({})", r.job->name(),
                         result == SubmitResult::stopped ? "executor stopped" : "backlog full");
                finish_unstarted(*r.job);
            }
        }
        runs.clear();
    }

    void finish_unstarted(JobState& j) {
        JobState* dead = nullptr;
        {
            const std::lock_guard lock(mutex);
            dead = release_run(j);
        }
        JobState::destroy(dead);
    }

    void unlink_active(ActiveRun* run) {
        for (ActiveRun** p = &active_runs; *p != nullptr; p = &(*p)->next) {
            if (*p == run) {
                *p = run->next;
                return;
            }
        }
    }

    [[nodiscard]] bool has_active_run(const JobState& j) const {
        for (const ActiveRun* r = active_runs; r != nullptr; r = r->next)
            if (r->job == &j) return true;
        return false;
    }

    void request_stop_of(const JobState& j) {
        for (ActiveRun* r = active_runs; r != nullptr; r = r->next)
            if (r->job == &j) r->stop->request_stop();
    }

    void run_job(JobState& j, WallTime scheduled) {
        std::stop_source stop;
        ActiveRun active{&j, &stop, nullptr};
        std::uint64_t run_number = 0;
        {
            std::unique_lock lock(mutex);
            if (j.removed || cancel_queued) {
                if (cancel_queued) ++dropped_queued;
                JobState* dead = release_run(j);
                lock.unlock();
                JobState::destroy(dead);
                return;
            }
            run_number = ++j.run_count;
            active.next = active_runs;
            active_runs = &active;
        }
        emit(event(EventKind::started, j.name(), scheduled));
        JobContext ctx(j.name(), scheduled, stop.get_token(), run_number);
        Outcome outcome = Outcome::succeeded;
        std::string error;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            j.fn(ctx);
        } catch (const std::exception& e) {
            outcome = Outcome::failed;
            error = e.what();
        } catch (...) {
            outcome = Outcome::failed;
            error = "unknown exception";
        }
        const auto duration = std::chrono::steady_clock::now() - t0;
        if (outcome == Outcome::succeeded && stop.stop_requested()) outcome = Outcome::cancelled;
        if (outcome == Outcome::failed) log.error("job '{}' failed: {}", j.name(), error);
        else log.debug("job '{}' finished in {} us", j.name(),
                       std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
        Event finished = event(EventKind::finished, j.name(), scheduled);
        finished.outcome = outcome;
        finished.duration = duration;
        finished.error = error;
        emit(finished);
        JobState* dead = nullptr;
        {
            const std::lock_guard lock(mutex);
            unlink_active(&active);
            j.last_outcome = outcome;
            if (!error.empty() || (j.cold && !j.cold->last_error.empty())) j.cold_state().last_error = std::move(error);
            if (j.kind == Trigger::Kind::every_fixed_delay && !j.armed()) {
                const auto now_s = clock.steady_now();
                j.set_next_steady(now_s + j.period());
                arm(j, now_s, clock.wall_now());
            }
            dead = release_run(j);
        }
        JobState::destroy(dead);
    }

    void timer_loop(const std::stop_token& token) {
#ifdef __linux__
        // The default 50 us timer slack would add straight to every fire's
        // lateness; this thread sleeps rarely enough that 1 us costs nothing.
        (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
#endif
        std::unique_lock lock(mutex);
        std::vector<PendingRun> runs;
        while (!stopping && !token.stop_requested()) {
            const std::uint64_t generation = clock.generation();
            const SteadyTime now_s = clock.steady_now();
            const WallTime now_w = clock.wall_now();
            const auto expected_wall = last_wall + std::chrono::duration_cast<milliseconds>(now_s - last_steady);
            const auto jump = now_w - expected_wall;
            if (jump > milliseconds{250} || jump < milliseconds{-250}) {
                log.info("wall clock jumped by {} ms; re-arming wall-clock jobs", jump.count());
                rearm_wall_jobs(now_s, now_w);
            }
            last_steady = now_s;
            last_wall = now_w;

            // Timers are cancelled before their record is destroyed, so a
            // fired payload always names a live record.
            while (auto fired = timers.pop_due(now_s)) {
                auto* j = reinterpret_cast<JobState*>(static_cast<std::uintptr_t>(fired->payload));
                if (j->timer == fired->handle) on_timer(*j, now_s, now_w, runs);
            }
            if (!runs.empty()) {
                lock.unlock();
                submit(runs);
                lock.lock();
                continue;
            }
            seen_generation = generation;
            idle_cv.notify_all();
            if (wake) {
                wake = false;
                continue;
            }
            if (clock.is_manual()) {
                wake_cv.wait(lock, [&] { return stopping || wake || token.stop_requested(); });
            } else {
                auto deadline = now_s + options.wall_check_;
                if (auto due = timers.next_due(); due && *due < deadline) deadline = *due;
                wake_cv.wait_until(lock, deadline, [&] { return stopping || wake || token.stop_requested(); });
            }
            wake = false;
        }
    }

    bool idle_now() const {
        if (inflight != 0) return false;
        if (!started || stopping) return true;
        if (seen_generation != clock.generation() || wake) return false;
        const auto due = timers.next_due();
        return !due || *due > clock.steady_now();
    }

    JobState* find(std::string_view name) const {
        auto it = by_name.find(name);
        return it == by_name.end() ? nullptr : *it;
    }

    JobInfo info_of(const JobState& j) const {
        JobInfo info;
        info.name = std::string(j.name());
        info.schedule = schedule_text(j);
        if (auto w = j.next_wall()) {
            info.next_fire = w;
        } else if (!j.wall_based() && j.armed() && !j.paused) {
            info.next_fire =
                clock.wall_now() + std::chrono::duration_cast<milliseconds>(j.next_steady() - clock.steady_now());
        }
        info.last_outcome = j.last_outcome;
        if (j.cold) {
            info.last_error = j.cold->last_error;
            info.misfire_count = j.cold->misfire_count;
        }
        info.run_count = j.run_count;
        info.paused = j.paused;
        info.running = has_active_run(j);
        return info;
    }
};
// ---------------------------------------------------------------- Scheduler

namespace {
std::shared_ptr<spdlog::logger> default_logger() {
    auto logger = std::make_shared<spdlog::logger>("txflow", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_level(spdlog::level::info);
    return logger;
}
}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : clock_(options.clock_ != nullptr ? options.clock_ : &RealClock::instance()),
      logger_(options.logger_ ? options.logger_ : default_logger()),
      impl_(std::make_unique<Impl>(*this, *clock_, *logger_, std::move(options))) {}

Scheduler::~Scheduler() {
    bool running = false;
    {
        const std::lock_guard lock(impl_->mutex);
        running = impl_->started && !impl_->stopping;
    }
    if (running) stop(milliseconds{0});
    impl_->executor.shutdown();
}

void Scheduler::start() {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->started || impl_->stopping) return;
    impl_->started = true;
    impl_->last_steady = clock_->steady_now();
    impl_->last_wall = clock_->wall_now();
    for (JobState* j : impl_->by_name) impl_->arm(*j, impl_->last_steady, impl_->last_wall);
    impl_->timer_thread = std::jthread([this](const std::stop_token& token) { impl_->timer_loop(token); });
}

StopReport Scheduler::stop(milliseconds drain_deadline) {
    StopReport report;
    std::jthread timer_thread;
    {
        const std::lock_guard lock(impl_->mutex);
        if (impl_->stopping) return report;
        impl_->stopping = true;
        impl_->notify_timer();
        // Taken under the mutex: start() writes it under the mutex too.
        timer_thread = std::move(impl_->timer_thread);
    }
    if (timer_thread.joinable()) timer_thread.join();
    std::unique_lock lock(impl_->mutex);
    const auto deadline = std::chrono::steady_clock::now() + drain_deadline;
    report.drained = impl_->idle_cv.wait_until(lock, deadline, [&] { return impl_->inflight == 0; });
    if (!report.drained) {
        impl_->cancel_queued = true;
        // Removed jobs were asked to stop already and are not reported.
        for (ActiveRun* r = impl_->active_runs; r != nullptr; r = r->next) {
            const std::string_view name = r->job->name();
            if (!r->job->removed && std::find(report.still_running.begin(), report.still_running.end(), name) ==
                                        report.still_running.end())
                report.still_running.emplace_back(name);
            r->stop->request_stop();
        }
        for (const auto& name : report.still_running)
            logger_->warn("stop: job '{}' still running after the drain deadline; stop requested", name);
    }
    lock.unlock();
    impl_->executor.shutdown();  // queued runs see cancel_queued and return at once
    lock.lock();
    report.dropped_queued = impl_->dropped_queued;
    return report;
}

void Scheduler::wait_idle() {
    std::unique_lock lock(impl_->mutex);
    impl_->idle_cv.wait(lock, [&] { return impl_->idle_now(); });
}

std::vector<JobInfo> Scheduler::jobs() const {
    const std::lock_guard lock(impl_->mutex);
    std::vector<JobInfo> out;
    out.reserve(impl_->by_name.size());
    for (const JobState* j : impl_->by_name) out.push_back(impl_->info_of(*j));
    std::sort(out.begin(), out.end(), [](const JobInfo& a, const JobInfo& b) { return a.name < b.name; });
    return out;
}

std::optional<JobHandle> Scheduler::find(std::string_view name) {
    const std::lock_guard lock(impl_->mutex);
    if (!impl_->find(name)) return std::nullopt;
    return JobHandle(this, std::string(name));
}

JobHandle Scheduler::add(JobBuilder& b, JobFunction fn) {
    if (b.name_.empty()) throw ScheduleError("job name must not be empty");
    if (!b.trigger_) throw ScheduleError(fmt::format("job '{}' has no trigger (cron, every, after or at)", b.name_));
    if (!fn) throw ScheduleError(fmt::format("job '{}' has no function", b.name_));
    if (b.name_.size() > std::numeric_limits<std::uint32_t>::max())
        throw ScheduleError("job name too long");
    const Trigger& trigger = *b.trigger_;
    std::unique_ptr<JobState::CronTrigger> cron_trigger;
    if (trigger.kind == Trigger::Kind::cron) {
        std::optional<cron::Schedule> schedule = trigger.schedule;
        if (!b.cron_text_.empty()) {
            auto parsed = cron::parse(b.cron_text_, b.cron_format_);
            if (!parsed) throw ScheduleError(fmt::format("job '{}': {}", b.name_, parsed.error().message()));
            schedule = *parsed;
        }
        if (!b.zone_.empty()) {
            const cron::Zone* zone = cron::Zone::find(b.zone_);
            if (zone == nullptr) throw ScheduleError(fmt::format("job '{}': unknown time zone \"{}\"", b.name_, b.zone_));
            schedule = schedule->in_zone(*zone);
        }
        std::string text = b.cron_text_.empty() ? schedule->to_string() : b.cron_text_;
        cron_trigger = std::make_unique<JobState::CronTrigger>(
            JobState::CronTrigger{*schedule, std::move(text), std::nullopt});
    } else if (!b.zone_.empty()) {
        throw ScheduleError(fmt::format("job '{}': in_zone() applies to cron jobs only", b.name_));
    }
    if ((trigger.kind == Trigger::Kind::every_fixed_rate || trigger.kind == Trigger::Kind::every_fixed_delay) &&
        trigger.period <= milliseconds{0})
        throw ScheduleError(fmt::format("job '{}': every() needs a positive period", b.name_));

    struct Destroy {
        void operator()(JobState* j) const noexcept { JobState::destroy(j); }
    };
    std::unique_ptr<JobState, Destroy> j(JobState::create(b.name_));
    j->kind = trigger.kind;
    j->cron = std::move(cron_trigger);
    if (trigger.kind == Trigger::Kind::at) j->set_at(trigger.at);
    else j->set_period(trigger.period);
    j->fn = std::move(fn);
    j->priority = b.priority_;
    if (b.jitter_.count() > 0) j->cold_state().jitter = b.jitter_;
    const Misfire misfire = b.misfire_.value_or(impl_->options.misfire_);
    j->misfire_mode = misfire.mode;
    j->misfire_cap = misfire.cap;

    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) throw ScheduleError(fmt::format("job '{}': the scheduler is stopping", b.name_));
    if (impl_->by_name.contains(std::string_view(b.name_)))
        throw ScheduleError(fmt::format("a job named '{}' already exists", b.name_));
    j->queue = impl_->queue_id(b.queue_);
    JobState& record = *j;
    impl_->by_name.insert(j.get());
    j.release();  // owned by the index now
    impl_->arm(record, clock_->steady_now(), clock_->wall_now());
    return JobHandle(this, b.name_);
}

// ---------------------------------------------------------------- JobBuilder

JobBuilder& JobBuilder::cron(std::string_view expression, cron::Format format) {
    trigger_ = Trigger{Trigger::Kind::cron, std::nullopt, milliseconds{0}, WallTime{}};
    cron_text_ = std::string(expression);
    cron_format_ = format;
    return *this;
}

JobBuilder& JobBuilder::cron(const cron::Schedule& schedule) {
    trigger_ = Trigger{Trigger::Kind::cron, schedule, milliseconds{0}, WallTime{}};
    cron_text_.clear();
    return *this;
}

JobBuilder& JobBuilder::every(milliseconds period) {
    trigger_ = Trigger{Trigger::Kind::every_fixed_rate, std::nullopt, period, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::every_fixed_delay(milliseconds delay) {
    trigger_ = Trigger{Trigger::Kind::every_fixed_delay, std::nullopt, delay, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::after(milliseconds delay) {
    trigger_ = Trigger{Trigger::Kind::after, std::nullopt, delay, WallTime{}};
    return *this;
}

JobBuilder& JobBuilder::at(WallTime when) {
    trigger_ = Trigger{Trigger::Kind::at, std::nullopt, milliseconds{0}, when};
    return *this;
}

JobBuilder& JobBuilder::in_zone(std::string_view zone) {
    zone_ = std::string(zone);
    return *this;
}

JobHandle JobBuilder::run(JobFunction fn) { return scheduler_.add(*this, std::move(fn)); }

// ---------------------------------------------------------------- JobHandle

bool JobHandle::pause() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    j->paused = true;
    impl.disarm(*j);
    j->set_next_wall(std::nullopt);
    return true;
}

bool JobHandle::resume() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    if (!j->paused) return true;
    j->paused = false;
    const auto now_s = impl.clock.steady_now();
    const auto now_w = impl.clock.wall_now();
    // Fires missed while paused are not caught up: resume counts from now.
    if (j->kind == Trigger::Kind::cron) j->cron->last_fire = now_w;
    if (j->kind == Trigger::Kind::every_fixed_rate || j->kind == Trigger::Kind::every_fixed_delay)
        j->set_next_steady(now_s + j->period());
    if (!j->armed()) impl.arm(*j, now_s, now_w);
    return true;
}

bool JobHandle::remove() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    JobState* dead = nullptr;
    {
        const std::lock_guard lock(impl.mutex);
        JobState* j = impl.find(name_);
        if (j == nullptr) return false;
        j->removed = true;
        impl.disarm(*j);
        impl.request_stop_of(*j);
        impl.by_name.erase(j);
        if (j->pending == 0) dead = j;  // otherwise the last run destroys it
        impl.idle_cv.notify_all();
    }
    JobState::destroy(dead);
    return true;
}

bool JobHandle::trigger_now() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    std::vector<PendingRun> runs;
    {
        const std::lock_guard lock(impl.mutex);
        auto j = impl.find(name_);
        if (!j || impl.stopping) return false;
        impl.queue_run(*j, impl.clock.wall_now(), runs);
    }
    impl.submit(runs);
    return true;
}

bool JobHandle::reschedule_cron(std::string_view expression) {
    if (scheduler_ == nullptr) return false;
    auto parsed = cron::parse(expression);
    if (!parsed) throw ScheduleError(fmt::format("job '{}': {}", name_, parsed.error().message()));
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    const cron::Zone* zone = j->cron ? &j->cron->schedule.zone() : nullptr;
    auto cron_trigger = std::make_unique<JobState::CronTrigger>(
        JobState::CronTrigger{zone ? parsed->in_zone(*zone) : *parsed, std::string(expression), std::nullopt});
    impl.disarm(*j);
    j->kind = Trigger::Kind::cron;
    j->cron = std::move(cron_trigger);
    j->set_next_wall(std::nullopt);
    j->done = false;
    impl.arm(*j, impl.clock.steady_now(), impl.clock.wall_now());
    return true;
}

bool JobHandle::reschedule_every(milliseconds period) {
    if (scheduler_ == nullptr) return false;
    if (period <= milliseconds{0}) throw ScheduleError(fmt::format("job '{}': every() needs a positive period", name_));
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    impl.disarm(*j);
    j->kind = Trigger::Kind::every_fixed_rate;
    j->cron.reset();
    j->set_period(period);
    j->done = false;
    const auto now_s = impl.clock.steady_now();
    j->set_next_steady(now_s + period);
    impl.arm(*j, now_s, impl.clock.wall_now());
    return true;
}

std::optional<JobInfo> JobHandle::info() const {
    if (scheduler_ == nullptr) return std::nullopt;
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return std::nullopt;
    return impl.info_of(*j);
}

}  // namespace txflow
