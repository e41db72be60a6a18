// JobHandle: a job's remote control.

#include "scheduler/impl.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace txflow {

using std::chrono::milliseconds;

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
    if (j->kind == Trigger::Kind::cron) j->cron()->last_fire = now_w;
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
        for (JobState* gone : impl.drop_retries(j)) dead = gone;
        if (j->pending == 0) dead = j;  // otherwise the last run destroys it
        impl.idle_cv.notify_all();
    }
    JobState::destroy(dead);
    return true;
}

bool JobHandle::trigger_now() {
    return trigger(nullptr);
}

bool JobHandle::trigger_now(const observe::TraceContext& parent) {
    return trigger(std::make_shared<const observe::TraceContext>(parent));
}

bool JobHandle::trigger(std::shared_ptr<const observe::TraceContext> parent) {
    if (scheduler_ == nullptr) return false;
    auto& impl = *scheduler_->impl_;
    std::vector<PendingRun> runs;
    {
        const std::lock_guard lock(impl.mutex);
        auto j = impl.find(name_);
        if (!j || impl.stopping) return false;
        impl.queue_run(*j, impl.clock.wall_now(), runs, false, std::move(parent));
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
    const cron::Zone* zone = j->cron() ? &j->cron()->schedule.zone() : nullptr;
    std::optional<JobState::CronTrigger> cron_trigger(JobState::CronTrigger{
        zone ? parsed->in_zone(*zone) : *parsed, std::string(expression), std::nullopt, std::nullopt});
    (void)j->extra_state();  // the one allocation, before anything changes
    impl.disarm(*j);
    j->kind = Trigger::Kind::cron;
    j->set_cron(std::move(cron_trigger));
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
    j->set_cron(std::nullopt);
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
