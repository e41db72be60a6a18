#include "txflow/scheduler.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "txflow/core/timer_heap.hpp"

namespace txflow {

using std::chrono::milliseconds;

class JobState {
public:
    std::uint64_t id = 0;
    std::string name;
    Trigger trigger;
    std::string schedule_text;
    JobFunction fn;
    Priority priority = Priority::normal;
    QueueId queue = kDefaultQueue;
    milliseconds jitter{0};
    Misfire misfire;

    // Guarded by Scheduler::Impl::mutex.
    std::optional<TimerHeap::Handle> timer;
    std::optional<WallTime> next_wall;  // cron/at: the wall instant the timer waits for
    SteadyTime next_steady{};           // every/after: the nominal deadline, before jitter
    std::optional<WallTime> last_fire;
    bool paused = false;
    bool removed = false;
    bool done = false;  // one-shot job that has fired
    int running = 0;
    std::uint64_t run_count = 0;
    std::uint64_t misfire_count = 0;
    Outcome last_outcome = Outcome::none;
    std::string last_error;
    std::vector<std::stop_source*> active;
};

namespace {

struct PendingRun {
    std::shared_ptr<JobState> job;
    WallTime scheduled;
};

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

struct Scheduler::Impl {
    Scheduler& owner;
    Clock& clock;
    spdlog::logger& log;
    SchedulerOptions options;
    Executor executor;

    mutable std::mutex mutex;
    std::condition_variable wake_cv;  // timer thread
    std::condition_variable idle_cv;  // wait_idle / stop
    TimerHeap timers;
    std::unordered_map<std::string, std::shared_ptr<JobState>> by_name;
    std::unordered_map<std::uint64_t, std::shared_ptr<JobState>> by_id;
    std::unordered_map<std::string, QueueId> queues;
    std::uint64_t next_id = 1;
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

    ~Impl() { clock.unsubscribe(clock_subscription); }

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
        if (j.jitter.count() <= 0) return milliseconds{0};
        std::uniform_int_distribution<std::int64_t> dist(0, j.jitter.count());
        return milliseconds{dist(rng)};
    }

    void disarm(JobState& j) {
        if (j.timer) timers.cancel(*j.timer);
        j.timer.reset();
    }

    void set_deadline(JobState& j, SteadyTime deadline) {
        disarm(j);
        j.timer = timers.add(deadline, j.id);
        notify_timer();
    }

    // Arms the timer for a wall-clock fire at w.
    void arm_wall(JobState& j, WallTime w, SteadyTime now_s, WallTime now_w) {
        j.next_wall = w;
        set_deadline(j, now_s + (w - now_w) + draw_jitter(j));
        emit(event(EventKind::scheduled, j.name, w));
    }

    // Computes and arms the next fire of a job that has none armed.
    void arm(JobState& j, SteadyTime now_s, WallTime now_w) {
        if (!started || stopping || j.paused || j.removed || j.done) return;
        switch (j.trigger.kind) {
            case Trigger::Kind::cron: {
                const WallTime base = j.last_fire ? std::max(*j.last_fire, now_w) : now_w;
                const auto fire = j.trigger.schedule->next(base);
                if (!fire) {
                    j.next_wall.reset();
                    j.done = true;
                    return;
                }
                arm_wall(j, *fire, now_s, now_w);
                return;
            }
            case Trigger::Kind::at: arm_wall(j, j.trigger.at, now_s, now_w); return;
            case Trigger::Kind::after:
            case Trigger::Kind::every_fixed_rate:
            case Trigger::Kind::every_fixed_delay:
                if (j.next_steady == SteadyTime{}) j.next_steady = now_s + j.trigger.period;
                set_deadline(j, j.next_steady + draw_jitter(j));
                emit(event(EventKind::scheduled, j.name, now_w + std::chrono::duration_cast<milliseconds>(j.next_steady - now_s)));
                return;
        }
    }

    void queue_run(const std::shared_ptr<JobState>& j, WallTime scheduled, std::vector<PendingRun>& runs) {
        ++inflight;
        ++j->running;
        runs.push_back({j, scheduled});
    }

    void note_misfire(JobState& j, WallTime first_missed, std::uint64_t count, bool skipped) {
        j.misfire_count += count;
        // A fixed-rate job falling behind its period is routine under load; a
        // missed wall-clock fire is worth a warning.
        const auto level = j.trigger.kind == Trigger::Kind::every_fixed_rate ? spdlog::level::debug : spdlog::level::warn;
        log.log(level, "job '{}' missed {} fire(s) from {} on", j.name, count,
                 cron::to_rfc3339(first_missed, cron::Zone::utc()));
        Event e = event(skipped ? EventKind::skipped : EventKind::misfired, j.name, first_missed);
        e.count = count;
        emit(e);
    }

    // The timer of j expired at steady time now_s.
    void on_timer(const std::shared_ptr<JobState>& jp, SteadyTime now_s, WallTime now_w,
                  std::vector<PendingRun>& runs) {
        JobState& j = *jp;
        j.timer.reset();
        switch (j.trigger.kind) {
            case Trigger::Kind::cron:
            case Trigger::Kind::at: {
                const WallTime due = *j.next_wall;
                if (now_w < due) {  // the wall clock went back, or drifted: wait for it
                    set_deadline(j, now_s + (due - now_w));
                    return;
                }
                // Every fire in [due, now_w]; more than one only after a jump or a stall.
                std::vector<WallTime> fires{due};
                std::uint64_t total = 1;
                if (j.trigger.kind == Trigger::Kind::cron) {
                    for (auto f = j.trigger.schedule->next(due); f && *f <= now_w; f = j.trigger.schedule->next(*f)) {
                        if (fires.size() < 10'000) fires.push_back(*f);
                        if (++total >= 1'000'000) break;
                    }
                }
                const auto grace = options.misfire_grace_;
                const auto late = [&](WallTime f) { return now_w - f > grace; };
                const std::uint64_t missed = static_cast<std::uint64_t>(
                    std::count_if(fires.begin(), fires.end(), late)) + (total - fires.size());
                if (missed == 0) {
                    for (auto f : fires) queue_run(jp, f, runs);
                } else {
                    switch (j.misfire.mode) {
                        case Misfire::Mode::fire_once:
                            queue_run(jp, fires.back(), runs);
                            if (total > 1) note_misfire(j, fires.front(), total - 1, false);
                            break;
                        case Misfire::Mode::skip:
                            for (auto f : fires)
                                if (!late(f)) queue_run(jp, f, runs);
                            note_misfire(j, fires.front(), missed, true);
                            break;
                        case Misfire::Mode::fire_all: {
                            const std::size_t n = std::min<std::size_t>(fires.size(), j.misfire.cap);
                            for (std::size_t i = 0; i < n; ++i) queue_run(jp, fires[i], runs);
                            if (total > n) note_misfire(j, fires[n], total - n, false);
                            break;
                        }
                    }
                }
                j.last_fire = fires.back();
                j.next_wall.reset();
                if (j.trigger.kind == Trigger::Kind::at) j.done = true;
                arm(j, now_s, now_w);
                return;
            }
            case Trigger::Kind::after:
                queue_run(jp, now_w, runs);
                j.done = true;
                return;
            case Trigger::Kind::every_fixed_rate: {
                queue_run(jp, now_w, runs);
                j.next_steady += j.trigger.period;
                if (j.next_steady <= now_s) {  // fell behind: one run now, the rest are misfires
                    const auto behind = (now_s - j.next_steady) / j.trigger.period + 1;
                    j.next_steady += behind * j.trigger.period;
                    note_misfire(j, now_w, static_cast<std::uint64_t>(behind), true);
                }
                arm(j, now_s, now_w);
                return;
            }
            case Trigger::Kind::every_fixed_delay:
                queue_run(jp, now_w, runs);
                j.next_steady = SteadyTime{};  // armed again when the run ends
                return;
        }
    }

    // After a wall-clock jump, wall-based deadlines are recomputed.
    void rearm_wall_jobs(SteadyTime now_s, WallTime now_w) {
        for (auto& [id, j] : by_id) {
            if (j->timer && j->next_wall) set_deadline(*j, now_s + (*j->next_wall - now_w));
        }
    }

    void submit(std::vector<PendingRun>& runs) {
        for (auto& r : runs) {
            Task task;
            task.priority = r.job->priority;
            task.queue = r.job->queue;
            task.run = [this, job = r.job, scheduled = r.scheduled] { run_job(job, scheduled); };
            task.dropped = [this, job = r.job, scheduled = r.scheduled] {
                emit(event(EventKind::dropped, job->name, scheduled));
                log.warn("job '{}': run dropped, backlog full", job->name);
                finish_unstarted(*job);
            };
            const auto result = executor.submit(std::move(task));
            if (result != SubmitResult::accepted) {
                emit(event(EventKind::rejected, r.job->name, r.scheduled));
                log.warn("job '{}': run rejected ({})", r.job->name,
                         result == SubmitResult::stopped ? "executor stopped" : "backlog full");
                finish_unstarted(*r.job);
            }
        }
        runs.clear();
    }

    void finish_unstarted(JobState& j) {
        const std::lock_guard lock(mutex);
        --j.running;
        --inflight;
        idle_cv.notify_all();
    }

    void run_job(const std::shared_ptr<JobState>& jp, WallTime scheduled) {
        JobState& j = *jp;
        std::stop_source stop;
        std::uint64_t run_number = 0;
        {
            const std::lock_guard lock(mutex);
            if (j.removed || cancel_queued) {
                if (cancel_queued) ++dropped_queued;
                --j.running;
                --inflight;
                idle_cv.notify_all();
                return;
            }
            run_number = ++j.run_count;
            j.active.push_back(&stop);
        }
        emit(event(EventKind::started, j.name, scheduled));
        JobContext ctx(j.name, scheduled, stop.get_token(), run_number);
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
        if (outcome == Outcome::failed) log.error("job '{}' failed: {}", j.name, error);
        else log.debug("job '{}' finished in {} us", j.name,
                       std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
        Event finished = event(EventKind::finished, j.name, scheduled);
        finished.outcome = outcome;
        finished.duration = duration;
        finished.error = error;
        emit(finished);
        {
            const std::lock_guard lock(mutex);
            std::erase(j.active, &stop);
            --j.running;
            j.last_outcome = outcome;
            j.last_error = std::move(error);
            if (j.trigger.kind == Trigger::Kind::every_fixed_delay && !j.timer) {
                const auto now_s = clock.steady_now();
                j.next_steady = now_s + j.trigger.period;
                arm(j, now_s, clock.wall_now());
            }
            --inflight;
            idle_cv.notify_all();
        }
    }

    void timer_loop(const std::stop_token& token) {
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

            while (auto fired = timers.pop_due(now_s)) {
                auto it = by_id.find(fired->payload);
                if (it == by_id.end()) continue;
                if (it->second->timer && it->second->timer->slot == fired->handle.slot &&
                    it->second->timer->generation == fired->handle.generation) {
                    on_timer(it->second, now_s, now_w, runs);
                }
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

    std::shared_ptr<JobState> find(std::string_view name) const {
        auto it = by_name.find(std::string(name));
        return it == by_name.end() ? nullptr : it->second;
    }

    JobInfo info_of(const JobState& j) const {
        JobInfo info;
        info.name = j.name;
        info.schedule = j.schedule_text;
        if (j.next_wall) {
            info.next_fire = j.next_wall;
        } else if (j.timer && !j.paused) {
            info.next_fire = clock.wall_now() + std::chrono::duration_cast<milliseconds>(j.next_steady - clock.steady_now());
        }
        info.last_outcome = j.last_outcome;
        info.last_error = j.last_error;
        info.run_count = j.run_count;
        info.misfire_count = j.misfire_count;
        info.paused = j.paused;
        info.running = j.running > 0 && !j.active.empty();
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
    if (impl_->started) return;
    impl_->started = true;
    impl_->last_steady = clock_->steady_now();
    impl_->last_wall = clock_->wall_now();
    for (auto& [id, j] : impl_->by_id) impl_->arm(*j, impl_->last_steady, impl_->last_wall);
    impl_->timer_thread = std::jthread([this](const std::stop_token& token) { impl_->timer_loop(token); });
}

StopReport Scheduler::stop(milliseconds drain_deadline) {
    StopReport report;
    {
        const std::lock_guard lock(impl_->mutex);
        if (impl_->stopping) return report;
        impl_->stopping = true;
        impl_->notify_timer();
    }
    if (impl_->timer_thread.joinable()) impl_->timer_thread.join();
    std::unique_lock lock(impl_->mutex);
    const auto deadline = std::chrono::steady_clock::now() + drain_deadline;
    report.drained = impl_->idle_cv.wait_until(lock, deadline, [&] { return impl_->inflight == 0; });
    if (!report.drained) {
        impl_->cancel_queued = true;
        for (auto& [id, j] : impl_->by_id) {
            if (!j->active.empty()) report.still_running.push_back(j->name);
            for (auto* s : j->active) s->request_stop();
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
    for (const auto& [name, j] : impl_->by_name) out.push_back(impl_->info_of(*j));
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
    auto j = std::make_shared<JobState>();
    j->name = b.name_;
    j->trigger = *b.trigger_;
    j->fn = std::move(fn);
    j->priority = b.priority_;
    j->jitter = b.jitter_;
    j->misfire = b.misfire_.value_or(impl_->options.misfire_);
    if (j->trigger.kind == Trigger::Kind::cron) {
        if (!b.cron_text_.empty()) {
            auto parsed = cron::parse(b.cron_text_, b.cron_format_);
            if (!parsed) throw ScheduleError(fmt::format("job '{}': {}", b.name_, parsed.error().message()));
            j->trigger.schedule = *parsed;
        }
        if (!b.zone_.empty()) {
            const cron::Zone* zone = cron::Zone::find(b.zone_);
            if (zone == nullptr) throw ScheduleError(fmt::format("job '{}': unknown time zone \"{}\"", b.name_, b.zone_));
            j->trigger.schedule = j->trigger.schedule->in_zone(*zone);
        }
        j->schedule_text = b.cron_text_.empty() ? j->trigger.schedule->to_string() : b.cron_text_;
    } else if (!b.zone_.empty()) {
        throw ScheduleError(fmt::format("job '{}': in_zone() applies to cron jobs only", b.name_));
    }
    switch (j->trigger.kind) {
        case Trigger::Kind::cron: break;
        case Trigger::Kind::every_fixed_rate: j->schedule_text = "every " + describe_period(j->trigger.period); break;
        case Trigger::Kind::every_fixed_delay:
            j->schedule_text = "every " + describe_period(j->trigger.period) + " (fixed delay)";
            break;
        case Trigger::Kind::after: j->schedule_text = "after " + describe_period(j->trigger.period); break;
        case Trigger::Kind::at: j->schedule_text = "at " + cron::to_rfc3339(j->trigger.at, cron::Zone::utc()); break;
    }
    if ((j->trigger.kind == Trigger::Kind::every_fixed_rate || j->trigger.kind == Trigger::Kind::every_fixed_delay) &&
        j->trigger.period <= milliseconds{0})
        throw ScheduleError(fmt::format("job '{}': every() needs a positive period", b.name_));

    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) throw ScheduleError(fmt::format("job '{}': the scheduler is stopping", b.name_));
    if (impl_->by_name.count(j->name) != 0) throw ScheduleError(fmt::format("a job named '{}' already exists", j->name));
    j->queue = impl_->queue_id(b.queue_);
    j->id = impl_->next_id++;
    impl_->by_name[j->name] = j;
    impl_->by_id[j->id] = j;
    impl_->arm(*j, clock_->steady_now(), clock_->wall_now());
    return JobHandle(this, j->name);
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
    j->next_wall.reset();
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
    if (j->trigger.kind == Trigger::Kind::cron) j->last_fire = now_w;
    if (j->trigger.kind == Trigger::Kind::every_fixed_rate || j->trigger.kind == Trigger::Kind::every_fixed_delay)
        j->next_steady = now_s + j->trigger.period;
    if (!j->timer) impl.arm(*j, now_s, now_w);
    return true;
}

bool JobHandle::remove() {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    const std::lock_guard lock(impl.mutex);
    auto j = impl.find(name_);
    if (!j) return false;
    j->removed = true;
    impl.disarm(*j);
    for (auto* s : j->active) s->request_stop();
    impl.by_name.erase(j->name);
    impl.by_id.erase(j->id);
    impl.idle_cv.notify_all();
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
        impl.queue_run(j, impl.clock.wall_now(), runs);
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
    const cron::Zone* zone = j->trigger.schedule ? &j->trigger.schedule->zone() : nullptr;
    j->trigger = Trigger{Trigger::Kind::cron, zone ? parsed->in_zone(*zone) : *parsed, milliseconds{0}, WallTime{}};
    j->schedule_text = std::string(expression);
    j->done = false;
    impl.disarm(*j);
    j->next_wall.reset();
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
    j->trigger = Trigger{Trigger::Kind::every_fixed_rate, std::nullopt, period, WallTime{}};
    j->schedule_text = "every " + describe_period(period);
    j->done = false;
    impl.disarm(*j);
    j->next_wall.reset();
    const auto now_s = impl.clock.steady_now();
    j->next_steady = now_s + period;
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
