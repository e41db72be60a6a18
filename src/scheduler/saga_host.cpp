// The saga host, and the scheduler's saga API.

#include "scheduler/impl.hpp"
#include "scheduler/job_definition.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace txflow {

using std::chrono::milliseconds;

Clock& SagaHost::clock() {
    return impl_.clock;
}

spdlog::logger& SagaHost::log() {
    return impl_.log;
}

bool SagaHost::submit(Priority priority, std::string_view queue, std::function<void()> fn) {
    QueueId id = kDefaultQueue;
    {
        const std::lock_guard lock(impl_.mutex);
        if (impl_.cancel_queued) return false;
        id = impl_.queue_id(std::string(queue));
        ++impl_.inflight;
    }
    Task task;
    task.priority = priority;
    task.queue = id;
    task.run = [this, fn = std::move(fn)] {
        // The executor swallows what a task throws: say it, and keep
        // the count (or wait_idle() and stop()'s drain wait forever).
        try {
            fn();
        } catch (const std::exception& e) {
            impl_.log.critical("a saga task threw (a bug in txflow): {}", e.what());
        } catch (...) {
            impl_.log.critical("a saga task threw (a bug in txflow): unknown exception");
        }
        done();
    };
    task.dropped = [this] { done(); };
    if (impl_.executor.submit(std::move(task)) != SubmitResult::accepted) {
        done();
        return false;
    }
    return true;
}

std::uint64_t SagaHost::call_at(SteadyTime due, std::function<void()> fn) {
    const std::lock_guard lock(impl_.mutex);
    auto cb = std::make_unique<CallbackTimer>();
    cb->id = impl_.next_callback++;
    cb->fn = std::move(fn);
    cb->timer.callback = cb.get();
    impl_.arm_aux(cb->timer, due);
    const auto id = cb->id;
    impl_.callbacks.emplace(id, std::move(cb));
    return id;
}

void SagaHost::cancel_call(std::uint64_t id) {
    std::unique_ptr<CallbackTimer> gone;  // destroyed unlocked
    const std::lock_guard lock(impl_.mutex);
    auto it = impl_.callbacks.find(id);
    if (it == impl_.callbacks.end()) return;
    impl_.disarm_aux(it->second->timer);
    gone = std::move(it->second);
    impl_.callbacks.erase(it);
}

bool SagaHost::has_listeners() const {
    return !impl_.options.listeners_.empty() || impl_.metrics != nullptr;
}

void SagaHost::emit(const Event& event) {
    Event e = event;
    if (e.fire_time == WallTime{}) e.fire_time = impl_.clock.wall_now();
    impl_.emit(e);
}

observe::Tracer* SagaHost::tracer() {
    return impl_.options.tracer_.get();
}

std::uint64_t SagaHost::seed() {
    return impl_.options.seed_;
}

std::size_t SagaHost::recovery_concurrency() {
    const std::size_t chosen = impl_.options.saga_recovery_workers_;
    return chosen != 0 ? chosen : std::max<std::size_t>(1, impl_.executor.workers() / 2);
}

void SagaHost::done() {
    const std::lock_guard lock(impl_.mutex);
    --impl_.inflight;
    impl_.idle_cv.notify_all();
}

// Finished sagas are forgotten after the retention, checked every minute
// (or every retention, if shorter) on a worker, at low priority.
void Scheduler::Impl::arm_saga_purge() {
    const auto every =
        std::min({options.saga_retention_, options.atomic_retention_, milliseconds(std::chrono::minutes(1))});
    saga_host.call_at(clock.steady_now() + std::max(every, milliseconds(1)), [this] {
        saga_host.submit(Priority::low, {}, [this] {
            engine.purge(clock.wall_now() - options.saga_retention_);
            atomics.purge(clock.wall_now() - options.atomic_retention_);  // finished transactions, too
        });
        saga_purge_armed = false;
        ensure_saga_purge();
    });
}

// A saga started after the emptiness check below finds the flag cleared and
// arms the tick itself (start_saga calls this too), so none goes unpurged.
void Scheduler::Impl::ensure_saga_purge() {
    if (engine.empty() && atomics.empty()) return;
    if (!saga_purge_armed.exchange(true)) arm_saga_purge();
}
// A saga was started: once the scheduler runs, finished sagas get purged.
void Scheduler::Impl::saga_started() {
    bool running = false;
    {
        const std::lock_guard lock(mutex);
        running = started && !stopping;
    }
    if (running) ensure_saga_purge();
}

// ---------------------------------------------------------------- sagas

SagaHandle Scheduler::start_saga(const SagaRef& saga, nlohmann::json input, std::string idempotency_key,
                                 const observe::TraceContext* parent) {
    auto started = impl_->engine.start(saga, std::move(input), std::move(idempotency_key), parent);
    if (started.created) impl_->saga_started();
    return SagaHandle(this, std::move(started.id), started.created);
}

void Scheduler::register_saga(const SagaRef& saga) {
    if (!saga) throw std::invalid_argument("register_saga: no saga definition");
    impl_->engine.register_definition(saga);
}

std::optional<saga::Info> Scheduler::saga(std::string_view id) const {
    return impl_->engine.info(id);
}

std::vector<saga::Info> Scheduler::sagas(std::optional<saga::State> state) const {
    return impl_->engine.list(state);
}

bool Scheduler::retry_compensation(std::string_view id) {
    return impl_->engine.retry_compensation(id);
}

bool Scheduler::resolve_compensation(std::string_view id, std::string note) {
    return impl_->engine.resolve_compensation(id, std::move(note));
}

bool Scheduler::cancel_saga(std::string_view id, std::string reason) {
    return impl_->engine.cancel(id, std::move(reason));
}

std::size_t Scheduler::purge_sagas() {
    return impl_->engine.purge(clock_->wall_now() - impl_->options.saga_retention_);
}

std::optional<saga::Info> Scheduler::wait_saga(std::string_view id, milliseconds timeout) const {
    return impl_->engine.wait(id, timeout);
}

std::optional<saga::Info> SagaHandle::info() const {
    return scheduler_ ? scheduler_->saga(id_) : std::nullopt;
}

std::optional<saga::Info> SagaHandle::wait(milliseconds timeout) const {
    return scheduler_ ? scheduler_->wait_saga(id_, timeout) : std::nullopt;
}

// ---------------------------------------------------------------- atomic transactions

std::string Scheduler::start_atomic(const AtomicRef& txn, nlohmann::json input, std::string idempotency_key) {
    auto started = impl_->atomics.start(txn, std::move(input), std::move(idempotency_key));
    if (started.created && !impl_->saga_purge_armed.load(std::memory_order_relaxed)) {  // the retention tick
        bool running = false;
        {
            const std::lock_guard lock(impl_->mutex);
            running = impl_->started && !impl_->stopping;
        }
        if (running) impl_->ensure_saga_purge();
    }
    return std::move(started.id);
}

std::size_t Scheduler::purge_transactions() {
    return impl_->atomics.purge(clock_->wall_now() - impl_->options.atomic_retention_);
}

void Scheduler::register_atomic(const AtomicRef& txn) {
    impl_->atomics.register_definition(txn);
}

std::optional<atomic::Info> Scheduler::transaction(std::string_view id) const {
    return impl_->atomics.info(id);
}

std::vector<atomic::Info> Scheduler::transactions(std::optional<atomic::State> state) const {
    return impl_->atomics.list(state);
}

std::optional<atomic::Info> Scheduler::wait_transaction(std::string_view id, milliseconds timeout) const {
    return impl_->atomics.wait(id, timeout);
}

namespace {
// One saga per fire: a retry or a resumed run finds the same instance.
std::string saga_key(const JobContext& ctx) {
    return fmt::format("{}@{}", ctx.job_name(), cron::to_rfc3339(ctx.scheduled_time(), cron::Zone::utc()));
}
}  // namespace

JobHandle JobBuilder::run(const SagaRef& saga, nlohmann::json input) {
    if (!saga) throw ScheduleError(fmt::format("job '{}': no saga definition", def_->name_));
    scheduler_.register_saga(saga);
    Scheduler* s = &scheduler_;
    if (def_->preemptible_) {
        // The run's worker drives the saga, so it can yield between steps
        // (docs/preemption.md); the run that comes back goes on at the next step.
        Scheduler::Impl* impl = s->impl_.get();
        return run([impl, saga, input = std::move(input)](JobContext& ctx) {
            (void)impl->engine.run_here(
                saga, input, saga_key(ctx), [&ctx] { return ctx.preempted(); }, ctx.trace());
            impl->saga_started();
        });
    }
    // The saga continues the run's trace (a child of the attempt's span), recorded with it.
    return run([s, saga, input = std::move(input)](JobContext& ctx) {
        s->start_saga(saga, input, saga_key(ctx), ctx.trace());
    });
}
}  // namespace txflow
