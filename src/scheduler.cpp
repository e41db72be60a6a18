// The facade: Scheduler's lifecycle (start / stop), registry queries, named
// breakers and rate limiters. The parts live in src/scheduler/ (impl.hpp
// lists which file does what).

#include "txflow/scheduler.hpp"

#include "scheduler/impl.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace txflow {

using std::chrono::milliseconds;

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
    {
        const std::lock_guard lock(impl_->mutex);
        if (impl_->started || impl_->stopping) return;
    }
    start_locked();
    impl_->engine.on_start();  // runs sagas started earlier and recovered ones
    impl_->atomics.on_start();
    impl_->ensure_saga_purge();
}

void Scheduler::start_locked() {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->started || impl_->stopping) return;
    impl_->started = true;
    impl_->last_steady = clock_->steady_now();
    impl_->last_wall = clock_->wall_now();
    impl_->by_name.for_each([&](JobState* j) { impl_->arm(*j, impl_->last_steady, impl_->last_wall); });
    impl_->timer_thread = std::jthread([this](const std::stop_token& token) { impl_->timer_loop(token); });
}

StopReport Scheduler::stop(milliseconds drain_deadline) {
    Impl& im = *impl_;
    StopReport report;
    const auto deadline = std::chrono::steady_clock::now() + drain_deadline;
    std::jthread timer_thread;
    {
        const std::lock_guard lock(im.mutex);
        if (im.stopping) return report;
        im.stopping = true;
        im.notify_timer();
        // Taken under the mutex: start() writes it under the mutex too.
        timer_thread = std::move(im.timer_thread);
    }
    std::unique_lock lock(im.mutex);
    if (timer_thread.joinable()) {
        // The timer thread ends at once, unless it waits in a submit under
        // OverflowPolicy::block: at the deadline the executor stops taking
        // tasks, which releases it.
        if (!im.idle_cv.wait_until(lock, deadline, [&] { return im.timer_exited; })) {
            lock.unlock();
            im.executor.request_shutdown();
            lock.lock();
        }
        lock.unlock();
        timer_thread.join();
        lock.lock();
    }
    report.drained = im.idle_cv.wait_until(lock, deadline, [&] { return im.inflight == 0; });
    if (!report.drained) {
        lock.unlock();
        im.engine.on_stop();  // sagas stop at the next step; a durable store resumes them
        im.atomics.on_stop();
        lock.lock();
        im.cancel_queued = true;
        report.dropped_queued = im.queued_runs;  // each returns at once when a worker takes it
        std::vector<std::string> asked = im.running_job_names();
        for (ActiveRun* r = im.active_runs; r != nullptr; r = r->next) r->stop->request_stop();
        (void)im.idle_cv.wait_for(lock, im.options.stop_grace_, [&] { return im.inflight == 0; });
        report.still_running = im.running_job_names();
        for (auto& name : asked) {
            if (std::find(report.still_running.begin(), report.still_running.end(), name) == report.still_running.end())
                report.stopped_on_request.push_back(std::move(name));
        }
        for (const auto& name : report.still_running)
            logger_->warn("stop: job '{}' still running {} ms after the stop request; left running", name,
                          im.options.stop_grace_.count());
    }
    // Retries waiting on the timer will not fire any more.
    const auto dead = im.drop_retries(nullptr);
    const bool idle = im.inflight == 0;
    lock.unlock();
    for (JobState* j : dead) JobState::destroy(j);
    im.engine.on_stop();
    im.atomics.on_stop();
    // Joining would wait for whatever still runs; the destructor does that.
    if (idle) im.executor.shutdown();
    else im.executor.request_shutdown();
    return report;
}

std::size_t Scheduler::stuck_workers() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->stuck;
}

std::shared_ptr<CircuitBreaker> Scheduler::breaker(std::string_view name, const BreakerOptions& options) {
    const bool existed = impl_->breakers.find(name) != nullptr;
    auto b = impl_->breakers.get(name, options);
    if (!existed) {
        // State changes are events; the breaker calls this outside its own lock.
        b->on_state_change([impl = impl_.get()](std::string_view breaker, BreakerState from, BreakerState to) {
            const std::string detail = fmt::format("{}->{}", to_string(from), to_string(to));
            impl->log.warn("circuit breaker '{}': {}", breaker, detail);
            Event e = event(EventKind::breaker, breaker, impl->clock.wall_now());
            e.detail = detail;
            impl->emit(e);
        });
    }
    return b;
}

std::shared_ptr<CircuitBreaker> Scheduler::breaker(std::string_view name) const {
    return impl_->breakers.find(name);
}

std::shared_ptr<TokenBucket> Scheduler::rate_limiter(std::string_view name, double per_second, double burst) {
    const std::lock_guard lock(impl_->mutex);
    auto& bucket = impl_->rate_limiters[std::string(name)];
    if (!bucket) bucket = std::make_shared<TokenBucket>(per_second, burst, *clock_);
    return bucket;
}

void Scheduler::wait_idle() {
    std::unique_lock lock(impl_->mutex);
    impl_->idle_cv.wait(lock, [&] { return impl_->idle_now(); });
}

std::optional<SteadyTime> Scheduler::next_due() const {
    const std::lock_guard lock(impl_->mutex);
    const auto due = impl_->timers.next_due();
    const auto aux_due = impl_->aux_timers.next_due();
    if (!due) return aux_due;
    if (!aux_due) return due;
    return std::min(*due, *aux_due);
}

std::vector<JobInfo> Scheduler::jobs() const {
    const std::lock_guard lock(impl_->mutex);
    std::vector<JobInfo> out;
    out.reserve(impl_->by_name.size());
    impl_->by_name.for_each([&](const JobState* j) { out.push_back(impl_->info_of(*j)); });
    std::sort(out.begin(), out.end(), [](const JobInfo& a, const JobInfo& b) { return a.name < b.name; });
    return out;
}

std::optional<JobHandle> Scheduler::find(std::string_view name) {
    const std::lock_guard lock(impl_->mutex);
    if (!impl_->find(name)) return std::nullopt;
    return JobHandle(this, std::string(name));
}
}  // namespace txflow
